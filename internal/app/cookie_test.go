package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/signing"
)

// TestCookieTooLarge: a token that does not fit in a 4096-byte cookie
// (RFC 6265 §6.1) is refused with a clear error, and nothing of it is
// recorded.
func TestCookieTooLarge(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		setupOAuth(t, s, "shop")
		a := s.Admin
		var scopes []string
		for i := range 40 {
			scopes = append(scopes, fmt.Sprintf("scope-%02d-%s", i, strings.Repeat("x", 100)))
		}
		want(t, s.call(t, "POST", "/v1/tenants/shop/roles", a, map[string]any{"name": "big", "scopes": scopes}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/shop/users", a, map[string]any{"login": "big@example.com", "roles": []string{"big"}}), 201)
		big := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=big@example.com", a, nil), 200).items()[0]["id"].(string)
		userSecret := want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+big+"/signing-secret", a, nil), 200).str("signing_secret")

		nothingRecorded := func(what string) {
			t.Helper()
			if l := want(t, s.call(t, "GET", "/v1/tenants/shop/tokens?subject="+big, a, nil), 200).items(); len(l) != 0 {
				t.Fatalf("%s: %d ledger rows for a token never delivered", what, len(l))
			}
			if l := want(t, s.call(t, "GET", "/v1/tenants/shop/audit?action=token.mint&subject="+big, a, nil), 200).items(); len(l) != 0 {
				t.Fatalf("%s: %d audit events for a token never delivered", what, len(l))
			}
		}
		r := s.call(t, "POST", "/v1/tenants/shop/users/"+big+"/tokens", a, map[string]any{"cookie": true})
		if r.Status != 422 || r.str("field") != "cookie" || r.Header.Get("Set-Cookie") != "" || !strings.Contains(r.str("error_description"), "4096") {
			t.Fatalf("admin mint into an oversized cookie: %d %v %s", r.Status, r.Header, r.Raw)
		}
		nothingRecorded("admin")

		// The same through a signed request (seed 004 cookie delivery).
		const path = "/t/shop/tokens/generate"
		p := url.Values{"principal": {"user:" + big}, "ts": {strconv.FormatInt(time.Now().Unix(), 10)}, "cookie": {"true"}}
		p.Set("sig", signing.Sign(userSecret, "POST", path, p))
		req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(p.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r = send(t, req)
		if r.Status != 422 || r.str("field") != "cookie" || r.Header.Get("Set-Cookie") != "" {
			t.Fatalf("signed mint into an oversized cookie: %d %v %s", r.Status, r.Header, r.Raw)
		}
		nothingRecorded("signed")

		// In the body the token is delivered; a small one still fits a cookie.
		if tok := want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+big+"/tokens", a, map[string]any{}), 201).str("access_token"); len(tok) <= 4096 {
			t.Fatalf("the test token is only %d bytes", len(tok))
		}
		ck := want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+big+"/tokens", a, map[string]any{"cookie": true, "scope": scopes[0]}), 201)
		if h := ck.Header.Get("Set-Cookie"); !strings.HasPrefix(h, "tokend_session=") || len(h) > 4096 {
			t.Fatalf("small cookie: %d bytes", len(h))
		}
	})
}
