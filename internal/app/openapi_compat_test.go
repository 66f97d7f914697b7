package app_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/openapi"
)

// devCompat is the dev fixtures' record of surface name.
func devCompat(t *testing.T, c app.DevCredentials, name string) map[string]any {
	t.Helper()
	b, err := json.Marshal(c.Compat[name])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		t.Fatalf("no dev fixtures for %s: %s", name, b)
	}
	return m
}

// TestOpenAPICompatConformance drives each compatible surface's legacy
// endpoints on a dev server (its fixtures enable every surface) and
// validates every request and answer against the surface's document.
func TestOpenAPICompatConformance(t *testing.T) {
	s := apptest.StartWith(t, "", apptest.Options{Config: func(c *config.Config) { c.Dev, c.BigCommerceDomain = true, "mybigcommerce.test" }})
	creds, _, err := s.App.DevSetup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("storetoken", func(t *testing.T) {
		c := newConformance(t, s, openapi.Compat("storetoken"))
		f := devCompat(t, creds, "storetoken")
		email, _ := f["admin_email"].(string)
		pass, _ := f["admin_password"].(string)
		store, _ := f["store_id"].(string)
		m := c.want(201, "POST", "/user_token", "", map[string]any{"auth": map[string]any{"email": email, "password": pass}})
		jwt, _ := m["jwt"].(string)
		c.want(404, "POST", "/user_token", "", map[string]any{"auth": map[string]any{"email": email, "password": "wrong"}})
		c.want(201, "POST", "/stores/"+store+"/generate_token", jwt, nil)
		c.want(201, "POST", "/stores/"+store+"/generate_token", jwt, map[string]any{"expires_in": 3600})
		c.want(200, "GET", "/stores/"+store+"/tokens", jwt, nil)
		c.want(401, "POST", "/stores/"+store+"/generate_token", "", nil)
		c.want(404, "GET", "/stores/no-such-store/tokens", jwt, nil)
		c.report()
	})
	t.Run("dotkernel", func(t *testing.T) {
		c := newConformance(t, s, openapi.Compat("dotkernel"))
		login := map[string]any{"grant_type": "password", "client_id": "admin", "client_secret": "admin", "scope": "api", "username": "admin", "password": "dotkernel"}
		m := c.want(200, "POST", "/security/generate-token", "", login)
		access, _ := m["access_token"].(string)
		refresh, _ := m["refresh_token"].(string)
		c.want(200, "GET", "/admin/my-account", access, nil)
		c.want(403, "GET", "/user/my-account", access, nil)
		c.want(403, "GET", "/admin/my-account", "", nil)
		c.want(200, "POST", "/security/refresh-token", "", map[string]any{"grant_type": "refresh_token", "client_id": "admin", "client_secret": "admin", "scope": "api", "refresh_token": refresh})
		login["password"] = "wrong"
		c.want(400, "POST", "/security/generate-token", "", login)
		u := c.want(200, "POST", "/security/generate-token", "", map[string]any{"grant_type": "password", "client_id": "frontend", "client_secret": "frontend",
			"scope": "api", "username": "test@dotkernel.com", "password": "dotkernel"})
		ua, _ := u["access_token"].(string)
		c.want(200, "GET", "/user/my-account", ua, nil)
		c.report()
	})
	t.Run("bigcommerce", func(t *testing.T) {
		c := newConformance(t, s, openapi.Compat("bigcommerce"))
		f := devCompat(t, creds, "bigcommerce")
		hash, _ := f["store_hash"].(string)
		tok, _ := f["access_token"].(string)
		origin, _ := f["allowed_origin"].(string)
		base := "/stores/" + hash + "/v3/storefront/"
		far := time.Now().Add(30 * 24 * time.Hour).Unix()
		c.want(200, "POST", base+"api-token", "", map[string]any{"channel_id": 1, "expires_at": far, "allowed_cors_origins": []string{origin}}, "X-Auth-Token", tok)
		pt := c.want(200, "POST", base+"api-token-private", "", map[string]any{"channel_ids": []int{1}, "expires_at": far, "scopes": []string{"Customer"}}, "X-Auth-Token", tok)
		c.want(200, "POST", base+"api-token-customer-impersonation", "", map[string]any{"channel_id": 1, "expires_at": far}, "X-Auth-Token", tok)
		c.want(401, "POST", base+"api-token", "", map[string]any{"channel_id": 1, "expires_at": far})
		c.want(422, "POST", base+"api-token", "", map[string]any{"channel_id": 1, "expires_at": 1}, "X-Auth-Token", tok)
		private, _ := pt["data"].(map[string]any)["token"].(string)
		c.want(200, "POST", "/stores/"+hash+"/graphql", private, map[string]any{"query": "{ __typename }"})
		c.want(401, "POST", "/stores/"+hash+"/graphql", "", map[string]any{"query": "{ __typename }"})
		host := "store-" + hash + "-1.mybigcommerce.test"
		c.want(200, "POST", "/graphql", private, map[string]any{"query": "{ __typename }"}, "Host", host)
		pre := []string{"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"}
		c.do("OPTIONS", "/stores/"+hash+"/graphql", "", nil, pre...)
		c.do("OPTIONS", "/graphql", "", nil, append(pre, "Host", host)...)
		// The gateway check answers these tokens in the surface's terms;
		// the native document describes that answer too.
		ten, _ := f["tenant"].(string)
		n := newConformance(t, s, openapi.Native)
		n.want(200, "GET", "/t/"+ten+"/check", private, nil)
		n.want(401, "GET", "/t/"+ten+"/check", apptest.FlipLastBit(private), nil)
		c.want(200, "DELETE", base+"api-token", "", nil, "X-Auth-Token", tok, "Sf-Api-Token", private)
		c.report()
	})
	t.Run("tenantauth", func(t *testing.T) {
		c := newConformance(t, s, openapi.Compat("tenantauth"))
		f := devCompat(t, creds, "tenantauth")
		str := func(k string) string { v, _ := f[k].(string); return v }
		body := map[string]any{"tenant_id": str("tenant"), "project_id": str("project_id"), "client_id": str("client_id"), "email_id": str("admin_email"), "secret_id": str("secret_id")}
		m := c.want(200, "POST", "/auth/admin/generateToken", "", body)
		admin, _ := m["access_token"].(string)
		body["email_id"] = str("user_email")
		m = c.want(200, "POST", "/auth/user/generateToken", "", body)
		user, _ := m["access_token"].(string)
		c.want(200, "GET", "/auth/admin/verifyToken", admin, nil)
		c.want(200, "GET", "/auth/user/verifyToken", user, nil)
		c.want(401, "GET", "/auth/user/verifyToken", "not-a-token", nil)
		body["secret_id"] = "wrong"
		c.want(401, "POST", "/auth/user/generateToken", "", body)
		body["client_id"] = "no-such-client"
		c.want(404, "POST", "/auth/user/generateToken", "", body)
		// oidcToken: a token of no trusted issuer is refused in the
		// original's shape (the real provider's tokens are tested in
		// internal/compat/tenantauth).
		c.want(401, "POST", "/auth/admin/oidcToken", admin, map[string]any{"oidc_token": "a.b.c"})
		c.want(401, "POST", "/auth/user/oidcToken", "", map[string]any{"oidc_token": "a.b.c"})
		c.report()
	})
	t.Run("apstrata", func(t *testing.T) {
		c := newConformance(t, s, openapi.Compat("apstrata"))
		f := devCompat(t, creds, "apstrata")
		key, _ := f["account_key"].(string)
		q := url.Values{"apsws.responseType": {"json"}, "apsws.id": {"nobody"}, "apsws.time": {"1"}, "apsws.authSig": {"00"}}
		code, _ := c.do("GET", "/apsdb/rest/"+key+"/GenerateToken?"+q.Encode(), "", nil)
		if code < 400 {
			t.Fatalf("an unsigned request answered %d", code)
		}
		code, _ = c.do("POST", "/apsdb/rest/"+key+"/VerifyCredentials", "", q)
		if code < 400 {
			t.Fatalf("an unsigned request answered %d", code)
		}
		c.report()
	})
}
