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
		req.Header.Set("Origin", s.URL) // a page of tokend's own origin
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

// TestCustomerLogoutCSRF: a logout authenticated by the session cookie
// alone is refused unless it comes from tokend's own origin, and then
// changes nothing; a same-origin page and a bearer caller log out.
func TestCustomerLogoutCSRF(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		setupOAuth(t, s, "shop")
		creds := `{"email":"alice@example.com","password":"` + userPassword + `"}`
		// login returns a session as cookie (browser) or bearer token.
		login := func(browser bool) string {
			t.Helper()
			req, _ := http.NewRequest("POST", s.URL+"/t/shop/customers/login", strings.NewReader(creds))
			req.Header.Set("Content-Type", "application/json")
			if browser {
				req.Header.Set("Origin", s.URL)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				ck := want(t, send(t, req), 200).Header.Get("Set-Cookie")
				return strings.TrimPrefix(strings.Split(ck, ";")[0], "tokend_session=")
			}
			return want(t, send(t, req), 200).str("token")
		}
		alive := func(tok string) bool {
			t.Helper()
			req, _ := http.NewRequest("GET", s.URL+"/t/shop/check", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return send(t, req).Status == 200
		}
		// logout posts with the cookie (or, with bearer, the Authorization
		// header) and each header line of hdr.
		logout := func(tok string, bearer bool, hdr http.Header) response {
			t.Helper()
			req, _ := http.NewRequest("POST", s.URL+"/t/shop/customers/logout", strings.NewReader("x=1"))
			if bearer {
				req.Header.Set("Authorization", "Bearer "+tok)
			} else {
				req.Header.Set("Cookie", "tokend_session="+tok)
			}
			for k, vs := range hdr {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			return send(t, req)
		}
		const evil = "https://evil.example.com"
		own := s.URL
		sess := login(true)
		for name, hdr := range map[string]http.Header{
			"foreign origin, text/plain":           {"Origin": {evil}, "Content-Type": {"text/plain"}},
			"foreign origin, cross-site":           {"Origin": {evil}, "Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Mode": {"no-cors"}},
			"cross-site without origin":            {"Sec-Fetch-Site": {"cross-site"}},
			"same-site sibling":                    {"Origin": {"http://shop.127.0.0.1.nip.io"}, "Sec-Fetch-Site": {"same-site"}},
			"opaque origin":                        {"Origin": {"null"}},
			"own origin but cross-site":            {"Origin": {own}, "Sec-Fetch-Site": {"cross-site"}},
			"own and foreign origin":               {"Origin": {own, evil}},
			"own origin on another port":           {"Origin": {strings.TrimSuffix(own, own[strings.LastIndex(own, ":"):]) + ":1"}},
			"the cookie alone, no browser signals": {"Content-Type": {"application/json"}},
		} {
			r := logout(sess, false, hdr)
			if r.Status != 403 || r.str("error") != "forbidden" || r.Header.Get("Set-Cookie") != "" {
				t.Errorf("%s: logout answered %d %s %q", name, r.Status, r.Raw, r.Header.Get("Set-Cookie"))
			}
			if !alive(sess) {
				t.Fatalf("%s: a refused logout ended the session", name)
			}
		}

		// A page of tokend's own origin logs out with the cookie, with fetch
		// metadata or (older browsers) Origin alone.
		for name, hdr := range map[string]http.Header{
			"same-origin":                   {"Origin": {own}, "Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"text/plain"}},
			"origin without fetch metadata": {"Origin": {own}},
		} {
			sess := login(true)
			want(t, logout(sess, false, hdr), 204)
			if alive(sess) {
				t.Fatalf("%s: the session survived its logout", name)
			}
		}
		// A server holding the token logs out with it as a bearer token,
		// with or without browser signals: no page can attach it.
		for _, hdr := range []http.Header{nil, {"Origin": {evil}, "Sec-Fetch-Site": {"cross-site"}}} {
			tok := login(false)
			want(t, logout(tok, true, hdr), 204)
			if alive(tok) {
				t.Fatalf("bearer logout %v: the session survived", hdr)
			}
		}
	})
}
