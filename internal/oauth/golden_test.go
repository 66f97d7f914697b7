package oauth_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/token"
)

// TestGolden pins the responses of the RFC endpoints (token,
// introspection, revocation, discovery, JWKS), errors included, to
// testdata/*.golden (the gateway's check and feed have theirs in
// internal/gateway). The golden files
// are written from SQLite; the same cases on PostgreSQL must produce the
// same bytes.
func TestGolden(t *testing.T) {
	apptest.GoldenBackends(t, goldenCases)
}

const password = "correct horse battery"

// fixture is tenant "shop" with its clients, and tenant "other".
type fixture struct{ *apptest.Wire }

func setup(t *testing.T, s *apptest.Server, assert func(testing.TB, string, []byte)) *fixture {
	f := &fixture{apptest.NewWire(t, s, assert)}
	f.Admin("POST", "/v1/tenants", map[string]any{"id": "shop", "policy": map[string]any{"password_grant": true}}, 201)
	f.Admin("POST", "/v1/tenants", map[string]any{"id": "other"}, 201)
	p := "/v1/tenants/shop"
	f.Admin("POST", p+"/projects", map[string]any{"id": "orders", "audience": "https://orders.example.com"}, 201)
	f.Admin("POST", p+"/projects", map[string]any{"id": "billing", "audience": "https://billing.example.com"}, 201)
	f.Admin("POST", p+"/roles", map[string]any{"name": "reader", "scopes": []string{"read"}, "resources": []string{"orders/*"}}, 201)
	f.Admin("POST", p+"/roles", map[string]any{"name": "writer", "scopes": []string{"write"}}, 201)
	f.Admin("POST", p+"/groups", map[string]any{"name": "staff", "roles": []string{"writer"}}, 201)
	for _, login := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		f.Admin("POST", p+"/users", map[string]any{"login": login, "password": password, "roles": []string{"reader"}, "groups": []string{"staff"}}, 201)
	}
	f.Client("shop", map[string]any{"id": "svc", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "write"}, "audiences": []string{"https://orders.example.com"}})
	for _, id := range []string{"app", "app2"} {
		f.Client("shop", map[string]any{"id": id, "grant_types": []string{"password", "refresh_token"},
			"scopes": []string{"read", "write"}, "policy": map[string]any{"password_grant": true}})
	}
	f.Client("shop", map[string]any{"id": "pub", "public": true, "grant_types": []string{"client_credentials", "password"}, "scopes": []string{"read"}})
	f.Client("shop", map[string]any{"id": "kinds", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "tokend:mint:storefront", "tokend:mint:private", "tokend:mint:impersonation"}})
	f.Client("shop", map[string]any{"id": "xc", "grant_types": []string{"urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"scopes": []string{"read", "write"}, "audiences": []string{"https://orders.example.com"}})
	f.Client("other", map[string]any{"id": "svc", "grant_types": []string{"client_credentials"}, "scopes": []string{"read"}})
	return f
}

func goldenCases(t *testing.T, s *apptest.Server, assert func(testing.TB, string, []byte)) {
	f := setup(t, s, assert)
	discovery(f)
	tokens := tokenEndpoint(f)
	exchangeCases(f, tokens)
	introspection(f, tokens)
	revocation(f, tokens)
}

func discovery(f *fixture) {
	f.Golden("discovery.openid_configuration", f.Req("GET", "/t/shop/.well-known/openid-configuration", ""))
	f.Golden("discovery.oauth_authorization_server", f.Req("GET", "/.well-known/oauth-authorization-server/t/shop", ""))
	f.Golden("discovery.openid_configuration.unknown_tenant", f.Req("GET", "/t/nope/.well-known/openid-configuration", ""))
	f.Golden("discovery.oauth_authorization_server.unknown_tenant", f.Req("GET", "/.well-known/oauth-authorization-server/t/nope", ""))
	f.Golden("jwks", f.Req("GET", "/t/shop/jwks.json", ""))
	f.Golden("jwks.unknown_tenant", f.Req("GET", "/t/nope/jwks.json", ""))
}

// issued are tokens the later cases present.
type issued struct {
	svc, svcOther, user, refresh string
}

// jwtParts pins the decoded header and claims of a JWT.
func (f *fixture) jwtParts(name, jwt string) {
	f.T.Helper()
	var out []byte
	for _, seg := range strings.Split(jwt, ".")[:2] {
		b, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil {
			f.T.Fatalf("%s: %v", name, err)
		}
		out = append(append(out, b...), '\n')
	}
	f.T.Run(name, func(t *testing.T) { f.Assert(t, name, out) })
}

func tokenEndpoint(f *fixture) issued {
	cc := url.Values{"grant_type": {"client_credentials"}}
	var tk issued
	tk.svc = apptest.Str(f.Golden("token.client_credentials", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})), "access_token")
	f.jwtParts("token.client_credentials.jwt", tk.svc)
	login := url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {password}}
	pw := f.Golden("token.password", f.Form("shop", "token", "shop/app", login))
	tk.user = apptest.Str(pw, "access_token")
	f.jwtParts("token.password.jwt", tk.user)
	r0 := apptest.Str(pw, "refresh_token")
	ref := f.Golden("token.refresh", f.Form("shop", "token", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r0}}))
	tk.refresh = apptest.Str(ref, "refresh_token")
	f.jwtParts("token.refresh.jwt", apptest.Str(ref, "access_token"))
	// Another login: its first refresh token, used, retried once within the
	// grace period, then replayed.
	q0 := apptest.Str(f.Token("shop", "shop/app", login), "refresh_token")
	refreshQ0 := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {q0}}
	q1 := apptest.Str(f.Token("shop", "shop/app", refreshQ0), "refresh_token")
	f.Token("shop", "shop/app", refreshQ0) // the retry gets q1 again
	f.Token("shop", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {q1}})
	f.Golden("token.error.refresh_reused", f.Form("shop", "token", "shop/app", refreshQ0))
	f.Golden("token.error.refresh_other_client", f.Form("shop", "token", "shop/app2", refreshQ0))
	f.Golden("token.error.refresh_missing", f.Form("shop", "token", "shop/app", url.Values{"grant_type": {"refresh_token"}}))
	f.Golden("token.error.refresh_invalid", f.Form("shop", "token", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tkd_rt_nope"}}))
	carol := f.Token("shop", "shop/app", url.Values{"grant_type": {"password"}, "username": {"carol@example.com"}, "password": {password}})
	users := f.Admin("GET", "/v1/tenants/shop/users?login=carol@example.com", nil, 200)["items"].([]any)
	f.Admin("PATCH", "/v1/tenants/shop/users/"+apptest.Str(users[0].(map[string]any), "id"), map[string]any{"disabled": true}, 200)
	f.Golden("token.error.refresh_user_disabled", f.Form("shop", "token", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {apptest.Str(carol, "refresh_token")}}))

	// The request itself.
	f.Golden("token.error.get", f.Req("GET", "/t/shop/oauth2/token", ""))
	asJSON := f.Req("POST", "/t/shop/oauth2/token", `{"grant_type":"client_credentials"}`, "Content-Type", "application/json")
	f.Golden("token.error.content_type", asJSON)
	f.Golden("token.error.too_large", tooLarge(f, "/t/shop/oauth2/token"))
	f.Golden("token.error.malformed_form", f.Req("POST", "/t/shop/oauth2/token", "grant_type=%zz"))
	q := f.Form("shop", "token", "shop/svc", cc)
	q.URL.RawQuery = "scope=read"
	f.Golden("token.error.query_parameters", q)
	f.Golden("token.error.repeated_parameter", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "scope": {"read", "write"}}))
	f.Golden("token.error.missing_grant_type", f.Form("shop", "token", "shop/svc", url.Values{"scope": {"read"}}))
	f.Golden("token.error.unsupported_grant_type", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"authorization_code"}}))
	f.Golden("token.error.grant_type_not_served", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}))
	f.Golden("token.error.unknown_tenant", f.Form("nope", "token", "shop/svc", cc))

	// Client authentication.
	f.Golden("token.error.no_client_authentication", f.Form("shop", "token", "", cc))
	wrong := f.Form("shop", "token", "", cc)
	wrong.SetBasicAuth("svc", "tkd_cs_wrong")
	f.Golden("token.error.wrong_secret", wrong)
	unknown := f.Form("shop", "token", "", cc)
	unknown.SetBasicAuth("ghost", "tkd_cs_wrong")
	f.Golden("token.error.unknown_client", unknown)
	f.Golden("token.error.malformed_authorization", f.Req("POST", "/t/shop/oauth2/token", cc.Encode(), "Authorization", "Basic !!!"))
	f.Golden("token.error.bearer_authorization", f.Req("POST", "/t/shop/oauth2/token", cc.Encode(), "Authorization", "Bearer "+tk.svc))
	bad := f.Form("shop", "token", "", cc)
	bad.SetBasicAuth("svc%zz", "x")
	f.Golden("token.error.malformed_credentials", bad)
	f.Golden("token.error.two_methods", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "client_secret": {f.Secret["shop/svc"]}}))
	f.Golden("token.error.client_id_mismatch", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}}))
	f.Golden("token.error.client_secret_post_wrong", f.Form("shop", "token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {"nope"}}))
	f.Golden("token.error.assertion_type", f.Form("shop", "token", "", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"jwt"}, "client_assertion": {"x"}}))
	f.Golden("token.error.assertion_malformed", f.Form("shop", "token", "", url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"not.a.jwt"}}))
	f.Golden("token.error.assertion_and_secret", f.Form("shop", "token", "", url.Values{"grant_type": {"client_credentials"}, "client_secret": {"x"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"x"}}))
	f.Golden("token.error.public_client_secret", f.Form("shop", "token", "", url.Values{"grant_type": {"password"}, "client_id": {"pub"}, "client_secret": {"x"},
		"username": {"alice@example.com"}, "password": {password}}))
	f.Golden("token.error.public_client_credentials", f.Form("shop", "token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"pub"}}))

	// The grant, scope and audience.
	f.Golden("token.error.unauthorized_client", f.Form("shop", "token", "shop/svc", login))
	f.Golden("token.error.invalid_scope", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "scope": {"read admin"}}))
	f.Golden("token.error.unknown_audience", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "audience": {"https://nope.example.com"}}))
	f.Golden("token.error.audience_not_allowed", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "audience": {"https://billing.example.com"}}))
	f.Golden("token.error.password_missing", f.Form("shop", "token", "shop/app", url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}}))
	f.Golden("token.error.password_wrong", f.Form("shop", "token", "shop/app", url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {"wrong horse battery"}}))
	f.Golden("token.error.password_unknown_user", f.Form("shop", "token", "shop/app", url.Values{"grant_type": {"password"}, "username": {"zed@example.com"}, "password": {password}}))
	// Five failures are free, the sixth blocks the account for one second:
	// the attempt made at once after it is refused.
	bob := url.Values{"grant_type": {"password"}, "username": {"bob@example.com"}, "password": {"wrong horse battery"}}
	for range 6 {
		if got := golden.Fetch(f.T, f.Form("shop", "token", "shop/app", bob)); !bytes.HasPrefix(got, []byte("HTTP/1.1 400 ")) {
			f.T.Fatalf("a failed login: %s", got)
		}
	}
	f.Golden("token.error.password_throttled", f.Form("shop", "token", "shop/app", bob))

	// token_kind on client_credentials.
	f.Golden("token.error.kind_other_grant", f.Form("shop", "token", "shop/app", url.Values{"grant_type": {"password"}, "token_kind": {"private"},
		"username": {"alice@example.com"}, "password": {password}}))
	f.Golden("token.error.kind_unknown", f.Form("shop", "token", "shop/kinds", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"magic"}}))
	f.Golden("token.error.kind_not_allowed", f.Form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"private"}}))
	f.Golden("token.error.kind_expires_at", f.Form("shop", "token", "shop/kinds", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"private"}, "expires_at": {"soon"}}))
	f.Golden("token.error.kind_channel_ids", f.Form("shop", "token", "shop/kinds", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"storefront"},
		"expires_at": {"4102444800"}, "channel_ids": {"1,x"}}))

	tk.svcOther = apptest.Str(f.Token("other", "other/svc", cc), "access_token")
	return tk
}

