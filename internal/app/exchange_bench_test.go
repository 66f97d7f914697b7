package app_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/upstream/oidc/optest"
)

// BenchmarkTokenExchange measures RFC 8693 token exchange of a real
// provider's ID token (its keys cached: one extra RS256 verification per
// request, beside tokend's own ES256 signature) next to client_credentials,
// both through the handler on SQLite with 64 requests in flight, in one
// run:
//
//	TOKEND_TEST_OIDC=... go test -run '^$' -bench TokenExchange -benchtime 3s ./internal/app
func BenchmarkTokenExchange(b *testing.B) {
	op := optest.Start(b)
	s := apptest.StartWith(b, "", apptest.Options{Config: func(c *config.Config) { c.UpstreamInsecureLoopback = true }})
	a, p := s.Admin, "/v1/tenants/acme"
	s.Call(b, "POST", "/v1/tenants", a, map[string]any{"id": "acme"}, 201)
	s.Call(b, "POST", p+"/roles", a, map[string]any{"name": "reader", "scopes": []string{"read"}, "resources": []string{"orders/*"}}, 201)
	s.Call(b, "POST", p+"/users", a, map[string]any{"login": "id1", "roles": []string{"reader"}}, 201)
	s.Call(b, "POST", p+"/trusted-issuers", a, map[string]any{"id": "op", "issuer": op.Issuer, "audiences": []string{optest.WebClient},
		"algorithms": []string{"RS256"}}, 201)
	xs, _ := s.Call(b, "POST", p+"/clients", a, map[string]any{"id": "x", "grant_types": []string{grantExchange}, "scopes": []string{"read"}}, 201)["client_secret"].(string)
	ss, _ := s.Call(b, "POST", p+"/clients", a, map[string]any{"id": "svc", "grant_types": []string{"client_credentials"}, "scopes": []string{"read"}}, 201)["client_secret"].(string)
	id, _ := op.IDToken(b)
	h := s.App.Handler()
	for _, tc := range []struct {
		name, client, secret string
		form                 url.Values
	}{
		{"client_credentials", "svc", ss, url.Values{"grant_type": {"client_credentials"}}},
		{"token_exchange", "x", xs, url.Values{"grant_type": {grantExchange}, "subject_token": {id}, "subject_token_type": {typeID}}},
	} {
		body := tc.form.Encode()
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			// Many requests in flight, as a loaded server has: CPU-bound,
			// not bound by the ledger's commit latency.
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/t/acme/oauth2/token", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(tc.client, tc.secret)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Errorf("%s: %d %s", tc.name, w.Code, w.Body)
						return
					}
				}
			})
		})
	}
}
