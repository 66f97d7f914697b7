package tenantauth_test

import (
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/upstream/oidc/optest"
)

// BenchmarkSurface measures generateToken beside client_credentials and
// oidcToken beside the native RFC 8693 token exchange of the same real
// provider's ID token, through the handler on SQLite with many requests
// in flight, in one run:
//
//	TOKEND_TEST_OIDC=... go test -run '^$' -bench Surface -benchtime 2s ./internal/compat/tenantauth
func BenchmarkSurface(b *testing.B) {
	op := optest.Start(b)
	s := apptest.StartWith(b, "", apptest.Options{Config: func(c *config.Config) { c.UpstreamInsecureLoopback = true }})
	adm, p := s.Admin, "/v1/tenants/acme"
	s.Call(b, "POST", "/v1/tenants", adm, map[string]any{"id": "acme"}, 201)
	s.Call(b, "POST", p+"/projects", adm, map[string]any{"id": "api", "audience": "acme-api"}, 201)
	s.Call(b, "POST", p+"/roles", adm, map[string]any{"name": "reader", "scopes": []string{"docs:read"}}, 201)
	s.Call(b, "POST", p+"/users", adm, map[string]any{"login": "id1", "roles": []string{"reader"}}, 201)
	s.Call(b, "POST", p+"/trusted-issuers", adm, map[string]any{"id": "op", "issuer": op.Issuer, "audiences": []string{optest.WebClient},
		"algorithms": []string{"RS256"}, "user_claim": "sub"}, 201)
	sec := s.Call(b, "POST", p+"/clients", adm, map[string]any{"id": "sdk", "grant_types": []string{"client_credentials", grantExchange}, "scopes": []string{"docs:read"}}, 201)["client_secret"].(string)
	s.Call(b, "PUT", p+"/surfaces/tenantauth", adm, map[string]any{"clients": map[string]any{"sdk": map[string]any{"project_id": "api"}}}, 200)
	for name, sc := range map[string]string{"sdk-agent": sdkSecret, "oidc": oidcSecret} {
		s.Call(b, "POST", p+"/keys/named", adm, map[string]any{"name": name, "secret": sc}, 204)
	}
	gen := req(map[string]any{"tenant_id": "acme", "project_id": "api", "client_id": "sdk", "email_id": "id1", "secret_id": sec})
	h := s.App.Handler()
	call := func(path, ctype, authz, body string) (int, string) {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	code, out := call("/auth/user/generateToken", "application/json", "", gen)
	if code != 200 {
		b.Fatalf("generateToken: %d %s", code, out)
	}
	bearer := "Bearer " + tokenOf(b, []byte(out))
	id, _ := op.IDToken(b)
	basic := "Basic " + basicAuth("sdk", sec)
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct{ name, path, ctype, authz, body string }{
		{"client_credentials", "/t/acme/oauth2/token", form, basic, url.Values{"grant_type": {"client_credentials"}}.Encode()},
		{"generateToken", "/auth/user/generateToken", "application/json", "", gen},
		{"token_exchange", "/t/acme/oauth2/token", form, basic, url.Values{"grant_type": {grantExchange}, "subject_token": {id},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}}.Encode()},
		{"oidcToken", "/auth/user/oidcToken", "application/json", bearer, req(map[string]any{"oidc_token": id})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code, out := call(tc.path, tc.ctype, tc.authz, tc.body); code != 200 {
						b.Errorf("%s: %d %s", tc.name, code, out)
						return
					}
				}
			})
		})
	}
}

func basicAuth(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}