// tooLarge is a form POST one byte over the server's body limit, sent
// without a Content-Length so that the server reads up to its limit.
func tooLarge(f *fixture, path string) *http.Request {
	r := f.Req("POST", path, "grant_type="+strings.Repeat("a", int(f.S.Cfg.MaxBodyBytes)+1-len("grant_type=")))
	r.SetBasicAuth("svc", f.Secret["shop/svc"])
	return r
}

func introspection(f *fixture, tk issued) {
	in := func(tok string) url.Values { return url.Values{"token": {tok}} }
	f.Golden("introspect.active_jwt", f.Form("shop", "introspect", "shop/svc", in(tk.svc)))
	f.Golden("introspect.active_user_jwt", f.Form("shop", "introspect", "shop/app", in(tk.user)))
	f.Golden("introspect.active_refresh_token", f.Form("shop", "introspect", "shop/app", in(tk.refresh)))
	// Another client of the tenant sees neither (RFC 7662 §4).
	f.Golden("introspect.inactive_other_client", f.Form("shop", "introspect", "shop/svc", in(tk.user)))
	f.Golden("introspect.inactive_other_client_refresh", f.Form("shop", "introspect", "shop/svc", in(tk.refresh)))
	f.Golden("introspect.inactive", f.Form("shop", "introspect", "shop/svc", in("nope")))
	f.Golden("introspect.inactive_unknown_opaque", f.Form("shop", "introspect", "shop/svc", in(token.NewOpaque(token.TagAccess))))
	f.Golden("introspect.inactive_other_tenant", f.Form("shop", "introspect", "shop/svc", in(tk.svcOther)))

	clientErrors(f, "introspect", tk.svc)
}

