package app_test

import (
	"net/http"
	"testing"
	"time"
)

// TestSeed001Rules: the core rules the BigCommerce surface added are the
// native API's too: BigCommerce's creation scopes are mint rights and
// never travel into minted tokens, a private token takes its own scopes
// (only a private token), a tenant's listed channels bound channel_ids,
// a user may be created with a chosen id, and Node's fetch (Sec-Fetch-Mode
// alone) is not a browser.
func TestSeed001Rules(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		a := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": "store"}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/store/clients", a, map[string]any{"id": "acct", "grant_types": []string{"client_credentials"},
			"scopes": []string{"read", "store_storefront_api"}}), 201)
		bearer := want(t, s.call(t, "POST", "/v1/tenants/store/tokens", a, map[string]any{"client_id": "acct", "format": "opaque"}), 201).str("access_token")
		exp := time.Now().Add(time.Hour).Unix()
		mint := func(body any) response { return s.call(t, "POST", "/t/store/tokens", bearer, body) }

		pt := want(t, mint(map[string]any{"kind": "private", "expires_at": exp, "scopes": []string{"Customer", "Customer"}}), 201).str("token")
		if c := payload(t, pt); c["scope"] != "Customer" {
			t.Fatalf("private token claims %s", c)
		}
		sf := want(t, mint(map[string]any{"kind": "storefront", "expires_at": exp, "allowed_cors_origins": []string{"https://a.example"}}), 201).str("token")
		if c := payload(t, sf); c["scope"] != "read" {
			t.Fatalf("storefront token claims %s", c)
		}
		for name, body := range map[string]map[string]any{
			"scopes on a storefront token": {"kind": "storefront", "expires_at": exp, "scopes": []string{"Customer"}},
			"a mint right as a scope":      {"kind": "private", "expires_at": exp, "scopes": []string{"store_storefront_api"}},
			"empty scopes":                 {"kind": "private", "expires_at": exp, "scopes": []string{}},
		} {
			if r := mint(body); r.Status != 422 {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := mint(map[string]any{"kind": "impersonation", "expires_at": exp}); r.Status != 403 {
			t.Errorf("impersonation with store_storefront_api only: %d", r.Status)
		}

		// ?channel= at the gateway check: a token bound to channel 1 only there.
		ch := want(t, mint(map[string]any{"kind": "private", "expires_at": exp, "channel_ids": []int{1}, "scopes": []string{"Customer"}}), 201).str("token")
		for q, status := range map[string]int{"?channel=1": 200, "?channel=2": 403, "": 200} {
			r, _ := http.NewRequest("GET", s.URL+"/t/store/check"+q, nil)
			r.Header.Set("Authorization", "Bearer "+ch)
			if got := send(t, r); got.Status != status {
				t.Errorf("check%s: %d, want %d", q, got.Status, status)
			}
		}

		// Node's fetch sends Sec-Fetch-Mode: cors from servers.
		req, _ := http.NewRequest("GET", s.URL+"/t/store/check", nil)
		req.Header.Set("Authorization", "Bearer "+pt)
		req.Header.Set("Sec-Fetch-Mode", "cors")
		if r := send(t, req); r.Status != 200 {
			t.Errorf("private token with Sec-Fetch-Mode alone: %d %s", r.Status, r.Raw)
		}
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if r := send(t, req); r.Status != 403 {
			t.Errorf("private token with Fetch Metadata: %d", r.Status)
		}

		if id := want(t, s.call(t, "POST", "/v1/tenants/store/users", a, map[string]any{"id": "42", "login": "jane@example.com"}), 201).str("id"); id != "42" {
			t.Errorf("user id %q", id)
		}
		if r := s.call(t, "POST", "/v1/tenants/store/users", a, map[string]any{"id": "42", "login": "other@example.com"}); r.Status != 409 {
			t.Errorf("second user 42: %d", r.Status)
		}
	})
}
