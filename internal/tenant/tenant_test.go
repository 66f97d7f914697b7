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
