package tenantauth_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/internal/upstream/oidc/optest"
)

const (
	oidcSecret    = "legacy-oidc-secret-0123456789abcdef0123"
	grantExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// TestOIDCToken: both oidcToken routes exchange ID tokens of a real
// OpenID Connect provider (the zitadel/oidc example OP, trusted by the
// tenant) and an opaque access token checked by RFC 7662 introspection
// at it, through the token endpoint's RFC 8693 exchange, into HS256
// "oidc" tokens; every refusal in the original's shape; the provider
// gone is a 503. Pinned to testdata (SQLite; PostgreSQL compared).
func TestOIDCToken(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { oidcCases(t, "", golden.Assert) })
	t.Run("postgres", func(t *testing.T) { oidcCases(t, pgtest.NewDatabase(t), golden.Compare) })
}

func oidcCases(t *testing.T, db string, assert func(testing.TB, string, []byte)) {
	op := optest.Start(t)
	s := apptest.StartWith(t, db, apptest.Options{Config: func(c *config.Config) { c.UpstreamInsecureLoopback = true }})
	adm, b := s.Admin, "/v1/tenants/acme"
	s.Call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "acme"}, 201)
	s.Call(t, "POST", b+"/projects", adm, map[string]any{"id": "api", "audience": "acme-api"}, 201)
	s.Call(t, "POST", b+"/roles", adm, map[string]any{"name": "editor", "scopes": []string{"docs:write"}, "resources": []string{"docs"}}, 201)
	s.Call(t, "POST", b+"/groups", adm, map[string]any{"name": "writers", "roles": []string{"editor"}}, 201)
	// The OP's example user: its ID tokens have sub id1 (and no email).
	s.Call(t, "POST", b+"/users", adm, map[string]any{"login": "id1", "groups": []string{"writers"}}, 201)
	sec := s.Call(t, "POST", b+"/clients", adm, map[string]any{"id": "sdk", "grant_types": []string{"client_credentials", grantExchange}}, 201)["client_secret"].(string)
	plain := s.Call(t, "POST", b+"/clients", adm, map[string]any{"id": "plain", "grant_types": []string{"client_credentials"}}, 201)["client_secret"].(string)
	settings := func(required []string) {
		s.Call(t, "PUT", b+"/surfaces/tenantauth", adm, map[string]any{"oidc_required_claims": required, "clients": map[string]any{
			"sdk": map[string]any{"project_id": "api"}, "plain": map[string]any{"project_id": "api"}}}, 200)
	}
	settings(nil)
	for name, sc := range map[string]string{"default": defSecret, "sdk-agent": sdkSecret, "oidc": oidcSecret} {
		s.Call(t, "POST", b+"/keys/named", adm, map[string]any{"name": name, "secret": sc}, 204)
	}
	s.Call(t, "POST", b+"/trusted-issuers", adm, map[string]any{"id": "op", "issuer": op.Issuer, "audiences": []string{optest.WebClient},
		"algorithms": []string{"RS256"}, "user_claim": "sub"}, 201)

	f := &fixture{t: t, s: s, assert: assert}
	caller := tokenOf(t, f.exchange("oidc.caller", "POST", "/auth/user/generateToken", "",
		req(map[string]any{"tenant_id": "acme", "project_id": "api", "client_id": "sdk", "email_id": "id1", "secret_id": sec})))
	idt, _ := op.IDToken(t)
	ob := func(tok string) string { return req(map[string]any{"oidc_token": tok}) }
	for _, route := range []string{"admin", "user"} {
		tok := tokenOf(t, f.exchange(route+".oidcToken", "POST", "/auth/"+route+"/oidcToken", "Bearer "+caller, ob(idt)))
		d := decoded(t, tok, oidcSecret)
		t.Run(route+".oidcToken.decoded", func(t *testing.T) { assert(t, route+".oidcToken.decoded", d) })
		var c map[string]any
		raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		_ = json.Unmarshal(raw, &c)
		// The original's required fields, all known after mapping: the
		// trusted issuer, the OP's sub, the tenant user, the tenant, and
		// (the ID token has no email) the user's login.
		if c["token_type"] != "oidc" || c["provider"] != op.Issuer || c["provider_id"] != "id1" || c["email_id"] != "id1" ||
			c["user_id"] == "" || c["tenant_id"] != "acme" || c["jti"] == "" || c["client_id"] != "sdk" || c["project_id"] != "api" {
			t.Fatalf("oidc token claims %v", c)
		}
		if code, vb := f.quiet("GET", "/auth/"+route+"/verifyToken", "Bearer "+tok, ""); code != 200 || !strings.Contains(string(vb), `"token_type":"oidc"`) {
			t.Fatalf("verifyToken of an oidc token: %d %s", code, vb)
		}
	}
	// The ledger row is the exchange's.
	rows, _ := json.Marshal(s.Call(t, "GET", b+"/tokens?client_id=sdk", adm, nil, 200))
	if !strings.Contains(string(rows), `"grant":"token-exchange"`) || !strings.Contains(string(rows), `"format":"hmac"`) {
		t.Fatalf("ledger: %s", rows)
	}

	oc := "/auth/user/oidcToken"
	f.exchange("error.401.oidc_no_bearer", "POST", oc, "", ob(idt))
	f.exchange("error.401.oidc_bad_bearer", "POST", oc, "Bearer "+apptest.FlipLastBit(caller), ob(idt))
	f.exchange("error.400.oidc_malformed", "POST", oc, "Bearer "+caller, `{"oidc_token":`)
	f.exchange("error.400.oidc_missing", "POST", oc, "Bearer "+caller, `{}`)
	f.exchange("error.400.oidc_type", "POST", oc, "Bearer "+caller, `{"oidc_token":1}`)
	f.exchange("error.401.oidc_bad_signature", "POST", oc, "Bearer "+caller, ob(apptest.FlipLastBit(idt)))
	f.exchange("error.401.oidc_garbage", "POST", oc, "Bearer "+caller, ob("not-a-token-of-anyone"))
	other := optest.Start(t)
	foreign, _ := other.IDToken(t)
	f.exchange("error.401.oidc_foreign_issuer", "POST", oc, "Bearer "+caller, ob(foreign))
	// A client not allowed the token-exchange grant.
	pc := tokenOf(t, []byte(mustBody(t, f, "/auth/user/generateToken", req(map[string]any{"tenant_id": "acme", "project_id": "api", "client_id": "plain", "email_id": "id1", "secret_id": plain}))))
	f.exchange("error.401.oidc_client_without_exchange", "POST", oc, "Bearer "+pc, ob(idt))
	settings([]string{"sub", "email", "provider"})
	f.exchange("error.400.oidc_missing_fields", "POST", oc, "Bearer "+caller, ob(idt))
	// The original's own list, required of the token itself (as the
	// original requires it of Hydra's introspection ext): the OP's ID
	// token carries none of them. By default they are required of the
	// exchanged identity, which the mapping gives them (above).
	settings([]string{"provider", "provider_id", "user_id", "tenant_id", "email"})
	f.exchange("error.400.oidc_missing_original", "POST", oc, "Bearer "+caller, ob(idt))
	settings(nil)

	// An opaque access token, checked by introspection at the provider.
	s.Call(t, "PUT", b+"/trusted-issuers/op", adm, map[string]any{"id": "op", "issuer": op.Issuer, "audiences": []string{optest.WebClient},
		"algorithms": []string{"RS256"}, "user_claim": "sub", "introspection_url": op.Endpoint("introspection_endpoint"),
		"introspection_client_id": optest.WebClient, "introspection_secret": optest.WebSecret}, 200)
	_, opaque := op.IDToken(t)
	if strings.Count(opaque, ".") == 2 {
		t.Fatalf("the access token is a JWT: %s", opaque)
	}
	_, fresh := op.IDToken(t)
	if code, body := f.quiet("POST", oc, "Bearer "+caller, ob(opaque)); code != 200 {
		t.Fatalf("opaque token by introspection: %d %s", code, body)
	} else {
		decoded(t, tokenOf(t, body), oidcSecret)
	}
	// The provider gone: introspection cannot answer.
	op.Kill()
	code, body := f.quiet("POST", oc, "Bearer "+caller, ob(fresh))
	if code != 503 || !strings.Contains(string(body), `"error":"service unavailable"`) {
		t.Fatalf("provider gone: %d %s", code, body)
	}
}

func mustBody(t *testing.T, f *fixture, path, body string) string {
	t.Helper()
	code, b := f.quiet("POST", path, "", body)
	if code != 200 {
		t.Fatalf("%s: %d %s", path, code, b)
	}
	return string(b)
}
