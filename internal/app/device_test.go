package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDeviceTokens covers seed 004's device tokens: expiry vs lifetime
// with their defaults and bounds, eternal tokens, rotation, the token
// limit and renewal.
func TestDeviceTokens(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants/shop/roles", a, map[string]any{"name": "kiosk", "scopes": []string{"orders:read", "orders:write"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices", a, map[string]any{"id": "kiosk-1", "type": "kiosk", "roles": []string{"kiosk"}}), 201)
		mint := func(body map[string]any) response {
			return s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, body)
		}

		r := want(t, mint(map[string]any{}), 201)
		c := payload(t, r.str("access_token"))
		if c["kind"] != "device" || c["sub"] != "kiosk-1" || c["sub_type"] != "device" || c["scope"] != "orders:read orders:write" {
			t.Fatalf("device token claims %v", c)
		}
		if exp, iat, lte := c["exp"].(float64), c["iat"].(float64), c["lte"].(float64); exp-iat != 1800 || lte-iat < 7199 || lte-iat > 7201 {
			t.Fatalf("default expiry/lifetime: exp-iat=%v lte-iat=%v", exp-iat, lte-iat)
		}
		if !o.active(t, r.str("access_token")) {
			t.Fatal("device token not active")
		}

		for _, tc := range []struct {
			name, body, field, msg string
		}{
			{"zero expiry", `{"expires_in":0}`, "expires_in", "positive"},
			{"negative expiry", `{"expires_in":-5}`, "expires_in", "positive"},
			{"expiry over max", `{"expires_in":86401}`, "expires_in", "86400"},
			{"lifetime over max", `{"lifetime":604801}`, "lifetime", "604800"},
			{"expiry beyond lifetime", `{"expires_in":3600,"lifetime":600}`, "expires_in", "lifetime"},
			{"eternal not allowed", `{"eternal":true}`, "eternal", "allow_eternal"},
			{"scope not granted", `{"scope":"admin"}`, "scope", "admin"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, tc.body), 422)
				if r.str("field") != tc.field || !strings.Contains(r.str("error_description"), tc.msg) {
					t.Fatalf("%s", r.Raw)
				}
			})
		}
		if r := s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, `{"expires_in":"soon"}`); r.Status != 400 || !strings.Contains(string(r.Raw), "expires_in") {
			t.Fatalf("not a number: %d %s", r.Status, r.Raw)
		}
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices/ghost/tokens", a, map[string]any{}), 404)

		// Rotation revokes every earlier token of the device, not the new one.
		older := want(t, mint(map[string]any{"expires_in": 600}), 201).str("access_token")
		rotated := want(t, mint(map[string]any{"rotate": true}), 201).str("access_token")
		if o.active(t, older) || o.active(t, r.str("access_token")) || !o.active(t, rotated) {
			t.Fatal("rotate did not revoke exactly the earlier tokens")
		}

		// Eternal tokens where the policy allows them; they are not renewable.
		want(t, s.call(t, "PATCH", "/v1/tenants/shop", a, map[string]any{"policy": map[string]any{"password_grant": true, "allow_eternal": true, "token_limit": 3}}), 200)
		eternal := want(t, mint(map[string]any{"eternal": true}), 201)
		if payload(t, eternal.str("access_token"))["exp"] != nil || !o.active(t, eternal.str("access_token")) {
			t.Fatalf("eternal token %s", eternal.Raw)
		}
		renew := func(tok string) response {
			req, _ := http.NewRequest("POST", s.URL+"/t/shop/tokens/renew", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return send(t, req)
		}
		if r := renew(eternal.str("access_token")); r.Status != 400 || !strings.Contains(r.str("error_description"), "eternal") {
			t.Fatalf("renewing an eternal token: %d %s", r.Status, r.Raw)
		}

		// The token limit (3 active: rotated, eternal, one more) refuses the fourth.
		want(t, mint(map[string]any{}), 201)
		if r := mint(map[string]any{}); r.Status != 409 || !strings.Contains(r.str("error_description"), "token limit") {
			t.Fatalf("over the limit: %d %s", r.Status, r.Raw)
		}
		next := want(t, mint(map[string]any{"rotate": true, "expires_in": 60, "lifetime": 3600}), 201).str("access_token")

		// Renewal: new token, same lifetime end; the old one works 5 s more.
		before := payload(t, next)
		rn := want(t, renew(next), 200)
		after := payload(t, rn.str("access_token"))
		if after["lte"] != before["lte"] || after["jti"] == before["jti"] || after["exp"].(float64)-after["iat"].(float64) != 60 ||
			after["scope"] != before["scope"] || after["sub"] != "kiosk-1" || after["kind"] != "device" {
			t.Fatalf("renewed %v from %v", after, before)
		}
		if !o.active(t, next) {
			t.Fatal("the renewed token stopped at once; it has a 5 s grace")
		}
		time.Sleep(5200 * time.Millisecond)
		if o.active(t, next) || !o.active(t, rn.str("access_token")) {
			t.Fatal("after the grace the old token must be inactive and the new one active")
		}
		if r := renew("bogus"); r.Status != 401 {
			t.Fatalf("renewing garbage: %d", r.Status)
		}
		// A client_credentials token has no lifetime: not renewable.
		cc := want(t, o.form(t, "token", "svc", o.svcSecret, map[string][]string{"grant_type": {"client_credentials"}}), 200).str("access_token")
		if r := renew(cc); r.Status != 400 || !strings.Contains(r.str("error_description"), "lifetime") {
			t.Fatalf("renewing a token without lifetime: %d %s", r.Status, r.Raw)
		}
	})
}

