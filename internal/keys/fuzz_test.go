package keys_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/keys"
)

// FuzzPeekIssuer: the unverified issuer peek never panics on any input.
func FuzzPeekIssuer(f *testing.F) {
	for _, s := range []string{"a.eyJpc3MiOiJ4In0.b", "..", "x", "a.b.c.d", "a.!!.c", "eyJ9.eyJpc3MiOjF9.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iss, err := keys.PeekIssuer(s)
		if err == nil && iss == "" {
			t.Fatalf("PeekIssuer(%q) returned no issuer and no error", s)
		}
	})
}

// FuzzVerify: of every string, only the exact tokens tokend signed verify;
// any other spelling of them (a flipped unused bit, padding, a re-encoded
// header) is refused.
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	st := newStore(f)
	mgr := newManager(f, st, master(f))
	signed := map[string]bool{}
	var tenants []string
	for _, alg := range []string{keys.ES256, keys.EdDSA, keys.RS256, keys.HS256} {
		ten := strings.ToLower(alg)
		addTenant(f, st, ten)
		if err := mgr.Ensure(ctx, ten, alg); err != nil {
			f.Fatal(err)
		}
		raw, err := mgr.Sign(ctx, ten, claimsFor(ten, time.Hour))
		if err != nil {
			f.Fatal(err)
		}
		signed[raw], tenants = true, append(tenants, ten)
		f.Add(raw)
		f.Add(apptest.FlipLastBit(raw))
		f.Add(raw + "=")
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ten := range tenants {
			if _, err := mgr.Verify(ctx, ten, s); err == nil && !signed[s] {
				t.Fatalf("Verify(%s, %q) accepted a token tokend did not sign", ten, s)
			}
		}
	})
}
