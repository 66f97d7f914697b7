package tenant

import (
	"testing"

	"github.com/tokend/tokend/internal/store"
)

func TestIssuer(t *testing.T) {
	t.Parallel()
	if got := Issuer("http://x:1/", "acme"); got != "http://x:1/t/acme" {
		t.Fatal(got)
	}
}

func TestEffective(t *testing.T) {
	t.Parallel()
	e := Effective(store.Policy{})
	if e.SigningAlg != "ES256" || e.AccessTTL != DefaultAccessTTL || e.Format != "jwt" {
		t.Fatalf("defaults: %+v", e)
	}
	e = Effective(store.Policy{MaxAccessTTL: 100, PasswordGrant: true}, store.Policy{MaxAccessTTL: 500, AccessTTL: 60})
	if e.MaxAccessTTL != 100 || e.AccessTTL != 60 || e.PasswordGrant {
		t.Fatalf("override: %+v", e)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		p     store.Policy
		field string
	}{
		{"ok", store.Policy{}, ""},
		{"alg", store.Policy{SigningAlg: "none"}, "signing_alg"},
		{"negative", store.Policy{AccessTTL: -1}, "access_ttl"},
		{"over max", store.Policy{AccessTTL: 10, MaxAccessTTL: 5}, "access_ttl"},
		{"format", store.Policy{Format: "xml"}, "format"},
	}
	for _, c := range cases {
		bad := Validate(c.p)
		if c.field == "" && len(bad) != 0 || c.field != "" && bad[c.field] == "" {
			t.Errorf("%s: %v", c.name, bad)
		}
	}
}

// TestClientPolicyWithinTenant: a client's policy may tighten the
// tenant's, never loosen it; what it asks beyond the tenant's maxima is
// clamped by Effective and reported by Within.
func TestClientPolicyWithinTenant(t *testing.T) {
	t.Parallel()
	ten := store.Policy{AccessTTL: 300, MaxAccessTTL: 600, MaxLifetime: 3600, RefreshTTL: 7200, TokenLimit: 3}
	loose := store.Policy{AccessTTL: 86400, MaxAccessTTL: 86400, Lifetime: 604800, MaxLifetime: 604800, RefreshTTL: 30 * 86400, TokenLimit: 10}
	e := Effective(ten, loose)
	if e.AccessTTL != 600 || e.MaxAccessTTL != 600 || e.Lifetime != 3600 || e.MaxLifetime != 3600 || e.RefreshTTL != 7200 || e.TokenLimit != 3 {
		t.Fatalf("a client policy loosened the tenant's: %+v", e)
	}
	bad := Within(ten, loose)
	for _, f := range []string{"access_ttl", "max_access_ttl", "lifetime", "max_lifetime", "refresh_ttl", "token_limit"} {
		if bad[f] == "" {
			t.Errorf("Within did not report %s: %v", f, bad)
		}
	}
	tight := store.Policy{AccessTTL: 60, MaxAccessTTL: 120, Lifetime: 600, RefreshTTL: 3600, TokenLimit: 1}
	if bad := Within(ten, tight); len(bad) != 0 {
		t.Fatalf("a tighter policy reported: %v", bad)
	}
	if e := Effective(ten, tight); e.AccessTTL != 60 || e.MaxAccessTTL != 120 || e.RefreshTTL != 3600 || e.TokenLimit != 1 {
		t.Fatalf("tightened: %+v", e)
	}
	// An unset tenant maximum is its default, and binds the client too.
	if e := Effective(store.Policy{}, store.Policy{MaxAccessTTL: 10 * DefaultMaxAccessTTL, AccessTTL: 2 * DefaultMaxAccessTTL}); e.MaxAccessTTL != DefaultMaxAccessTTL || e.AccessTTL != DefaultMaxAccessTTL {
		t.Fatalf("beyond the default maximum: %+v", e)
	}
}
