package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/tokend/tokend/verify"
)

// TestEveryKindRFC9068: a token of every kind carries aud and client_id
// (RFC 9068 §2.2) — the requested audience, else the client's, else the
// tenant's default — so go-oidc configured with that audience accepts it
// and one configured with another refuses it; the verifier library and the
// gateway check (?audience=) refuse it with "audience mismatch".
func TestEveryKindRFC9068(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		ctx := context.Background()
		iss := s.URL + "/t/shop"
		k := setupKinds(t, s, o)
		sec, alice, kind := k.sec, k.alice, k.kind
		prov, err := oidc.NewProvider(ctx, iss)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			kind     string
			token    string
			audience string
			clientID string
			headers  map[string]string
		}{
			{kind: "access", token: want(t, o.form(t, "token", "shopapp", sec, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}), 200).str("access_token"), audience: "api", clientID: "shopapp"},
			{kind: "device", token: want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, map[string]any{"expires_in": 600}), 201).str("access_token"), audience: iss, clientID: "shop"},
			{kind: "device for a project", token: want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, map[string]any{"audience": "api", "expires_in": 600}), 201).str("access_token"), audience: "api", clientID: "shop"},
			{kind: "user", token: want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+alice+"/tokens", a, map[string]any{}), 201).str("access_token"), audience: iss, clientID: "shop"},
			{kind: "storefront", token: kind("storefront", map[string]any{"allowed_cors_origins": []string{"https://shop.example.com"}}), audience: "api", clientID: "shopapp", headers: map[string]string{"Origin": "https://shop.example.com"}},
			{kind: "private", token: kind("private", nil), audience: "api", clientID: "shopapp"},
			{kind: "impersonation", token: kind("impersonation", nil), audience: "api", clientID: "shopapp", headers: map[string]string{"X-Tokend-Customer-Id": alice}},
			{kind: "customer", token: want(t, s.call(t, "POST", "/t/shop/customers/login", "", map[string]any{"email": "alice@example.com", "password": userPassword}), 200).str("token"), audience: iss, clientID: "shop"},
		} {
			t.Run(tc.kind, func(t *testing.T) {
				c := payload(t, tc.token)
				if c["client_id"] != tc.clientID {
					t.Fatalf("client_id %v, want %q: %v", c["client_id"], tc.clientID, c)
				}
				if _, err := prov.VerifierContext(ctx, &oidc.Config{ClientID: tc.audience, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, tc.token); err != nil {
					t.Fatalf("go-oidc with audience %q: %v (claims %v)", tc.audience, err, c)
				}
				if _, err := prov.VerifierContext(ctx, &oidc.Config{ClientID: "other", SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, tc.token); err == nil {
					t.Fatal("go-oidc with audience \"other\" accepted the token")
				}
				check := func(audience string) response {
					req, _ := http.NewRequest("GET", s.URL+"/t/shop/check?audience="+url.QueryEscape(audience), nil)
					req.Header.Set("Authorization", "Bearer "+tc.token)
					for k, v := range tc.headers {
						req.Header.Set(k, v)
					}
					return send(t, req)
				}
				want(t, check(tc.audience), 200)
				r := want(t, check("other"), 401)
				if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) || !strings.Contains(h, "audience mismatch") || !strings.Contains(r.str("error_description"), "audience mismatch") {
					t.Fatalf("gateway: %v %v", h, r.Body)
				}
				for _, aud := range []string{tc.audience, "other"} {
					v, err := verify.New(ctx, verify.Options{Issuer: iss, Audience: aud, Algorithms: []string{"ES256"}})
					if err != nil {
						t.Fatal(err)
					}
					_, err = v.Verify(ctx, tc.token)
					v.Close()
					if aud == tc.audience && err != nil {
						t.Fatalf("verify with audience %q: %v", aud, err)
					}
					if aud == "other" && (err == nil || !strings.Contains(err.Error(), "invalid_token: audience mismatch")) {
						t.Fatalf("verify with audience %q: %v", aud, err)
					}
				}
			})
		}
	})
}
