package app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestClientPolicyWithinTenantCaps: a client's policy may tighten the
// tenant's, never loosen it. The admin API refuses a looser one, and
// tokens are clamped to the tenant's maxima at issue time (for a client
// whose policy was set before the tenant tightened its own).
func TestClientPolicyWithinTenantCaps(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		a := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": "caps",
			"policy": map[string]any{"access_ttl": 300, "max_access_ttl": 600, "refresh_ttl": 3600}}), 201)
		client := func(id string, policy map[string]any) response {
			return s.call(t, "POST", "/v1/tenants/caps/clients", a, map[string]any{"id": id,
				"grant_types": []string{"client_credentials"}, "scopes": []string{"read"}, "policy": policy})
		}
		for _, tc := range []struct {
			policy map[string]any
			field  string
			msg    string
		}{
			{map[string]any{"access_ttl": 86400}, "policy.access_ttl", "max_access_ttl (600)"},
			{map[string]any{"max_access_ttl": 86400}, "policy.max_access_ttl", "max_access_ttl (600)"},
			{map[string]any{"refresh_ttl": 86400}, "policy.refresh_ttl", "refresh_ttl (3600)"},
		} {
			if r := client("loose", tc.policy); r.Status != 422 || r.str("field") != tc.field || !strings.Contains(r.str("error_description"), tc.msg) {
				t.Fatalf("client policy %v: %d %s", tc.policy, r.Status, r.Raw)
			}
		}
		want(t, s.call(t, "GET", "/v1/tenants/caps/clients/loose", a, nil), 404) // refused means not created

		o := oauthTenant{s: s, ten: "caps"}
		// ttl returns the expiry of client id's next token once it is
		// wantTTL, or after 5 s (the token endpoint's caches of tenants and
		// clients follow the change log).
		ttl := func(id, secret string, wantTTL float64) float64 {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for {
				c := payload(t, want(t, o.form(t, "token", id, secret, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token"))
				got := c["exp"].(float64) - c["iat"].(float64)
				if got == wantTTL || time.Now().After(deadline) {
					return got
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		tight := want(t, client("tight", map[string]any{"access_ttl": 120}), 201).str("client_secret")
		if got := ttl("tight", tight, 120); got != 120 {
			t.Fatalf("a tighter client policy: %v-second token, want 120", got)
		}

		// Set within the tenant's default maxima, then the tenant tightens.
		long := want(t, client("long", nil), 201).str("client_secret")
		want(t, s.call(t, "PATCH", "/v1/tenants/caps", a, map[string]any{"policy": map[string]any{"access_ttl": 300}}), 200) // max back to the default
		want(t, s.call(t, "PATCH", "/v1/tenants/caps/clients/long", a, map[string]any{"policy": map[string]any{"access_ttl": 86400}}), 200)
		if got := ttl("long", long, 86400); got != 86400 {
			t.Fatalf("within the default maximum: %v-second token, want 86400", got)
		}
		want(t, s.call(t, "PATCH", "/v1/tenants/caps", a, map[string]any{"policy": map[string]any{"access_ttl": 300, "max_access_ttl": 600}}), 200)
		if got := ttl("long", long, 600); got != 600 {
			t.Fatalf("client access_ttl 86400 under tenant max_access_ttl 600: %v-second token, want 600", got)
		}
		minted := want(t, s.call(t, "POST", "/v1/tenants/caps/tokens", a, map[string]any{"client_id": "long"}), 201)
		if minted.Body["expires_in"] != float64(600) {
			t.Fatalf("admin-minted token for the client: %s", minted.Raw)
		}
		if r := s.call(t, "POST", "/v1/tenants/caps/tokens", a, map[string]any{"client_id": "long", "expires_in": 3600}); r.Status != 422 || r.str("field") != "expires_in" {
			t.Fatalf("expires_in beyond the tenant's maximum: %d %s", r.Status, r.Raw)
		}
		if r := s.call(t, "PATCH", "/v1/tenants/caps/clients/long", a, map[string]any{"policy": map[string]any{"access_ttl": 86400}}); r.Status != 422 ||
			r.str("field") != "policy.access_ttl" {
			t.Fatalf("updating a client to a looser policy: %d %s", r.Status, r.Raw)
		}
	})
}
