package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// audOf returns the aud claim of a JWT as a list.
func audOf(t *testing.T, tok string) []string {
	t.Helper()
	switch a := payload(t, tok)["aud"].(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// TestAccessTokenAudience: every access token has an aud (RFC 9068 §2.2)
// whatever path issues it: the client's audiences, else the tenant's
// default_audience, else the tenant's issuer URL.
func TestAccessTokenAudience(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		issuer := s.URL + "/t/shop"
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", a, map[string]any{"id": "bare", "grant_types": []string{"client_credentials"},
			"scopes": []string{"read"}}), 201)
		bare := want(t, s.call(t, "POST", "/v1/tenants/shop/clients/bare/secret", a, nil), 200).str("client_secret")
		cc := url.Values{"grant_type": {"client_credentials"}}
		alice := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=alice@example.com", a, nil), 200).items()[0]["id"].(string)

		// Every path that issues an access token, for a client or user
		// without audiences of its own.
		paths := map[string]func() string{
			"client_credentials": func() string { return want(t, o.form(t, "token", "bare", bare, cc), 200).str("access_token") },
			"password":           func() string { tok, _ := o.login(t); return tok },
			"refresh": func() string {
				_, rt := o.login(t)
				return want(t, o.refresh(t, rt), 200).str("access_token")
			},
			"admin mint": func() string {
				return want(t, s.call(t, "POST", "/v1/tenants/shop/tokens", a, map[string]any{"client_id": "bare"}), 201).str("access_token")
			},
			"admin mint for a user": func() string {
				return want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+alice+"/tokens", a, map[string]any{"lifetime": 3600}), 201).str("access_token")
			},
		}
		check := func(wantAud string) {
			t.Helper()
			for name, mint := range paths {
				tok := mint()
				if got := audOf(t, tok); !slices.Equal(got, []string{wantAud}) {
					t.Errorf("%s: aud %v, want [%s]", name, got, wantAud)
				}
			}
		}
		check(issuer)

		// A renewal keeps the audience.
		tok := paths["admin mint for a user"]()
		req, _ := http.NewRequest("POST", s.URL+"/t/shop/tokens/renew", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if got := audOf(t, want(t, send(t, req), 200).str("access_token")); !slices.Equal(got, []string{issuer}) {
			t.Fatalf("renewed aud %v", got)
		}

		// The tenant's default_audience replaces the issuer URL.
		want(t, s.call(t, "PATCH", "/v1/tenants/shop", a, map[string]any{"policy": map[string]any{"password_grant": true, "default_audience": "https://api.shop.example"}}), 200)
		// The token endpoint learns of the change through the change log.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if got := audOf(t, paths["client_credentials"]()); slices.Equal(got, []string{"https://api.shop.example"}) {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("default_audience not applied after 10 s: aud %v", got)
			}
		}
		check("https://api.shop.example")
		// It may be asked for, and an opaque token records it too.
		r := want(t, o.form(t, "token", "bare", bare, url.Values{"grant_type": {"client_credentials"}, "audience": {"https://api.shop.example"}}), 200)
		if got := audOf(t, r.str("access_token")); !slices.Equal(got, []string{"https://api.shop.example"}) {
			t.Fatalf("asked-for default aud %v", got)
		}
		op := want(t, s.call(t, "POST", "/v1/tenants/shop/tokens", a, map[string]any{"client_id": "bare", "format": "opaque"}), 201)
		if row := want(t, s.call(t, "GET", "/v1/tenants/shop/tokens/"+op.str("id"), a, nil), 200); fmt.Sprint(row.Body["audience"]) != "[https://api.shop.example]" {
			t.Fatalf("opaque token audience %v", row.Body["audience"])
		}
		// A client's own audiences still win.
		if got := audOf(t, want(t, o.form(t, "token", "svc", o.svcSecret, cc), 200).str("access_token")); !slices.Equal(got, []string{"https://orders.example.com"}) {
			t.Fatalf("client audiences %v", got)
		}

		// default_audience is validated, and is a tenant setting only.
		if r := s.call(t, "PATCH", "/v1/tenants/shop", a, map[string]any{"policy": map[string]any{"default_audience": "has space"}}); r.Status != 422 || r.str("field") != "policy.default_audience" {
			t.Fatalf("bad default_audience: %d %s", r.Status, r.Raw)
		}
		if r := s.call(t, "PATCH", "/v1/tenants/shop/clients/bare", a, map[string]any{"policy": map[string]any{"default_audience": "x"}}); r.Status != 422 || r.str("field") != "policy.default_audience" {
			t.Fatalf("client default_audience: %d %s", r.Status, r.Raw)
		}
	})
}
