package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestCustomerSessions: a login answers in the body or as a cookie, never
// both; logging out on one device ends every session of the customer.
func TestCustomerSessions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		login := func(hdr map[string]string, body any) response {
			t.Helper()
			req, _ := http.NewRequest("POST", s.URL+"/t/shop/customers/login", strings.NewReader(fmtJSON(body)))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return send(t, req)
		}
		creds := map[string]any{"email": "Alice@Example.com", "password": userPassword}
		server := want(t, login(nil, creds), 200)
		if server.str("token") == "" || server.Header.Get("Set-Cookie") != "" || server.str("customer_id") == "" {
			t.Fatalf("server-to-server login: %v %s", server.Header, server.Raw)
		}
		browser := want(t, login(map[string]string{"Origin": "https://shop.example.com"}, creds), 200)
		ck := browser.Header.Get("Set-Cookie")
		if browser.str("token") != "" || !strings.Contains(ck, "tokend_session=") || !strings.Contains(ck, "HttpOnly") ||
			!strings.Contains(ck, "Secure") || !strings.Contains(ck, "SameSite=Strict") {
			t.Fatalf("browser login: cookie %q body %s", ck, browser.Raw)
		}
		cookieTok := strings.TrimPrefix(strings.Split(ck, ";")[0], "tokend_session=")
		if r := login(nil, map[string]any{"email": "alice@example.com", "password": "wrong"}); r.Status != 400 || r.str("error") != "invalid_grant" {
			t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
		}
		if r := login(nil, map[string]any{"email": "alice@example.com"}); r.Status != 400 {
			t.Fatalf("no password: %d", r.Status)
		}

		check := func(hdr map[string]string) int {
			req, _ := http.NewRequest("GET", s.URL+"/t/shop/check", nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return send(t, req).Status
		}
		if check(map[string]string{"Authorization": "Bearer " + server.str("token")}) != 200 || check(map[string]string{"Cookie": "tokend_session=" + cookieTok}) != 200 {
			t.Fatal("customer sessions not accepted by the gateway check")
		}
		oauthTok, _ := o.login(t)

		req, _ := http.NewRequest("POST", s.URL+"/t/shop/customers/logout", nil)
		req.Header.Set("Cookie", "tokend_session="+cookieTok)
		out := want(t, send(t, req), 204)
		if !strings.Contains(out.Header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatalf("logout does not clear the cookie: %q", out.Header.Get("Set-Cookie"))
		}
		if check(map[string]string{"Authorization": "Bearer " + server.str("token")}) != 401 || check(map[string]string{"Cookie": "tokend_session=" + cookieTok}) != 401 {
			t.Fatal("a session survived logout on another device")
		}
		if !o.active(t, oauthTok) {
			t.Fatal("customer logout revoked the user's other tokens")
		}
		// A new login after the logout works.
		want(t, login(nil, creds), 200)
	})
}
