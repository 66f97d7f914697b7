package admin_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/token"
)

// TestGoldenErrors pins every error the admin API answers (authentication,
// routing, decoding, validation, not found, conflict) to
// testdata/*.golden, written from SQLite; the same cases on PostgreSQL
// must produce the same bytes.
func TestGoldenErrors(t *testing.T) {
	apptest.GoldenBackends(t, goldenErrors)
}

func goldenErrors(t *testing.T, s *apptest.Server, assert func(testing.TB, string, []byte)) {
	sys := s.Admin
	call := func(method, path, tok string, body any, status int) map[string]any {
		t.Helper()
		return s.Call(t, method, path, tok, body, status)
	}
	call("POST", "/v1/tenants", sys, map[string]any{"id": "shop"}, 201)
	call("POST", "/v1/tenants", sys, map[string]any{"id": "other"}, 201)
	call("POST", "/v1/tenants/shop/clients", sys, map[string]any{"id": "ops", "scopes": []string{"tokend:admin", "read"}}, 201)
	call("POST", "/v1/tenants/shop/clients", sys, map[string]any{"id": "svc", "scopes": []string{"read"}}, 201)
	call("POST", "/v1/tenants/shop/devices", sys, map[string]any{"id": "robot", "type": "service"}, 201)
	uid, _ := call("POST", "/v1/tenants/shop/users", sys, map[string]any{"login": "alice@example.com"}, 201)["id"].(string)
	mint := func(path string, body map[string]any) (id, tok string) {
		m := call("POST", path, sys, body, 201)
		id, _ = m["id"].(string)
		tok, _ = m["access_token"].(string)
		return id, tok
	}
	_, tenantAdmin := mint("/v1/tenants/shop/tokens", map[string]any{"client_id": "ops", "scope": "tokend:admin"})
	revokedID, revoked := mint("/v1/tenants/shop/tokens", map[string]any{"client_id": "ops", "scope": "tokend:admin"})
	call("POST", "/v1/tenants/shop/tokens/"+revokedID+"/revoke", sys, nil, 200)
	_, plain := mint("/v1/tenants/shop/tokens", map[string]any{"client_id": "svc", "scope": "read"})
	_, device := mint("/v1/tenants/shop/devices/robot/tokens", map[string]any{})

	// send pins the answer to a request; a body is sent as
	// application/json unless the headers name another Content-Type (""
	// for none).
	send := func(name, method, path, tok, body string, hdr ...string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		r, err := http.NewRequest(method, s.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			if r.Header.Set(hdr[i], hdr[i+1]); hdr[i+1] == "" {
				r.Header.Del(hdr[i])
			}
		}
		got := golden.Fetch(t, r)
		t.Run(name, func(t *testing.T) { assert(t, name, got) })
	}

	// Who is calling.
	send("admin.error.no_token", "GET", "/v1/tenants", "", "")
	send("admin.error.basic_authorization", "GET", "/v1/tenants", "", "", "Authorization", "Basic c3ZjOng=")
	send("admin.error.malformed_token", "GET", "/v1/tenants", "nope", "")
	send("admin.error.unknown_token", "GET", "/v1/tenants", token.NewOpaque(token.TagAdmin), "")
	send("admin.error.revoked_token", "GET", "/v1/tenants/shop", revoked, "")
	send("admin.error.device_token", "GET", "/v1/tenants/shop", device, "")
	send("admin.error.insufficient_scope", "GET", "/v1/tenants/shop", plain, "")
	send("admin.error.system_only", "GET", "/v1/tenants", tenantAdmin, "")
	send("admin.error.other_tenant", "GET", "/v1/tenants/other/clients", tenantAdmin, "")

	// Routes.
	send("admin.error.no_route", "GET", "/v1/nope", sys, "")
	send("admin.error.method_not_allowed", "PUT", "/v1/tenants", sys, `{}`)

	// Not found and conflicts.
	send("admin.error.unknown_tenant", "GET", "/v1/tenants/nope", sys, "")
	send("admin.error.unknown_client", "GET", "/v1/tenants/shop/clients/nope", sys, "")
	send("admin.error.unknown_user_delete", "DELETE", "/v1/tenants/shop/users/nope", sys, "")
	send("admin.error.unknown_token_id", "GET", "/v1/tenants/shop/tokens/nope", sys, "")
	send("admin.error.unknown_token_renew", "POST", "/v1/tenants/shop/tokens/nope/renew", sys, "")
	send("admin.error.unknown_client_mint", "POST", "/v1/tenants/shop/tokens", sys, `{"client_id":"nope"}`)
	send("admin.error.duplicate_tenant", "POST", "/v1/tenants", sys, `{"id":"shop"}`)
	send("admin.error.duplicate_client", "POST", "/v1/tenants/shop/clients", sys, `{"id":"ops"}`)

	// The request body.
	send("admin.error.no_content_type", "POST", "/v1/tenants", sys, `{"id":"x"}`, "Content-Type", "")
	send("admin.error.content_type", "POST", "/v1/tenants", sys, `{"id":"x"}`, "Content-Type", "text/plain")
	big := `{"id":"` + strings.Repeat("x", int(s.Cfg.MaxBodyBytes)) + `"}`
	send("admin.error.too_large", "POST", "/v1/tenants", sys, big)
	send("admin.error.empty_body", "POST", "/v1/tenants", sys, "", "Content-Type", "application/json")
	send("admin.error.truncated_json", "POST", "/v1/tenants", sys, `{"id":`)
	send("admin.error.malformed_json", "POST", "/v1/tenants", sys, `{"id" "x"}`)
	send("admin.error.unknown_field", "POST", "/v1/tenants", sys, `{"id":"x","nope":1}`)
	send("admin.error.wrong_type", "POST", "/v1/tenants", sys, `{"id":5}`)
	send("admin.error.not_an_object", "POST", "/v1/tenants", sys, `[]`)
	send("admin.error.trailing_data", "POST", "/v1/tenants", sys, `{"id":"x"} {}`)

	// Values.
	send("admin.error.invalid_tenant_id", "POST", "/v1/tenants", sys, `{"id":"Bad Id"}`)
	send("admin.error.unknown_grant_type", "POST", "/v1/tenants/shop/clients", sys, `{"id":"web","grant_types":["magic"]}`)
	send("admin.error.limit", "GET", "/v1/tenants?limit=0", sys, "")
	send("admin.error.tokens_active", "GET", "/v1/tenants/shop/tokens?active=maybe", sys, "")
	send("admin.error.audit_from", "GET", "/v1/tenants/shop/audit?from=yesterday", sys, "")
	send("admin.error.audit_after", "GET", "/v1/tenants/shop/audit?after=-1", sys, "")
	send("admin.error.revocation_no_scope", "POST", "/v1/tenants/shop/revocations", sys, `{}`)
	send("admin.error.revocation_unknown_scope", "POST", "/v1/tenants/shop/revocations", sys, `{"scope":"planet"}`)
	send("admin.error.revocation_no_subject_type", "POST", "/v1/tenants/shop/revocations", sys, `{"scope":"subject","key":"kiosk-1"}`)
	send("admin.error.mint_no_client", "POST", "/v1/tenants/shop/tokens", sys, `{}`)
	send("admin.error.mint_scope", "POST", "/v1/tenants/shop/tokens", sys, `{"client_id":"svc","scope":"write"}`)
	send("admin.error.mint_kind_unknown", "POST", "/v1/tenants/shop/clients/ops/tokens", sys, `{"kind":"magic"}`)
	send("admin.error.device_cookie", "POST", "/v1/tenants/shop/devices/robot/tokens", sys, `{"cookie":true}`)
	send("admin.error.device_bind_referer", "POST", "/v1/tenants/shop/devices/robot/tokens", sys, `{"bind_referer":true}`)
	send("admin.error.user_bind_referer", "POST", "/v1/tenants/shop/users/"+uid+"/tokens", sys, `{"bind_referer":true}`)
	send("admin.error.secret_ref_invalid", "POST", "/v1/tenants/shop/clients", sys,
		`{"id":"vaulted","secret_ref":{"backend":"vault","path":"secret/{tenant}/{project}/{client}","field":"secret_id"}}`)
	send("admin.error.secret_ref_and_secret", "POST", "/v1/tenants/shop/clients", sys,
		`{"id":"vaulted","secret":"chosen-secret-1","secret_ref":{"backend":"vault","mount":"kv","path":"apps/{client}","field":"secret_id"}}`)
	send("admin.error.secret_ref_client_field", "POST", "/v1/tenants/shop/clients", sys,
		`{"id":"vaulted","secret_ref":{"backend":"vault","mount":"kv","path":"apps/{client}","field":"secret_id","client":"other"}}`)
	send("admin.error.trusted_issuer_alg_none", "POST", "/v1/tenants/shop/trusted-issuers", sys, `{"id":"corp","issuer":"https://id.example.com/","audiences":["tokend"],"algorithms":["none"]}`)
	send("admin.error.trusted_issuer_hs256", "POST", "/v1/tenants/shop/trusted-issuers", sys, `{"id":"corp","issuer":"https://id.example.com/","audiences":["tokend"],"algorithms":["RS256","HS256"]}`)
	send("admin.error.trusted_issuer_no_audience", "POST", "/v1/tenants/shop/trusted-issuers", sys, `{"id":"corp","issuer":"https://id.example.com/","algorithms":["RS256"]}`)
	send("admin.error.trusted_issuer_plain_http", "POST", "/v1/tenants/shop/trusted-issuers", sys, `{"id":"corp","issuer":"http://id.example.com/","audiences":["tokend"],"algorithms":["RS256"]}`)
	send("admin.trusted_issuer.create", "POST", "/v1/tenants/shop/trusted-issuers", sys, `{"id":"corp","issuer":"https://id.example.com/","audiences":["tokend"],"algorithms":["RS256","ES256"],"user_claim":"email","require_email_verified":true,"max_age":3600,"introspection_url":"https://id.example.com/introspect","introspection_client_id":"tokend","introspection_secret":"s3cret"}`)
	send("admin.error.trusted_issuer_duplicate", "POST", "/v1/tenants/shop/trusted-issuers", sys, `{"id":"corp2","issuer":"https://id.example.com/","audiences":["tokend"],"algorithms":["RS256"]}`)
	send("admin.error.trusted_issuer_unknown", "GET", "/v1/tenants/shop/trusted-issuers/nope", sys, "")
	send("admin.error.key_algorithm", "POST", "/v1/tenants/shop/keys/rotate", sys, `{"alg":"none"}`)
}
