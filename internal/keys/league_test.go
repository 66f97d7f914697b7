package keys_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/keys"
)

// A league-profile token carries {"typ":"JWT","alg":"RS256"} exactly, no
// kid, and verifies with the tenant's keys of that algorithm only, after a
// rotation too.
func TestSignLeague(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	mgr := newManager(t, st, master(t))
	addTenant(t, st, "league")
	addTenant(t, st, "other")
	for _, ten := range []string{"league", "other"} {
		if err := mgr.Ensure(ctx, ten, keys.RS256); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := mgr.SignLeague(ctx, "league", claimsFor("league", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9."; !strings.HasPrefix(raw, want) {
		t.Fatalf("header = %q, want prefix %q", strings.Split(raw, ".")[0], want)
	}
	if c, err := mgr.Verify(ctx, "league", raw); err != nil || c.Subject != "svc" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	// Another tenant's keys do not verify it (its issuer differs too:
	// sign one with the other tenant's issuer to isolate the key check).
	forged, err := mgr.SignLeague(ctx, "other", claimsFor("league", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Verify(ctx, "league", forged); err == nil {
		t.Fatal("a token signed with another tenant's key verified")
	}
	if _, err := mgr.Rotate(ctx, "league", keys.RS256, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Verify(ctx, "league", raw); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	// typ JWT with a kid is checked by that kid as usual; an ES256 tenant
	// has no key for an RS256 header.
	addTenant(t, st, "ec")
	if err := mgr.Ensure(ctx, "ec", keys.ES256); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Verify(ctx, "ec", forged); err == nil {
		t.Fatal("an RS256 league token verified on an ES256 tenant")
	}
}
