package app_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestCORS: discovery and JWKS answer any origin; the token endpoint and
// its kin answer browsers of the tenant's cors_origins only, with a
// preflight answered 204 (not 405 or 400) and a foreign origin's refused.
func TestCORS(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		const app, evil = "https://app.shop.example", "https://evil.example"
		// Bad settings are refused and change nothing.
		for _, bad := range [][]string{{"*"}, {"https://app.shop.example/login"}, {"ftp://x.example"}, {app, "https://APP.shop.example:443"}, {" " + app}} {
			if r := s.call(t, "PATCH", "/v1/tenants/shop", s.Admin, map[string]any{"policy": map[string]any{"password_grant": true, "cors_origins": bad}}); r.Status != 422 || r.str("field") != "policy.cors_origins" {
				t.Errorf("cors_origins %q: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := s.call(t, "PATCH", "/v1/tenants/shop/clients/app", s.Admin, map[string]any{"policy": map[string]any{"cors_origins": []string{app}}}); r.Status != 422 || r.str("field") != "policy.cors_origins" {
			t.Errorf("client cors_origins: %d %s", r.Status, r.Raw)
		}
		req := func(method, path, origin string, hdr map[string]string) *http.Response {
			t.Helper()
			r, err := http.NewRequest(method, s.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if origin != "" {
				r.Header.Set("Origin", origin)
			}
			for k, v := range hdr {
				r.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}

		// Before any origin is allowed, a preflight is refused.
		if r := req("OPTIONS", "/t/shop/oauth2/token", app, preflight); r.StatusCode != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight, no origins allowed: %d %v", r.StatusCode, r.Header)
		}
		want(t, s.call(t, "PATCH", "/v1/tenants/shop", s.Admin, map[string]any{"policy": map[string]any{"password_grant": true, "cors_origins": []string{app}}}), 200)
		// Tenants are cached for up to two seconds (less when the change
		// log names the change first).
		deadline := time.Now().Add(5 * time.Second)
		for req("OPTIONS", "/t/shop/oauth2/token", app, preflight).StatusCode != 204 {
			if time.Now().After(deadline) {
				t.Fatal("the tenant's new cors_origins never took effect")
			}
			time.Sleep(100 * time.Millisecond)
		}

		for _, path := range []string{"/t/shop/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/t/shop", "/t/shop/jwks.json"} {
			if r := req("GET", path, evil, nil); r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("GET %s: %d %q", path, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
			}
			r := req("OPTIONS", path, evil, map[string]string{"Access-Control-Request-Method": "GET"})
			if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Methods") == "" {
				t.Errorf("OPTIONS %s: %d %v", path, r.StatusCode, r.Header)
			}
		}
		for _, path := range []string{"/t/shop/oauth2/token", "/t/shop/oauth2/revoke", "/t/shop/tokens/renew", "/t/shop/customers/login", "/t/shop/customers/logout"} {
			r := req("OPTIONS", path, "https://app.shop.example:443", preflight)
			if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.shop.example:443" ||
				r.Header.Get("Access-Control-Allow-Credentials") != "true" || r.Header.Get("Access-Control-Allow-Methods") != "POST" ||
				r.Header.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type" {
				t.Errorf("preflight %s from the tenant's origin: %d %v", path, r.StatusCode, r.Header)
			}
			if r := req("OPTIONS", path, evil, preflight); r.StatusCode != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("preflight %s from a foreign origin: %d %v", path, r.StatusCode, r.Header)
			}
			if r := req("OPTIONS", path, app, map[string]string{"Access-Control-Request-Method": "DELETE"}); r.StatusCode != 403 {
				t.Errorf("preflight %s for DELETE: %d", path, r.StatusCode)
			}
			if r := req("OPTIONS", path, "", nil); r.StatusCode != 204 || r.Header.Get("Allow") != "POST, OPTIONS" {
				t.Errorf("OPTIONS %s without Origin: %d %v", path, r.StatusCode, r.Header)
			}
		}
		// Another tenant's origins are not this one's.
		want(t, s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "other"}), 201)
		if r := req("OPTIONS", "/t/other/oauth2/token", app, preflight); r.StatusCode != 403 {
			t.Errorf("preflight to another tenant: %d", r.StatusCode)
		}
		if r := req("OPTIONS", "/t/nosuch/oauth2/token", app, preflight); r.StatusCode != 403 {
			t.Errorf("preflight to an unknown tenant: %d", r.StatusCode)
		}

		// The token request itself: the allowed origin reads the answer,
		// errors included; a foreign origin's gets no CORS headers.
		tok := func(origin string) response {
			rq := o.formRequest(t, "token", "app", o.appSecret, url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {userPassword}})
			rq.Header.Set("Origin", origin)
			return send(t, rq)
		}
		if r := tok(app); r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != app || r.Header.Get("Vary") == "" {
			t.Errorf("token from the tenant's origin: %d %v", r.Status, r.Header)
		}
		if r := tok(evil); r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("token from a foreign origin: %d %v", r.Status, r.Header)
		}
		bad := o.formRequest(t, "token", "app", "wrong", url.Values{"grant_type": {"client_credentials"}})
		bad.Header.Set("Origin", app)
		if r := send(t, bad); r.Status != 401 || r.Header.Get("Access-Control-Allow-Origin") != app {
			t.Errorf("failed token request from the tenant's origin: %d %v", r.Status, r.Header)
		}
		// Two origins are never allowed.
		two := o.formRequest(t, "token", "app", o.appSecret, url.Values{"grant_type": {"client_credentials"}})
		two.Header.Add("Origin", app)
		two.Header.Add("Origin", evil)
		if r := send(t, two); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("two origins: %v", r.Header)
		}
	})
}