// clientErrors pins the errors of an endpoint that takes a form with a
// token from a confidential client: introspection and revocation.
func clientErrors(f *fixture, endpoint, tok string) {
	in := url.Values{"token": {tok}}
	path := "/t/shop/oauth2/" + endpoint
	f.Golden(endpoint+".error.get", f.Req("GET", path, ""))
	ct := f.Form("shop", endpoint, "shop/svc", in)
	ct.Header.Set("Content-Type", "application/json")
	f.Golden(endpoint+".error.content_type", ct)
	f.Golden(endpoint+".error.too_large", tooLarge(f, path))
	f.Golden(endpoint+".error.missing_token", f.Form("shop", endpoint, "shop/svc", url.Values{}))
	f.Golden(endpoint+".error.repeated_token", f.Form("shop", endpoint, "shop/svc", url.Values{"token": {tok, tok}}))
	f.Golden(endpoint+".error.no_client_authentication", f.Form("shop", endpoint, "", in))
	wrong := f.Form("shop", endpoint, "", in)
	wrong.SetBasicAuth("svc", "nope")
	f.Golden(endpoint+".error.wrong_secret", wrong)
	f.Golden(endpoint+".error.public_client", f.Form("shop", endpoint, "", url.Values{"token": {tok}, "client_id": {"pub"}}))
	f.Golden(endpoint+".error.unknown_tenant", f.Form("nope", endpoint, "shop/svc", in))
}

