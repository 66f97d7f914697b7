package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGatewayRefusesSeveralOrigins: the gateway check, renewal and the
// customer login refuse a request carrying more than one Origin (or
// Referer for a referrer-bound token), whichever comes first.
func TestGatewayRefusesSeveralOrigins(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		setupOAuth(t, s, "shop")
		a := s.Admin
		sf := want(t, s.call(t, "POST", "/v1/tenants/shop/clients/svc/tokens", a, map[string]any{"kind": "storefront",
			"expires_at": time.Now().Add(time.Hour).Unix(), "allowed_cors_origins": []string{"https://shop.example.com"}}), 201).str("token")
		alice := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=alice@example.com", a, nil), 200).items()[0]["id"].(string)
		req, _ := http.NewRequest("POST", s.URL+"/v1/tenants/shop/users/"+alice+"/tokens", strings.NewReader(`{"bind_referer":true}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a)
		req.Header.Set("Referer", "https://app.example.com/login")
		bound := want(t, send(t, req), 201).str("access_token")

		// do sends method path with tok as bearer and each header line of hdr.
		do := func(method, path, tok string, hdr http.Header) response {
			t.Helper()
			req, _ := http.NewRequest(method, s.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			for k, vs := range hdr {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			return send(t, req)
		}
		const good, evil = "https://shop.example.com", "https://evil.example.com"
		want(t, do("GET", "/t/shop/check", sf, http.Header{"Origin": {good}}), 200)
		for name, hdr := range map[string]http.Header{
			"allowed origin first":  {"Origin": {good, evil}},
			"allowed origin second": {"Origin": {evil, good}},
			"comma-joined":          {"Origin": {good + ", " + evil}},
		} {
			if r := do("GET", "/t/shop/check", sf, hdr); r.Status != 403 || r.str("error") != "forbidden" {
				t.Errorf("check, storefront, %s: %d %s", name, r.Status, r.Raw)
			}
		}
		want(t, do("GET", "/t/shop/check", bound, http.Header{"Referer": {"https://app.example.com/x"}}), 200)
		if r := do("GET", "/t/shop/check", bound, http.Header{"Referer": {"https://app.example.com/x", "https://evil.example.com/"}}); r.Status != 403 {
			t.Errorf("check, referrer-bound token, two Referers: %d %s", r.Status, r.Raw)
		}
		if r := do("POST", "/t/shop/tokens/renew", bound, http.Header{"Referer": {"https://app.example.com/x"}, "Origin": {"https://app.example.com", evil}}); r.Status != 403 {
			t.Errorf("renew with two Origins: %d %s", r.Status, r.Raw)
		}

		// The customer login reads Origin to choose cookie delivery.
		login := func(origins ...string) response {
			req, _ := http.NewRequest("POST", s.URL+"/t/shop/customers/login", strings.NewReader(`{"email":"alice@example.com","password":"`+userPassword+`"}`))
			req.Header.Set("Content-Type", "application/json")
			for _, o := range origins {
				req.Header.Add("Origin", o)
			}
			return send(t, req)
		}
		want(t, login(good), 200)
		if r := login(good, evil); r.Status != 400 || r.Header.Get("Set-Cookie") != "" || r.str("token") != "" {
			t.Errorf("customer login with two Origins: %d %v %s", r.Status, r.Header, r.Raw)
		}
	})
}
