package mint

import (
	"testing"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// TestExpiryLimitsNamed: a refused expiry or lifetime names the bound it
// broke and the value asked for (fault.Limit), so that a surface can say
// it in its own words; a non-positive value names none.
func TestExpiryLimitsNamed(t *testing.T) {
	t.Parallel()
	pol := store.Policy{AccessTTL: 600, MaxAccessTTL: 3600, Lifetime: 1800, MaxLifetime: 7200}
	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name                string
		expiresIn, lifetime *int64
		limit               string
		value, got          int64
	}{
		{"expiry beyond max_access_ttl", n(3601), nil, "max_access_ttl", 3600, 3601},
		{"lifetime beyond max_lifetime", nil, n(7201), "max_lifetime", 7200, 7201},
		{"expiry beyond the lifetime", n(200), n(100), "lifetime", 100, 200},
		{"default expiry beyond the lifetime", nil, n(300), "lifetime", 300, 600},
		{"zero expiry", n(0), nil, "", 0, 0},
	} {
		_, _, err := expiryAndLifetime(pol, tc.expiresIn, tc.lifetime, false)
		f := fault.As(err)
		switch {
		case f == nil:
			t.Errorf("%s: accepted", tc.name)
		case tc.limit == "" && f.Limit != nil:
			t.Errorf("%s: limit %+v, want none", tc.name, f.Limit)
		case tc.limit != "" && (f.Limit == nil || *f.Limit != fault.Limit{Name: tc.limit, Value: tc.value, Got: tc.got}):
			t.Errorf("%s: limit %+v, want %s %d (got %d)", tc.name, f.Limit, tc.limit, tc.value, tc.got)
		}
	}
}
