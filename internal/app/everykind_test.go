package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/verify"
)

// TestEveryKind: for every kind, mint, use through the gateway check and
// the verifier library, renew where allowed, revoke, and see the
// revocation in both — on each backend.
func TestEveryKind(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		ctx := context.Background()
		k := setupKinds(t, s, o)
		sec, alice, kind := k.sec, k.alice, k.kind
		customer := want(t, s.call(t, "POST", "/t/shop/customers/login", "", map[string]any{"email": "alice@example.com", "password": userPassword}), 200).str("token")

		v, err := verify.New(ctx, verify.Options{Issuer: s.URL + "/t/shop", Audience: "api", Algorithms: []string{"ES256"},
			ClientID: "svc", ClientSecret: o.svcSecret})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		<-v.Synced()
		lib := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))

		for _, tc := range []struct {
			kind    string
			token   string
			headers map[string]string
			renew   bool
			libAud  bool // carries audience "api", so the library (audience api) accepts it
		}{
			{"access", want(t, o.form(t, "token", "shopapp", sec, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}), 200).str("access_token"), nil, false, true},
			{"device", want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, map[string]any{"audience": "api", "expires_in": 600}), 201).str("access_token"), nil, true, true},
			{"user", want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+alice+"/tokens", a, map[string]any{"audience": "api"}), 201).str("access_token"), nil, true, true},
			{"storefront", kind("storefront", map[string]any{"allowed_cors_origins": []string{"https://shop.example.com"}}), map[string]string{"Origin": "https://shop.example.com"}, false, true},
			{"private", kind("private", nil), nil, false, true},
			{"impersonation", kind("impersonation", nil), map[string]string{"X-Tokend-Customer-Id": alice}, false, true},
			{"customer", customer, nil, false, false},
		} {
			t.Run(tc.kind, func(t *testing.T) {
				gateway := func(tok string) int {
					req, _ := http.NewRequest("GET", s.URL+"/t/shop/check", nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					for k, v := range tc.headers {
						req.Header.Set(k, v)
					}
					return send(t, req).Status
				}
				library := func(tok string) int {
					req := httptest.NewRequest("GET", "/api", nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					for k, v := range tc.headers {
						req.Header.Set(k, v)
					}
					w := httptest.NewRecorder()
					lib.ServeHTTP(w, req)
					return w.Code
				}
				tok := tc.token
				if got := gateway(tok); got != 200 {
					t.Fatalf("gateway: %d", got)
				}
				if tc.libAud {
					if got := library(tok); got != 204 {
						t.Fatalf("library: %d", got)
					}
				}
				if tc.renew {
					req, _ := http.NewRequest("POST", s.URL+"/t/shop/tokens/renew", nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					renewed := want(t, send(t, req), 200).str("access_token")
					if gateway(renewed) != 200 {
						t.Fatal("renewed token refused")
					}
					tok = renewed
				}
				// Revoke by id through the admin API.
				jti := payload(t, tok)["jti"].(string)
				want(t, s.call(t, "POST", "/v1/tenants/shop/tokens/"+jti+"/revoke", a, nil), 200)
				if got := gateway(tok); got != 401 {
					t.Fatalf("gateway after revocation: %d", got)
				}
				if tc.libAud {
					deadline := time.Now().Add(5 * time.Second)
					for library(tok) != 401 {
						if time.Now().After(deadline) {
							t.Fatal("the library never saw the revocation")
						}
						time.Sleep(5 * time.Millisecond)
					}
				}
			})
		}
		// A rule violation per kind, with its error.
		for name, tc := range map[string]struct {
			tok     string
			headers map[string]string
		}{
			"storefront from another origin": {kind("storefront", map[string]any{"allowed_cors_origins": []string{"https://shop.example.com"}}), map[string]string{"Origin": "https://evil.example.com"}},
			"private from a browser":         {kind("private", nil), map[string]string{"Cookie": "a=1"}},
			"impersonation without customer": {kind("impersonation", nil), nil},
		} {
			req := httptest.NewRequest("GET", "/api", nil)
			req.Header.Set("Authorization", "Bearer "+tc.tok)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			_, err := v.Check(req)
			var e *verify.Error
			if !errors.As(err, &e) || e.Status != 403 || e.Description == "" {
				t.Fatalf("%s: %v", name, err)
			}
			greq, _ := http.NewRequest("GET", s.URL+"/t/shop/check", nil)
			greq.Header = req.Header.Clone()
			if r := send(t, greq); r.Status != 403 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "error=") {
				t.Fatalf("%s at the gateway: %d %v", name, r.Status, fmt.Sprint(r.Header))
			}
		}
	})
}

// kindsTenant is tenant shop of setupOAuth with client shopapp (audience
// api, allowed to mint every kind), project api and device kiosk-1.
type kindsTenant struct {
	sec, alice string
	// kind mints a token of kind k through /t/shop/tokens.
	kind func(k string, extra map[string]any) string
}

func setupKinds(t *testing.T, s *server, o oauthTenant) kindsTenant {
	t.Helper()
	a := s.Admin
	sec := want(t, s.call(t, "POST", "/v1/tenants/shop/clients", a, map[string]any{"id": "shopapp", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "tokend:mint:storefront", "tokend:mint:private", "tokend:mint:impersonation"}, "audiences": []string{"api"}}), 201).str("client_secret")
	want(t, s.call(t, "POST", "/v1/tenants/shop/projects", a, map[string]any{"id": "api", "audience": "api"}), 201)
	want(t, s.call(t, "POST", "/v1/tenants/shop/devices", a, map[string]any{"id": "kiosk-1", "type": "kiosk"}), 201)
	alice := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=alice@example.com", a, nil), 200).items()[0]["id"].(string)
	bearer := want(t, o.form(t, "token", "shopapp", sec, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
	exp := time.Now().Add(time.Hour).Unix()
	return kindsTenant{sec: sec, alice: alice, kind: func(k string, extra map[string]any) string {
		body := map[string]any{"kind": k, "expires_at": exp}
		for key, v := range extra {
			body[key] = v
		}
		return want(t, s.call(t, "POST", "/t/shop/tokens", bearer, body), 201).str("token")
	}}
}
