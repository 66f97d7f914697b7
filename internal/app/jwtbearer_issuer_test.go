package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestJWTBearerTrustedIssuer: an RFC 7523 assertion signed by a trusted
// issuer is accepted. The issuer is another tenant of this same tokend (a
// foreign issuer like any other, with discovery and a JWKS): its admin
// mints a short-lived token whose audience is tenant acme's token
// endpoint, and acme's client exchanges it for a token of acme's user
// named by its sub; the same assertion again is a replay; one of another
// audience or too long-lived is refused.
func TestJWTBearerTrustedIssuer(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, nil)
		s, a := e.s, e.s.Admin
		tokenURL := s.URL + "/t/acme/oauth2/token"
		want(t, s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": "idp", "policy": map[string]any{"signing_alg": "RS256"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/idp/clients", a, map[string]any{"id": "svc-42", "audiences": []string{tokenURL, "elsewhere"}}), 201)
		// acme trusts idp for assertions naming its token endpoint, and has
		// the user the assertion's sub names.
		e.trust(t, "idp", s.URL+"/t/idp", map[string]any{"audiences": []string{tokenURL}, "algorithms": []string{"RS256"}})
		want(t, s.call(t, "POST", "/v1/tenants/acme/users", a, map[string]any{"login": "svc-42", "roles": []string{"reader"}}), 201)
		mint := func(aud string, ttl int) string {
			return want(t, s.call(t, "POST", "/v1/tenants/idp/tokens", a, map[string]any{"client_id": "svc-42", "audience": aud, "expires_in": ttl}), 201).str("access_token")
		}
		use := func(assertion string) response {
			req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(url.Values{"grant_type": {grantBearer}, "assertion": {assertion}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("x", e.secret)
			return send(t, req)
		}
		assertion := mint(tokenURL, 120)
		r := want(t, use(assertion), 200)
		c := payload(t, r.str("access_token"))
		user := want(t, s.call(t, "GET", "/v1/tenants/acme/users?login=svc-42", a, nil), 200).items()[0]
		if c["iss"] != s.URL+"/t/acme" || c["sub"] != user["id"] || c["idp"] != s.URL+"/t/idp" || !strings.Contains(c["scope"].(string), "read") {
			t.Fatalf("claims %v", c)
		}
		oauthError(t, use(assertion), 400, "invalid_grant", "replayed")
		oauthError(t, use(mint("elsewhere", 120)), 400, "invalid_grant", "")
		oauthError(t, use(mint(tokenURL, 3600)), 400, "invalid_grant", "ahead")
		l := e.ledger(t)
		last := l[0]
		for _, row := range l {
			if row.IssuedAt.After(last.IssuedAt) {
				last = row
			}
		}
		if last.Grant != "jwt-bearer" || last.IDP != s.URL+"/t/idp" {
			t.Errorf("ledger row %+v", last)
		}
	})
}
