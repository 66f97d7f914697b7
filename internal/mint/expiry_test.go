package mint

import (
	"testing"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// TestExpiryAndLifetime: seed 004's rules for a minted token's expiry and
// lifetime — defaults from the policy, each bounded by its maximum, the
// expiry never beyond the lifetime, eternal only where allowed.
func TestExpiryAndLifetime(t *testing.T) {
	t.Parallel()
	pol := store.Policy{AccessTTL: 600, MaxAccessTTL: 3600, Lifetime: 1800, MaxLifetime: 7200}
	eternal := pol
	eternal.AllowEternal = true
	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name      string
		policy    store.Policy
		expiresIn *int64
		lifetime  *int64
		eternal   bool
		wantTTL   time.Duration
		wantLife  time.Duration
		wantField string // the refused parameter; "" when accepted
	}{
		{name: "defaults", policy: pol, wantTTL: 600 * time.Second, wantLife: 1800 * time.Second},
		{name: "an expiry within the default lifetime", policy: pol, expiresIn: n(900), wantTTL: 900 * time.Second, wantLife: 1800 * time.Second},
		{name: "a longer expiry stretches the default lifetime", policy: pol, expiresIn: n(3000), wantTTL: 3000 * time.Second, wantLife: 3000 * time.Second},
		{name: "both given", policy: pol, expiresIn: n(60), lifetime: n(120), wantTTL: 60 * time.Second, wantLife: 120 * time.Second},
		{name: "expiry equal to lifetime", policy: pol, expiresIn: n(120), lifetime: n(120), wantTTL: 120 * time.Second, wantLife: 120 * time.Second},
		{name: "a lifetime shorter than the default expiry", policy: pol, lifetime: n(300), wantField: "expires_in"},
		{name: "expiry beyond an explicit lifetime", policy: pol, expiresIn: n(200), lifetime: n(100), wantField: "expires_in"},
		{name: "expiry at max_access_ttl", policy: pol, expiresIn: n(3600), wantTTL: 3600 * time.Second, wantLife: 3600 * time.Second},
		{name: "expiry beyond max_access_ttl", policy: pol, expiresIn: n(3601), wantField: "expires_in"},
		{name: "lifetime at max_lifetime", policy: pol, lifetime: n(7200), wantTTL: 600 * time.Second, wantLife: 7200 * time.Second},
		{name: "lifetime beyond max_lifetime", policy: pol, lifetime: n(7201), wantField: "lifetime"},
		{name: "a stretched lifetime beyond max_lifetime", policy: store.Policy{AccessTTL: 60, MaxAccessTTL: 3600, Lifetime: 60, MaxLifetime: 600}, expiresIn: n(1200), wantField: "expires_in"},
		{name: "zero expiry", policy: pol, expiresIn: n(0), wantField: "expires_in"},
		{name: "negative expiry", policy: pol, expiresIn: n(-1), wantField: "expires_in"},
		{name: "zero lifetime", policy: pol, lifetime: n(0), wantField: "lifetime"},
		{name: "eternal where allowed", policy: eternal, eternal: true},
		{name: "eternal where not allowed", policy: pol, eternal: true, wantField: "eternal"},
		{name: "eternal with an expiry", policy: eternal, eternal: true, expiresIn: n(60), wantField: "eternal"},
		{name: "eternal with a lifetime", policy: eternal, eternal: true, lifetime: n(60), wantField: "eternal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ttl, life, err := expiryAndLifetime(tc.policy, tc.expiresIn, tc.lifetime, tc.eternal)
			if tc.wantField != "" {
				f := fault.As(err)
				if f == nil || f.Code != fault.CodeValidation || f.Field != tc.wantField {
					t.Fatalf("err %v, want one naming %s", err, tc.wantField)
				}
				return
			}
			if err != nil || ttl != tc.wantTTL || life != tc.wantLife {
				t.Fatalf("= %v, %v, %v; want %v, %v", ttl, life, err, tc.wantTTL, tc.wantLife)
			}
		})
	}
}
