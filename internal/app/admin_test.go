package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestAdminCRUD(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		adm := s.Admin
		r := want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "acme", "display_name": "Acme"}), 201)
		if r.str("issuer") != s.URL+"/t/acme" {
			t.Fatalf("issuer %q", r.str("issuer"))
		}
		want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "acme"}), 409)
		ids := []string{}
		for _, it := range want(t, s.call(t, "GET", "/v1/tenants", adm, nil), 200).items() {
			ids = append(ids, it["id"].(string))
		}
		if strings.Join(ids, ",") != "acme,system" {
			t.Fatalf("tenants %v", ids)
		}

		want(t, s.call(t, "POST", "/v1/tenants/acme/roles", adm, map[string]any{"name": "reader", "scopes": []string{"read"}, "resources": []string{"api"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/acme/groups", adm, map[string]any{"name": "staff", "roles": []string{"reader"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/acme/projects", adm, map[string]any{"id": "api"}), 201)

		c := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "svc", "scopes": []string{"read", "write"}, "audiences": []string{"api"}}), 201)
		secret := c.str("client_secret")
		if !strings.HasPrefix(secret, "tkd_cs_") {
			t.Fatalf("client secret %q", secret)
		}
		c = want(t, s.call(t, "GET", "/v1/tenants/acme/clients/svc", adm, nil), 200)
		if c.str("client_secret") != "" || strings.Contains(string(c.Raw), secret) {
			t.Fatal("secret shown again")
		}
		rot := want(t, s.call(t, "POST", "/v1/tenants/acme/clients/svc/secret", adm, nil), 200)
		if s2 := rot.str("client_secret"); s2 == secret || !strings.HasPrefix(s2, "tkd_cs_") {
			t.Fatalf("rotated secret %q", s2)
		}
		c = want(t, s.call(t, "PATCH", "/v1/tenants/acme/clients/svc", adm, map[string]any{"display_name": "Service", "disabled": true}), 200)
		if c.str("display_name") != "Service" || c.Body["disabled"] != true || len(c.Body["scopes"].([]any)) != 2 {
			t.Fatalf("patched client %s", c.Raw)
		}

		u := want(t, s.call(t, "POST", "/v1/tenants/acme/users", adm, map[string]any{"login": " Alice@Example.com", "password": "correct horse", "roles": []string{"reader"}, "groups": []string{"staff"}}), 201)
		if u.str("login") != "alice@example.com" || u.Body["has_password"] != true || strings.Contains(string(u.Raw), "correct horse") {
			t.Fatalf("user %s", u.Raw)
		}
		want(t, s.call(t, "POST", "/v1/tenants/acme/users", adm, map[string]any{"login": "ALICE@example.com"}), 409)
		bad := want(t, s.call(t, "POST", "/v1/tenants/acme/users", adm, map[string]any{"login": "bob", "roles": []string{"nope"}}), 422)
		if bad.str("field") != "roles" {
			t.Fatalf("unknown role: %s", bad.Raw)
		}
		found := want(t, s.call(t, "GET", "/v1/tenants/acme/users?login=alice@EXAMPLE.com", adm, nil), 200).items()
		if len(found) != 1 || found[0]["id"] != u.str("id") {
			t.Fatalf("find by login: %v", found)
		}
		if got := want(t, s.call(t, "GET", "/v1/tenants/acme/users?login=nobody@example.com", adm, nil), 200).items(); len(got) != 0 {
			t.Fatalf("find unknown login: %v", got)
		}

		d := want(t, s.call(t, "POST", "/v1/tenants/acme/devices", adm, map[string]any{"id": "kiosk-1", "type": "kiosk", "metadata": map[string]string{"site": "lobby"}}), 201)
		if !strings.HasPrefix(d.str("device_secret"), "tkd_ds_") {
			t.Fatalf("device %s", d.Raw)
		}
		want(t, s.call(t, "POST", "/v1/tenants/acme/devices", adm, map[string]any{"type": "toaster"}), 422)

		// pagination over projects
		for i := range 4 {
			want(t, s.call(t, "POST", "/v1/tenants/acme/projects", adm, map[string]any{"id": fmt.Sprintf("p%d", i)}), 201)
		}
		var seen []string
		next := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			r := want(t, s.call(t, "GET", "/v1/tenants/acme/projects?limit=2&after="+next, adm, nil), 200)
			for _, it := range r.items() {
				seen = append(seen, it["id"].(string))
			}
			if next = r.str("next"); next == "" {
				break
			}
		}
		if strings.Join(seen, ",") != "api,p0,p1,p2,p3" {
			t.Fatalf("paged projects %v", seen)
		}

		// delete and 404
		want(t, s.call(t, "DELETE", "/v1/tenants/acme/devices/kiosk-1", adm, nil), 204)
		want(t, s.call(t, "GET", "/v1/tenants/acme/devices/kiosk-1", adm, nil), 404)
		want(t, s.call(t, "DELETE", "/v1/tenants/acme/devices/kiosk-1", adm, nil), 404)
		want(t, s.call(t, "GET", "/v1/tenants/nope/clients", adm, nil), 404)

		// audit trail of all that, chained
		ev := want(t, s.call(t, "GET", "/v1/tenants/acme/audit?action=client.create", adm, nil), 200).items()
		if len(ev) != 1 || ev[0]["subject"] != "svc" || ev[0]["actor"] != "system/admin" || ev[0]["remote_addr"] != "127.0.0.1" {
			t.Fatalf("audit %v", ev)
		}
		v := want(t, s.call(t, "GET", "/v1/tenants/acme/audit/verify", adm, nil), 200)
		if v.Body["ok"] != true || v.Body["events"].(float64) < 10 {
			t.Fatalf("verify %s", v.Raw)
		}

		want(t, s.call(t, "DELETE", "/v1/tenants/acme", adm, nil), 204)
		want(t, s.call(t, "GET", "/v1/tenants/acme/clients", adm, nil), 404)
		want(t, s.call(t, "DELETE", "/v1/tenants/system", adm, nil), 403)
	})
}

