package app_test

import (
	"fmt"
	"testing"
)

// TestDiscoveryFollowsTenantPolicy: grant_types_supported lists only what
// the tenant allows (RFC 8414 §2).
func TestDiscoveryFollowsTenantPolicy(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		want(t, s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "closed"}), 201)
		want(t, s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "open", "policy": map[string]any{"password_grant": true}}), 201)
		grants := func(path string) string {
			t.Helper()
			return fmt.Sprint(want(t, s.call(t, "GET", path, "", nil), 200).Body["grant_types_supported"])
		}
		for _, p := range []string{"/t/%s/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/t/%s"} {
			if g := grants(fmt.Sprintf(p, "closed")); g != "[client_credentials urn:ietf:params:oauth:grant-type:jwt-bearer urn:ietf:params:oauth:grant-type:token-exchange]" {
				t.Fatalf("%s: a tenant without the password grant advertises %s", p, g)
			}
			if g := grants(fmt.Sprintf(p, "open")); g != "[client_credentials password refresh_token urn:ietf:params:oauth:grant-type:jwt-bearer urn:ietf:params:oauth:grant-type:token-exchange]" {
				t.Fatalf("%s: a tenant with the password grant advertises %s", p, g)
			}
		}
		want(t, s.call(t, "PATCH", "/v1/tenants/open", s.Admin, map[string]any{"policy": map[string]any{}}), 200)
		if g := grants("/t/open/.well-known/openid-configuration"); g != "[client_credentials urn:ietf:params:oauth:grant-type:jwt-bearer urn:ietf:params:oauth:grant-type:token-exchange]" {
			t.Fatalf("after turning the password grant off: %s", g)
		}
	})
}
