package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTokenKinds covers storefront, private and impersonation tokens:
// who may mint them, their validation, and their rules at the gateway.
func TestTokenKinds(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		sec := want(t, s.call(t, "POST", "/v1/tenants/shop/clients", a, map[string]any{"id": "shopapp", "grant_types": []string{"client_credentials"},
			"scopes": []string{"read", "tokend:mint:storefront", "tokend:mint:private", "tokend:mint:impersonation"}}), 201).str("client_secret")
		bearer := want(t, o.form(t, "token", "shopapp", sec, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
		plain := want(t, o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
		exp := time.Now().Add(time.Hour).Unix()
		mint := func(tok string, body any) response { return s.call(t, "POST", "/t/shop/tokens", tok, body) }

		if r := mint(plain, map[string]any{"kind": "storefront", "expires_at": exp}); r.Status != 403 || r.str("error") != "insufficient_scope" {
			t.Fatalf("minting without the creation scope: %d %s", r.Status, r.Raw)
		}
		if r := mint("", map[string]any{"kind": "private", "expires_at": exp}); r.Status != 401 {
			t.Fatalf("minting without a token: %d", r.Status)
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"past expiry", map[string]any{"kind": "storefront", "expires_at": time.Now().Add(-time.Minute).Unix()}, "expires_at"},
			{"no expiry", map[string]any{"kind": "private"}, "expires_at"},
			{"bad origin", map[string]any{"kind": "storefront", "expires_at": exp, "allowed_cors_origins": []string{"shop.example.com"}}, "allowed_cors_origins[0]"},
			{"origins on a private token", map[string]any{"kind": "private", "expires_at": exp, "allowed_cors_origins": []string{"https://a.example"}}, "allowed_cors_origins"},
			{"bad channel", map[string]any{"kind": "private", "expires_at": exp, "channel_ids": []int{1, -2}}, "channel_ids[1]"},
			{"unknown kind", map[string]any{"kind": "magic", "expires_at": exp}, "kind"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := want(t, mint(bearer, tc.body), 422)
				if r.str("field") != tc.field {
					t.Fatalf("field %q: %s", r.str("field"), r.Raw)
				}
			})
		}

		check := func(tok string, hdr map[string]string) response {
			req, _ := http.NewRequest("GET", s.URL+"/t/shop/check", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return send(t, req)
		}
		sf := want(t, mint(bearer, map[string]any{"kind": "storefront", "expires_at": exp, "channel_ids": []int{1, 2},
			"allowed_cors_origins": []string{"https://shop.example.com", "http://localhost:3000"}}), 201)
		if sf.str("kind") != "storefront" || int64(sf.Body["expires_at"].(float64)) != exp {
			t.Fatalf("storefront %s", sf.Raw)
		}
		c := payload(t, sf.str("token"))
		if fmt.Sprint(c["channels"]) != "[1 2]" || c["kind"] != "storefront" {
			t.Fatalf("storefront claims %v", c)
		}
		st := sf.str("token")
		// A kind token never carries tokend's own scopes, and is refused for
		// administration and for minting more tokens.
		if sc, _ := c["scope"].(string); strings.Contains(sc, "tokend:") {
			t.Fatalf("storefront token carries %q", sc)
		}
		want(t, mint(st, map[string]any{"kind": "private", "expires_at": exp}), 401)
		want(t, s.call(t, "GET", "/v1/tenants/shop/clients", st, nil), 403)
		// Even a device whose role grants tokend:admin cannot administer with a device token.
		want(t, s.call(t, "POST", "/v1/tenants/shop/roles", a, map[string]any{"name": "ops", "scopes": []string{"tokend:admin"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices", a, map[string]any{"id": "robot", "type": "service", "roles": []string{"ops"}}), 201)
		robot := want(t, s.call(t, "POST", "/v1/tenants/shop/devices/robot/tokens", a, map[string]any{}), 201).str("access_token")
		if r := s.call(t, "GET", "/v1/tenants/shop/clients", robot, nil); r.Status != 403 || !strings.Contains(r.str("error_description"), "device token") {
			t.Fatalf("device token on the admin API: %d %s", r.Status, r.Raw)
		}
		want(t, check(st, map[string]string{"Origin": "https://shop.example.com"}), 200)
		want(t, check(st, map[string]string{"Origin": "http://localhost:3000"}), 200)
		want(t, check(st, map[string]string{"Origin": "https://evil.example.com"}), 403)
		want(t, check(st, nil), 403)

		pt := want(t, mint(bearer, map[string]any{"kind": "private", "expires_at": exp, "channel_ids": []int{1}}), 201).str("token")
		want(t, check(pt, map[string]string{"User-Agent": "backend/1.0"}), 200)
		for _, k := range []string{"Origin", "Sec-Fetch-Site", "Cookie"} {
			if r := check(pt, map[string]string{k: "x=1"}); r.Status != 403 {
				t.Fatalf("private token with %s: %d", k, r.Status)
			}
		}

		alice := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=alice@example.com", a, nil), 200).items()[0]["id"].(string)
		it := want(t, mint(bearer, map[string]any{"kind": "impersonation", "expires_at": exp}), 201).str("token")
		want(t, check(it, nil), 403)
		want(t, check(it, map[string]string{"X-Tokend-Customer-Id": "nobody"}), 403)
		r := want(t, check(it, map[string]string{"X-Tokend-Customer-Id": alice}), 200)
		if r.Header.Get("X-Tokend-Subject") != alice || r.Header.Get("X-Tokend-Subject-Type") != "customer" || r.Header.Get("X-Tokend-Actor") != "shopapp" {
			t.Fatalf("impersonation identity %v", r.Header)
		}
		if r := check(it, map[string]string{"X-Tokend-Customer-Id": alice, "Origin": "https://shop.example.com"}); r.Status != 403 {
			t.Fatalf("impersonation from a browser: %d", r.Status)
		}

		// The OAuth token endpoint mints kinds too (client_credentials + token_kind).
		te := want(t, o.form(t, "token", "shopapp", sec, url.Values{"grant_type": {"client_credentials"}, "token_kind": {"storefront"},
			"expires_at": {fmt.Sprint(exp)}, "channel_ids": {"1,2"}, "allowed_cors_origins": {"https://shop.example.com"}}), 200)
		if pl := payload(t, te.str("access_token")); pl["kind"] != "storefront" || fmt.Sprint(pl["channels"]) != "[1 2]" ||
			te.str("issued_token_type") != "urn:tokend:token-type:storefront" {
			t.Fatalf("token endpoint kind %s", te.Raw)
		}
		if r := o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}, "token_kind": {"private"}, "expires_at": {fmt.Sprint(exp)}}); r.Status != 400 || r.str("error") != "invalid_scope" {
			t.Fatalf("token_kind without the creation scope: %d %s", r.Status, r.Raw)
		}
		if r := o.form(t, "token", "shopapp", sec, url.Values{"grant_type": {"client_credentials"}, "token_kind": {"private"}, "expires_at": {"1"}}); r.Status != 400 || r.str("error") != "invalid_request" || r.str("field") != "expires_at" {
			t.Fatalf("token_kind with a past expiry: %d %s", r.Status, r.Raw)
		}
		if r := o.form(t, "token", "shopapp", "wrong", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"private"}, "expires_at": {fmt.Sprint(exp)}}); r.Status != 401 {
			t.Fatalf("token_kind with a wrong secret: %d", r.Status)
		}

		// Admins mint kinds for a client through the admin API.
		adm := want(t, s.call(t, "POST", "/v1/tenants/shop/clients/shopapp/tokens", a, map[string]any{"kind": "private", "expires_at": exp}), 201)
		if adm.str("kind") != "private" || payload(t, adm.str("token"))["sub"] != "shopapp" {
			t.Fatalf("admin-minted kind %s", adm.Raw)
		}
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients/shopapp/tokens", plain, map[string]any{"kind": "private", "expires_at": exp}), 403)

		// Server-side use of storefront tokens, where tenant and client policy allow it.
		want(t, s.call(t, "PATCH", "/v1/tenants/shop", a, map[string]any{"policy": map[string]any{"password_grant": true, "storefront_server_side": true}}), 200)
		want(t, s.call(t, "PATCH", "/v1/tenants/shop/clients/shopapp", a, map[string]any{"policy": map[string]any{"storefront_server_side": true}}), 200)
		for _, format := range []string{"jwt", "opaque"} {
			srv := want(t, mint(bearer, map[string]any{"kind": "storefront", "expires_at": exp, "format": format,
				"allowed_cors_origins": []string{"https://shop.example.com"}}), 201).str("token")
			want(t, check(srv, map[string]string{"User-Agent": "backend"}), 200)
			want(t, check(srv, map[string]string{"Sec-Fetch-Site": "same-origin"}), 403)
			want(t, check(srv, map[string]string{"Origin": "https://evil.example.com"}), 403)
		}
		want(t, check(st, nil), 403) // minted before: still browser-only

		// Any kind as an opaque API key, with the same rules; revocable.
		key := want(t, mint(bearer, map[string]any{"kind": "storefront", "expires_at": exp, "format": "opaque",
			"allowed_cors_origins": []string{"https://shop.example.com"}}), 201).str("token")
		if !strings.HasPrefix(key, "tkd_at_") {
			t.Fatalf("opaque key %q", key)
		}
		want(t, check(key, map[string]string{"Origin": "https://shop.example.com"}), 200)
		want(t, check(key, map[string]string{"Origin": "https://evil.example.com"}), 403)
		want(t, o.form(t, "revoke", "shopapp", sec, url.Values{"token": {key}}), 200)
		want(t, check(key, map[string]string{"Origin": "https://shop.example.com"}), 401)
		want(t, o.form(t, "revoke", "shopapp", sec, url.Values{"token": {st}}), 200)
		want(t, check(st, map[string]string{"Origin": "https://shop.example.com"}), 401)
	})
}