func TestAdminTokens(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		adm := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "acme"}), 201)
		want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "other"}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "ops", "scopes": []string{"tokend:admin", "read"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "app", "scopes": []string{"read"}}), 201)

		mint := want(t, s.call(t, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "ops", "scope": "tokend:admin", "expires_in": 600}), 201)
		if mint.Header.Get("Cache-Control") != "no-store" || mint.Body["expires_in"].(float64) != 600 || mint.str("token_type") != "Bearer" {
			t.Fatalf("mint %s", mint.Raw)
		}
		ta := mint.str("access_token")
		who := want(t, s.call(t, "GET", "/v1/whoami", ta, nil), 200)
		if who.str("tenant") != "acme" || who.Body["system_admin"] != false || who.str("subject") != "ops" {
			t.Fatalf("whoami %s", who.Raw)
		}
		// a tenant admin manages its tenant only
		want(t, s.call(t, "GET", "/v1/tenants/acme/clients", ta, nil), 200)
		want(t, s.call(t, "GET", "/v1/tenants/acme", ta, nil), 200)
		want(t, s.call(t, "POST", "/v1/tenants/acme/roles", ta, map[string]any{"name": "r"}), 201)
		for _, c := range []struct{ method, path string }{
			{"GET", "/v1/tenants/other/clients"}, {"GET", "/v1/tenants"}, {"POST", "/v1/tenants"},
			{"GET", "/v1/tenants/other"}, {"DELETE", "/v1/tenants/acme"}, {"GET", "/v1/tenants/system/audit"},
		} {
			r := s.call(t, c.method, c.path, ta, map[string]any{"id": "x"})
			if r.Status != http.StatusForbidden || r.str("error") != "forbidden" {
				t.Errorf("%s %s as tenant admin: %d %s", c.method, c.path, r.Status, r.Raw)
			}
		}
		// a token without the admin scope
		plain := want(t, s.call(t, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "app"}), 201).str("access_token")
		r := want(t, s.call(t, "GET", "/v1/tenants/acme/clients", plain, nil), 403)
		if r.str("error") != "insufficient_scope" || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Fatalf("no scope: %s %v", r.Raw, r.Header)
		}
		// scope and lifetime bounds
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "app", "scope": "write"}), 422)
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "app", "expires_in": 0}), 422)
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "app", "expires_in": 86401}), 422)
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "ghost"}), 422)
		// opaque API key
		op := want(t, s.call(t, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "ops", "scope": "tokend:admin", "format": "opaque"}), 201)
		if !strings.HasPrefix(op.str("access_token"), "tkd_at_") {
			t.Fatalf("opaque %s", op.Raw)
		}
		want(t, s.call(t, "GET", "/v1/tenants/acme/clients", op.str("access_token"), nil), 200)

		// ledger
		rows := want(t, s.call(t, "GET", "/v1/tenants/acme/tokens?client_id=ops", adm, nil), 200).items()
		if len(rows) != 2 {
			t.Fatalf("ledger rows %v", rows)
		}
		for _, row := range rows {
			if strings.Contains(fmt.Sprint(row), "tkd_") || strings.Contains(fmt.Sprint(row), "eyJ") {
				t.Fatal("ledger shows a token value")
			}
		}
		row := want(t, s.call(t, "GET", "/v1/tenants/acme/tokens/"+mint.str("id"), adm, nil), 200)
		if row.str("subject") != "ops" || row.Body["revoked_at"] != nil {
			t.Fatalf("row %s", row.Raw)
		}
		// revoking ends both forms at once
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens/"+mint.str("id")+"/revoke", adm, nil), 200)
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens/"+op.str("id")+"/revoke", adm, nil), 200)
		for _, tok := range []string{ta, op.str("access_token")} {
			r := want(t, s.call(t, "GET", "/v1/whoami", tok, nil), 401)
			if r.str("error") != "invalid_token" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Fatalf("revoked: %s %v", r.Raw, r.Header)
			}
		}
		active := want(t, s.call(t, "GET", "/v1/tenants/acme/tokens?client_id=ops&active=true", adm, nil), 200).items()
		if len(active) != 0 {
			t.Fatalf("active after revoke: %v", active)
		}
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens/nope/revoke", adm, nil), 404)
	})
}

func TestAdminAuthentication(t *testing.T) {
	t.Parallel()
	s := start(t, backends[0])
	cases := []struct {
		name, auth, code string
	}{
		{"none", "", "unauthenticated"},
		{"basic", "Basic YTpi", "invalid_token"},
		{"empty bearer", "Bearer ", "invalid_token"},
		{"garbage", "Bearer garbage", "invalid_token"},
		{"forged jwt", "Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJodHRwOi8veC90L3N5c3RlbSIsInNjb3BlIjoidG9rZW5kOmFkbWluIn0.", "invalid_token"},
		{"unknown opaque", "Bearer tkd_adm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA000000", "invalid_token"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", s.URL+"/v1/tenants", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		r := send(t, req)
		if r.Status != 401 || r.str("error") != c.code || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %s %v", c.name, r.Status, r.Raw, r.Header.Get("WWW-Authenticate"))
		}
	}
}
