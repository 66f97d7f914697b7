package app_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestClientGrantTypesServed: the admin API allows a client only the grant
// types the token endpoint serves; any other is refused with 422 naming
// grant_types, on create and on update, and changes nothing. A client may
// not take its tenant's id either.
func TestClientGrantTypesServed(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		adm := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "acme"}), 201)
		for _, tc := range []struct {
			name      string
			grantType string
		}{
			{name: "authorization code", grantType: "authorization_code"},
			{name: "device code", grantType: "urn:ietf:params:oauth:grant-type:device_code"},
			{name: "saml2 bearer", grantType: "urn:ietf:params:oauth:grant-type:saml2-bearer"},
		} {
			bad := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "x", "grant_types": []string{"client_credentials", tc.grantType}}), 422)
			if bad.str("field") != "grant_types" || !strings.Contains(bad.str("error_description"), tc.grantType) {
				t.Fatalf("%s on create: %s", tc.name, bad.Raw)
			}
			want(t, s.call(t, "GET", "/v1/tenants/acme/clients/x", adm, nil), 404)
		}
		// The tenant's id is the client_id of the tokens no client mints.
		if bad := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "acme"}), 422); bad.str("field") != "id" {
			t.Fatalf("a client named like its tenant: %s", bad.Raw)
		}
		sec := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "svc", "grant_types": []string{"client_credentials", "password", "refresh_token"}}), 201).str("client_secret")
		bad := want(t, s.call(t, "PATCH", "/v1/tenants/acme/clients/svc", adm, map[string]any{"grant_types": []string{"authorization_code"}}), 422)
		if bad.str("field") != "grant_types" {
			t.Fatalf("on update: %s", bad.Raw)
		}
		c := want(t, s.call(t, "GET", "/v1/tenants/acme/clients/svc", adm, nil), 200)
		if got := c.Body["grant_types"].([]any); len(got) != 3 {
			t.Fatalf("grant types after a refused update: %v", got)
		}
		// Every grant type the admin API accepts, the token endpoint serves.
		want(t, oauthTenant{s: s, ten: "acme"}.form(t, "token", "svc", sec, url.Values{"grant_type": {"client_credentials"}}), 200)
	})
}