func revocation(f *fixture, tk issued) {
	in := func(tok string) url.Values { return url.Values{"token": {tok}} }
	f.Golden("revoke.ok", f.Form("shop", "revoke", "shop/svc", in(tk.svc)))
	f.Golden("revoke.ok_unknown_token", f.Form("shop", "revoke", "shop/svc", in("nope")))
	f.Golden("introspect.inactive_revoked", f.Form("shop", "introspect", "shop/svc", in(tk.svc)))

	f.Golden("revoke.error.not_issued_to_client", f.Form("shop", "revoke", "shop/svc", in(tk.refresh)))
	clientErrors(f, "revoke", tk.user)
}

// exchangeCases pins RFC 8693 token exchange (a token of the tenant
// itself, narrowed) and the errors of token exchange and RFC 7523
// jwt-bearer that need no other provider.
func exchangeCases(f *fixture, tk issued) {
	const (
		te  = "urn:ietf:params:oauth:grant-type:token-exchange"
		jb  = "urn:ietf:params:oauth:grant-type:jwt-bearer"
		at  = "urn:ietf:params:oauth:token-type:access_token"
		idt = "urn:ietf:params:oauth:token-type:id_token"
	)
	ok := f.Golden("token.exchange", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {te}, "subject_token": {tk.svc},
		"subject_token_type": {at}, "scope": {"read"}}))
	f.jwtParts("token.exchange.jwt", apptest.Str(ok, "access_token"))
	f.Golden("token.error.exchange_missing_subject", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {te}, "subject_token_type": {at}}))
	f.Golden("token.error.exchange_subject_type", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {te}, "subject_token": {tk.svc},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:saml2"}}))
	f.Golden("token.error.exchange_requested_type", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {te}, "subject_token": {tk.svc},
		"subject_token_type": {at}, "requested_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}}))
	f.Golden("token.error.exchange_other_tenant", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {te}, "subject_token": {tk.svcOther},
		"subject_token_type": {at}}))
	f.Golden("token.error.exchange_not_jwt", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {te}, "subject_token": {"opaque"},
		"subject_token_type": {idt}}))
	f.Golden("token.error.exchange_widened_scope", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {te}, "subject_token": {tk.svc},
		"subject_token_type": {at}, "scope": {"write"}}))
	f.Golden("token.error.exchange_invalid_target", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {te}, "subject_token": {tk.svc},
		"subject_token_type": {at}, "audience": {"https://billing.example.com"}}))
	f.Golden("token.error.jwt_bearer_missing_assertion", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {jb}}))
	f.Golden("token.error.jwt_bearer_malformed", f.Form("shop", "token", "shop/xc", url.Values{"grant_type": {jb}, "assertion": {"a.b.c"}}))
}