// TestUserTokensRunAs: an admin mints for a user (the token records the
// admin as actor), bound to the referrer's origin, optionally as a cookie;
// users cannot mint through the admin API.
func TestUserTokensRunAs(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		alice := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=alice@example.com", a, nil), 200).items()[0]["id"].(string)
		mint := func(body any, hdr map[string]string) response {
			req, _ := http.NewRequest("POST", s.URL+"/v1/tenants/shop/users/"+alice+"/tokens", strings.NewReader(fmtJSON(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+a)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return send(t, req)
		}
		r := want(t, mint(map[string]any{}, nil), 201)
		c := payload(t, r.str("access_token"))
		act, _ := c["act"].(map[string]any)
		if c["sub"] != alice || c["sub_type"] != "user" || act == nil || !strings.Contains(act["sub"].(string), "admin") ||
			c["scope"] != "read write" {
			t.Fatalf("runAs claims %v", c)
		}

		bound := want(t, mint(map[string]any{"bind_referer": true}, map[string]string{"Referer": "https://app.example.com/login?x=1"}), 201).str("access_token")
		if fmt.Sprint(payload(t, bound)["origins"]) != "[https://app.example.com]" {
			t.Fatalf("bound origins %v", payload(t, bound)["origins"])
		}
		check := func(tok, ref string) int {
			req, _ := http.NewRequest("GET", s.URL+"/t/shop/check", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if ref != "" {
				req.Header.Set("Referer", ref)
			}
			return send(t, req).Status
		}
		if check(bound, "https://app.example.com/orders") != 200 || check(bound, "https://evil.example.com/") != 403 || check(bound, "") != 403 {
			t.Fatal("referrer binding not enforced at the gateway")
		}
		renew := func(tok, ref string) response {
			req, _ := http.NewRequest("POST", s.URL+"/t/shop/tokens/renew", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Referer", ref)
			return send(t, req)
		}
		want(t, renew(bound, "https://evil.example.com/"), 403)
		rn := want(t, renew(bound, "https://app.example.com/page"), 200)
		if fmt.Sprint(payload(t, rn.str("access_token"))["origins"]) != "[https://app.example.com]" {
			t.Fatal("the renewed token lost its binding")
		}
		if r := mint(map[string]any{"bind_referer": true}, map[string]string{"Referer": "not a url"}); r.Status != 400 || !strings.Contains(r.str("error_description"), "referrer") {
			t.Fatalf("malformed referer: %d %s", r.Status, r.Raw)
		}

		ck := want(t, mint(map[string]any{"cookie": true}, nil), 201)
		if ck.str("access_token") != "" || !strings.Contains(ck.Header.Get("Set-Cookie"), "tokend_session=") || !strings.Contains(ck.Header.Get("Set-Cookie"), "HttpOnly") {
			t.Fatalf("cookie delivery: %v %s", ck.Header, ck.Raw)
		}
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices", a, map[string]any{"id": "d1", "type": "device"}), 201)
		if r := s.call(t, "POST", "/v1/tenants/shop/devices/d1/tokens", a, map[string]any{"cookie": true}); r.Status != 422 || r.str("field") != "cookie" {
			t.Fatalf("device cookie: %d %s", r.Status, r.Raw)
		}
		// An admin renews a user's token by id (runAs); the lifetime end stays.
		orig := want(t, mint(map[string]any{"expires_in": 60, "lifetime": 3600}, nil), 201)
		ren := want(t, s.call(t, "POST", "/v1/tenants/shop/tokens/"+orig.str("id")+"/renew", a, nil), 200)
		rc := payload(t, ren.str("access_token"))
		if rc["sub"] != alice || rc["lte"] != payload(t, orig.str("access_token"))["lte"] || rc["act"] == nil {
			t.Fatalf("admin renewal %v", rc)
		}
		if r := s.call(t, "POST", "/v1/tenants/shop/tokens/nope/renew", a, nil); r.Status != 404 {
			t.Fatalf("renewing an unknown token: %d", r.Status)
		}

		// A user may not mint for others: the admin API refuses user tokens.
		userTok, _ := o.login(t)
		if r := s.call(t, "POST", "/v1/tenants/shop/devices/d1/tokens", userTok, map[string]any{}); r.Status != 403 {
			t.Fatalf("a user minting for a device: %d %s", r.Status, r.Raw)
		}
	})
}
