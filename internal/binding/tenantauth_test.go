package binding_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/binding"
)

func TestTenantAuthSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw   string
		field string
	}{
		{`{}`, ""},
		{`{"token_lifetime":3600,"issuer":"me","audience":"api","admin_role":"owner","oidc_required_claims":["sub","email"],"clients":{"c":{"project_id":"p","no_secret":true}}}`, ""},
		{`{"token_lifetime":-1}`, "token_lifetime"},
		{`{"token_lifetime":2592001}`, "token_lifetime"},
		{`{"clients":{"c":{}}}`, "clients"},
		{`{"oidc_required_claims":[""]}`, "oidc_required_claims"},
		{`{"jwt_secret":"x"}`, "settings"},
	} {
		_, p, err := binding.Decode(binding.TenantAuthName, json.RawMessage(tc.raw))
		if err != nil {
			t.Fatal(err)
		}
		if tc.field == "" && len(p) != 0 || tc.field != "" && p[tc.field] == "" {
			t.Errorf("%s: problems %v, want one for %q", tc.raw, p, tc.field)
		}
	}
	s, _, _ := binding.Decode(binding.TenantAuthName, json.RawMessage(`{}`))
	ta := s.(*binding.TenantAuth)
	if ta.Lifetime() != 24*time.Hour || ta.Iss() != "authsec-ai/auth-manager" || ta.Aud() != "authsec-api" || ta.Admin() != "admin" ||
		ta.OIDCRequired() != nil || ta.LookupKey() != "" {
		t.Fatalf("defaults: %v %q %q %q %v", ta.Lifetime(), ta.Iss(), ta.Aud(), ta.Admin(), ta.OIDCRequired())
	}
}
