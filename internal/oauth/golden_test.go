package oauth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/internal/token"
)

// TestGolden pins the responses of the RFC endpoints (token,
// introspection, revocation, discovery, JWKS), the gateway check and the
// revocation feed, errors included, to testdata/*.golden. The golden files
// are written from SQLite; the same cases on PostgreSQL must produce the
// same bytes.
func TestGolden(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { goldenCases(t, apptest.Start(t, ""), golden.Assert) })
	t.Run("postgres", func(t *testing.T) { goldenCases(t, apptest.Start(t, pgtest.NewDatabase(t)), golden.Compare) })
}

const password = "correct horse battery"

// fixture is tenant "shop" with its clients, and tenant "other".
type fixture struct {
	t      *testing.T
	s      *apptest.Server
	assert func(testing.TB, string, []byte)
	secret map[string]string // "tenant/client id" -> secret
}

// req builds a request to the server. A string body is sent as a form.
func (f *fixture) req(method, path string, body string, hdr ...string) *http.Request {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, f.s.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

// form is a form POST (form-encoded even when empty) to a tenant endpoint
// with HTTP Basic authentication as client "tenant/id" (none when empty).
func (f *fixture) form(tenant, endpoint, client string, v url.Values) *http.Request {
	f.t.Helper()
	r := f.req("POST", "/t/"+tenant+"/oauth2/"+endpoint, v.Encode())
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client != "" {
		_, id, _ := strings.Cut(client, "/")
		r.SetBasicAuth(id, f.secret[client])
	}
	return r
}

// golden sends r, compares the rendered response with the golden file
// name, and returns the decoded JSON body (nil when there is none).
func (f *fixture) golden(name string, r *http.Request) map[string]any {
	f.t.Helper()
	got := golden.Fetch(f.t, r)
	f.t.Run(name, func(t *testing.T) { f.assert(t, name, got) })
	var m map[string]any
	if _, body, ok := bytes.Cut(got, []byte("\n\n")); ok && len(body) > 0 {
		_ = json.Unmarshal(body, &m)
	}
	return m
}

// token gets a token from the token endpoint, outside the golden files.
func (f *fixture) token(tenant, client string, v url.Values) map[string]any {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(f.form(tenant, "token", client, v))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		f.t.Fatalf("token for %s: %d %v %v", client, resp.StatusCode, m, err)
	}
	return m
}

func (f *fixture) admin(method, path string, body any, status int) map[string]any {
	f.t.Helper()
	return f.s.Call(f.t, method, path, f.s.Admin, body, status)
}

func (f *fixture) client(tenant string, spec map[string]any) {
	f.t.Helper()
	c := f.admin("POST", "/v1/tenants/"+tenant+"/clients", spec, http.StatusCreated)
	if s, ok := c["client_secret"].(string); ok {
		f.secret[tenant+"/"+spec["id"].(string)] = s
	}
}

func setup(t *testing.T, s *apptest.Server, assert func(testing.TB, string, []byte)) *fixture {
	f := &fixture{t: t, s: s, assert: assert, secret: map[string]string{}}
	f.admin("POST", "/v1/tenants", map[string]any{"id": "shop", "policy": map[string]any{"password_grant": true}}, 201)
	f.admin("POST", "/v1/tenants", map[string]any{"id": "other"}, 201)
	p := "/v1/tenants/shop"
	f.admin("POST", p+"/projects", map[string]any{"id": "orders", "audience": "https://orders.example.com"}, 201)
	f.admin("POST", p+"/projects", map[string]any{"id": "billing", "audience": "https://billing.example.com"}, 201)
	f.admin("POST", p+"/roles", map[string]any{"name": "reader", "scopes": []string{"read"}, "resources": []string{"orders/*"}}, 201)
	f.admin("POST", p+"/roles", map[string]any{"name": "writer", "scopes": []string{"write"}}, 201)
	f.admin("POST", p+"/groups", map[string]any{"name": "staff", "roles": []string{"writer"}}, 201)
	for _, login := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		f.admin("POST", p+"/users", map[string]any{"login": login, "password": password, "roles": []string{"reader"}, "groups": []string{"staff"}}, 201)
	}
	f.client("shop", map[string]any{"id": "svc", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "write"}, "audiences": []string{"https://orders.example.com"}})
	for _, id := range []string{"app", "app2"} {
		f.client("shop", map[string]any{"id": id, "grant_types": []string{"password", "refresh_token"},
			"scopes": []string{"read", "write"}, "policy": map[string]any{"password_grant": true}})
	}
	f.client("shop", map[string]any{"id": "pub", "public": true, "grant_types": []string{"client_credentials", "password"}, "scopes": []string{"read"}})
	f.client("shop", map[string]any{"id": "kinds", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "tokend:mint:storefront", "tokend:mint:private", "tokend:mint:impersonation"}})
	f.client("other", map[string]any{"id": "svc", "grant_types": []string{"client_credentials"}, "scopes": []string{"read"}})
	return f
}

func goldenCases(t *testing.T, s *apptest.Server, assert func(testing.TB, string, []byte)) {
	f := setup(t, s, assert)
	discovery(f)
	tokens := tokenEndpoint(f)
	introspection(f, tokens)
	check(f, tokens)
	revocation(f, tokens)
	feed(f)
}

func discovery(f *fixture) {
	f.golden("discovery.openid_configuration", f.req("GET", "/t/shop/.well-known/openid-configuration", ""))
	f.golden("discovery.oauth_authorization_server", f.req("GET", "/.well-known/oauth-authorization-server/t/shop", ""))
	f.golden("discovery.openid_configuration.unknown_tenant", f.req("GET", "/t/nope/.well-known/openid-configuration", ""))
	f.golden("discovery.oauth_authorization_server.unknown_tenant", f.req("GET", "/.well-known/oauth-authorization-server/t/nope", ""))
	f.golden("jwks", f.req("GET", "/t/shop/jwks.json", ""))
	f.golden("jwks.unknown_tenant", f.req("GET", "/t/nope/jwks.json", ""))
}

// issued are tokens the later cases present.
type issued struct {
	svc, svcOther, user, refresh string
}

// jwtParts pins the decoded header and claims of a JWT.
func (f *fixture) jwtParts(name, jwt string) {
	f.t.Helper()
	var out []byte
	for _, seg := range strings.Split(jwt, ".")[:2] {
		b, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil {
			f.t.Fatalf("%s: %v", name, err)
		}
		out = append(append(out, b...), '\n')
	}
	f.t.Run(name, func(t *testing.T) { f.assert(t, name, out) })
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func tokenEndpoint(f *fixture) issued {
	cc := url.Values{"grant_type": {"client_credentials"}}
	var tk issued
	tk.svc = str(f.golden("token.client_credentials", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})), "access_token")
	f.jwtParts("token.client_credentials.jwt", tk.svc)
	login := url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {password}}
	pw := f.golden("token.password", f.form("shop", "token", "shop/app", login))
	tk.user = str(pw, "access_token")
	f.jwtParts("token.password.jwt", tk.user)
	r0 := str(pw, "refresh_token")
	ref := f.golden("token.refresh", f.form("shop", "token", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r0}}))
	tk.refresh = str(ref, "refresh_token")
	f.jwtParts("token.refresh.jwt", str(ref, "access_token"))
	// Another login: its first refresh token, used, retried once within the
	// grace period, then replayed.
	q0 := str(f.token("shop", "shop/app", login), "refresh_token")
	refreshQ0 := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {q0}}
	q1 := str(f.token("shop", "shop/app", refreshQ0), "refresh_token")
	f.token("shop", "shop/app", refreshQ0) // the retry gets q1 again
	f.token("shop", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {q1}})
	f.golden("token.error.refresh_reused", f.form("shop", "token", "shop/app", refreshQ0))
	f.golden("token.error.refresh_other_client", f.form("shop", "token", "shop/app2", refreshQ0))
	f.golden("token.error.refresh_missing", f.form("shop", "token", "shop/app", url.Values{"grant_type": {"refresh_token"}}))
	f.golden("token.error.refresh_invalid", f.form("shop", "token", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tkd_rt_nope"}}))
	carol := f.token("shop", "shop/app", url.Values{"grant_type": {"password"}, "username": {"carol@example.com"}, "password": {password}})
	users := f.admin("GET", "/v1/tenants/shop/users?login=carol@example.com", nil, 200)["items"].([]any)
	f.admin("PATCH", "/v1/tenants/shop/users/"+str(users[0].(map[string]any), "id"), map[string]any{"disabled": true}, 200)
	f.golden("token.error.refresh_user_disabled", f.form("shop", "token", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(carol, "refresh_token")}}))

	// The request itself.
	f.golden("token.error.get", f.req("GET", "/t/shop/oauth2/token", ""))
	asJSON := f.req("POST", "/t/shop/oauth2/token", `{"grant_type":"client_credentials"}`, "Content-Type", "application/json")
	f.golden("token.error.content_type", asJSON)
	f.golden("token.error.too_large", tooLarge(f, "/t/shop/oauth2/token"))
	f.golden("token.error.malformed_form", f.req("POST", "/t/shop/oauth2/token", "grant_type=%zz"))
	q := f.form("shop", "token", "shop/svc", cc)
	q.URL.RawQuery = "scope=read"
	f.golden("token.error.query_parameters", q)
	f.golden("token.error.repeated_parameter", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "scope": {"read", "write"}}))
	f.golden("token.error.missing_grant_type", f.form("shop", "token", "shop/svc", url.Values{"scope": {"read"}}))
	f.golden("token.error.unsupported_grant_type", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"authorization_code"}}))
	f.golden("token.error.grant_type_not_served", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}}))
	f.golden("token.error.unknown_tenant", f.form("nope", "token", "shop/svc", cc))

	// Client authentication.
	f.golden("token.error.no_client_authentication", f.form("shop", "token", "", cc))
	wrong := f.form("shop", "token", "", cc)
	wrong.SetBasicAuth("svc", "tkd_cs_wrong")
	f.golden("token.error.wrong_secret", wrong)
	unknown := f.form("shop", "token", "", cc)
	unknown.SetBasicAuth("ghost", "tkd_cs_wrong")
	f.golden("token.error.unknown_client", unknown)
	f.golden("token.error.malformed_authorization", f.req("POST", "/t/shop/oauth2/token", cc.Encode(), "Authorization", "Basic !!!"))
	f.golden("token.error.bearer_authorization", f.req("POST", "/t/shop/oauth2/token", cc.Encode(), "Authorization", "Bearer "+tk.svc))
	bad := f.form("shop", "token", "", cc)
	bad.SetBasicAuth("svc%zz", "x")
	f.golden("token.error.malformed_credentials", bad)
	f.golden("token.error.two_methods", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "client_secret": {f.secret["shop/svc"]}}))
	f.golden("token.error.client_id_mismatch", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}}))
	f.golden("token.error.client_secret_post_wrong", f.form("shop", "token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {"nope"}}))
	f.golden("token.error.assertion_type", f.form("shop", "token", "", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"jwt"}, "client_assertion": {"x"}}))
	f.golden("token.error.assertion_malformed", f.form("shop", "token", "", url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"not.a.jwt"}}))
	f.golden("token.error.assertion_and_secret", f.form("shop", "token", "", url.Values{"grant_type": {"client_credentials"}, "client_secret": {"x"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"x"}}))
	f.golden("token.error.public_client_secret", f.form("shop", "token", "", url.Values{"grant_type": {"password"}, "client_id": {"pub"}, "client_secret": {"x"},
		"username": {"alice@example.com"}, "password": {password}}))
	f.golden("token.error.public_client_credentials", f.form("shop", "token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"pub"}}))

	// The grant, scope and audience.
	f.golden("token.error.unauthorized_client", f.form("shop", "token", "shop/svc", login))
	f.golden("token.error.invalid_scope", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "scope": {"read admin"}}))
	f.golden("token.error.unknown_audience", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "audience": {"https://nope.example.com"}}))
	f.golden("token.error.audience_not_allowed", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "audience": {"https://billing.example.com"}}))
	f.golden("token.error.password_missing", f.form("shop", "token", "shop/app", url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}}))
	f.golden("token.error.password_wrong", f.form("shop", "token", "shop/app", url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {"wrong horse battery"}}))
	f.golden("token.error.password_unknown_user", f.form("shop", "token", "shop/app", url.Values{"grant_type": {"password"}, "username": {"zed@example.com"}, "password": {password}}))
	// Five failures are free, the sixth blocks the account for one second:
	// the attempt made at once after it is refused.
	bob := url.Values{"grant_type": {"password"}, "username": {"bob@example.com"}, "password": {"wrong horse battery"}}
	for range 6 {
		if got := golden.Fetch(f.t, f.form("shop", "token", "shop/app", bob)); !bytes.HasPrefix(got, []byte("HTTP/1.1 400 ")) {
			f.t.Fatalf("a failed login: %s", got)
		}
	}
	f.golden("token.error.password_throttled", f.form("shop", "token", "shop/app", bob))

	// token_kind on client_credentials.
	f.golden("token.error.kind_other_grant", f.form("shop", "token", "shop/app", url.Values{"grant_type": {"password"}, "token_kind": {"private"},
		"username": {"alice@example.com"}, "password": {password}}))
	f.golden("token.error.kind_unknown", f.form("shop", "token", "shop/kinds", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"magic"}}))
	f.golden("token.error.kind_not_allowed", f.form("shop", "token", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"private"}}))
	f.golden("token.error.kind_expires_at", f.form("shop", "token", "shop/kinds", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"private"}, "expires_at": {"soon"}}))
	f.golden("token.error.kind_channel_ids", f.form("shop", "token", "shop/kinds", url.Values{"grant_type": {"client_credentials"}, "token_kind": {"storefront"},
		"expires_at": {"4102444800"}, "channel_ids": {"1,x"}}))

	tk.svcOther = str(f.token("other", "other/svc", cc), "access_token")
	return tk
}

// tooLarge is a form POST one byte over the server's body limit, sent
// without a Content-Length so that the server reads up to its limit.
func tooLarge(f *fixture, path string) *http.Request {
	r := f.req("POST", path, "grant_type="+strings.Repeat("a", int(f.s.Cfg.MaxBodyBytes)+1-len("grant_type=")))
	r.SetBasicAuth("svc", f.secret["shop/svc"])
	return r
}

func introspection(f *fixture, tk issued) {
	in := func(tok string) url.Values { return url.Values{"token": {tok}} }
	f.golden("introspect.active_jwt", f.form("shop", "introspect", "shop/svc", in(tk.svc)))
	f.golden("introspect.active_user_jwt", f.form("shop", "introspect", "shop/app", in(tk.user)))
	f.golden("introspect.active_refresh_token", f.form("shop", "introspect", "shop/app", in(tk.refresh)))
	// Another client of the tenant sees neither (RFC 7662 §4).
	f.golden("introspect.inactive_other_client", f.form("shop", "introspect", "shop/svc", in(tk.user)))
	f.golden("introspect.inactive_other_client_refresh", f.form("shop", "introspect", "shop/svc", in(tk.refresh)))
	f.golden("introspect.inactive", f.form("shop", "introspect", "shop/svc", in("nope")))
	f.golden("introspect.inactive_unknown_opaque", f.form("shop", "introspect", "shop/svc", in(token.NewOpaque(token.TagAccess))))
	f.golden("introspect.inactive_other_tenant", f.form("shop", "introspect", "shop/svc", in(tk.svcOther)))

	clientErrors(f, "introspect", tk.svc)
}

// clientErrors pins the errors of an endpoint that takes a form with a
// token from a confidential client: introspection and revocation.
func clientErrors(f *fixture, endpoint, tok string) {
	in := url.Values{"token": {tok}}
	path := "/t/shop/oauth2/" + endpoint
	f.golden(endpoint+".error.get", f.req("GET", path, ""))
	ct := f.form("shop", endpoint, "shop/svc", in)
	ct.Header.Set("Content-Type", "application/json")
	f.golden(endpoint+".error.content_type", ct)
	f.golden(endpoint+".error.too_large", tooLarge(f, path))
	f.golden(endpoint+".error.missing_token", f.form("shop", endpoint, "shop/svc", url.Values{}))
	f.golden(endpoint+".error.repeated_token", f.form("shop", endpoint, "shop/svc", url.Values{"token": {tok, tok}}))
	f.golden(endpoint+".error.no_client_authentication", f.form("shop", endpoint, "", in))
	wrong := f.form("shop", endpoint, "", in)
	wrong.SetBasicAuth("svc", "nope")
	f.golden(endpoint+".error.wrong_secret", wrong)
	f.golden(endpoint+".error.public_client", f.form("shop", endpoint, "", url.Values{"token": {tok}, "client_id": {"pub"}}))
	f.golden(endpoint+".error.unknown_tenant", f.form("nope", endpoint, "shop/svc", in))
}

func check(f *fixture, tk issued) {
	get := func(tok string, hdr ...string) *http.Request {
		if tok != "" {
			hdr = append(hdr, "Authorization", "Bearer "+tok)
		}
		return f.req("GET", "/t/shop/check", "", hdr...)
	}
	f.golden("check.active", get(tk.svc))
	f.golden("check.active_user", get(tk.user))
	f.golden("check.active_cookie", get("", "Cookie", "tokend_session="+tk.svc))
	f.golden("check.error.no_bearer", get(""))
	f.golden("check.error.basic_authorization", get("", "Authorization", "Basic c3ZjOng="))
	f.golden("check.error.malformed_token", get("nope"))
	f.golden("check.error.unknown_opaque", get(token.NewOpaque(token.TagAccess)))
	f.golden("check.error.refresh_token", get(tk.refresh))
	other := str(f.token("shop", "shop/svc", url.Values{"grant_type": {"client_credentials"}}), "access_token")
	forged := tk.svc[:strings.LastIndexByte(tk.svc, '.')] + other[strings.LastIndexByte(other, '.'):]
	f.golden("check.error.bad_signature", get(forged))
	f.golden("check.error.other_tenant", get(tk.svcOther))
	f.golden("check.error.insufficient_scope", f.req("GET", "/t/shop/check?scope=write", "", "Authorization", "Bearer "+tk.svc))

	exp := time.Now().Add(time.Hour).Unix()
	mint := func(kind string, extra map[string]any) string {
		body := map[string]any{"kind": kind, "expires_at": exp}
		for k, v := range extra {
			body[k] = v
		}
		return str(f.admin("POST", "/v1/tenants/shop/clients/kinds/tokens", body, 201), "token")
	}
	sf := mint("storefront", map[string]any{"allowed_cors_origins": []string{"https://shop.example.com"}})
	f.golden("check.error.storefront_no_origin", get(sf))
	f.golden("check.error.storefront_other_origin", get(sf, "Origin", "https://evil.example.com"))
	f.golden("check.error.storefront_malformed_origin", get(sf, "Origin", "not-an-origin"))
	f.golden("check.error.storefront_origin_list", get(sf, "Origin", "https://shop.example.com https://evil.example.com"))
	f.golden("check.error.private_from_browser", get(mint("private", nil), "Sec-Fetch-Mode", "cors"))
	imp := mint("impersonation", nil)
	f.golden("check.error.impersonation_no_customer", get(imp))
	f.golden("check.error.impersonation_unknown_customer", get(imp, "X-Tokend-Customer-Id", "ghost"))
}

func revocation(f *fixture, tk issued) {
	in := func(tok string) url.Values { return url.Values{"token": {tok}} }
	f.golden("revoke.ok", f.form("shop", "revoke", "shop/svc", in(tk.svc)))
	f.golden("revoke.ok_unknown_token", f.form("shop", "revoke", "shop/svc", in("nope")))
	f.golden("introspect.inactive_revoked", f.form("shop", "introspect", "shop/svc", in(tk.svc)))
	f.golden("check.error.revoked", f.req("GET", "/t/shop/check", "", "Authorization", "Bearer "+tk.svc))

	f.golden("revoke.error.not_issued_to_client", f.form("shop", "revoke", "shop/svc", in(tk.refresh)))
	clientErrors(f, "revoke", tk.user)
}

func feed(f *fixture) {
	get := func(tenant, query string, hdr ...string) *http.Request {
		r := f.req("GET", "/t/"+tenant+"/revocations"+query, "", hdr...)
		r.SetBasicAuth("svc", f.secret["shop/svc"])
		return r
	}
	// Past every entry: the page is empty and the cursor stays.
	f.golden("feed.empty_page", get("shop", "?after=1000000000"))
	f.golden("feed.error.no_client_authentication", f.req("GET", "/t/shop/revocations", ""))
	wrong := f.req("GET", "/t/shop/revocations", "")
	wrong.SetBasicAuth("svc", "nope")
	f.golden("feed.error.wrong_secret", wrong)
	bad := f.req("GET", "/t/shop/revocations", "")
	bad.SetBasicAuth("svc%zz", "x")
	f.golden("feed.error.malformed_credentials", bad)
	f.golden("feed.error.unknown_tenant", get("nope", ""))
	f.golden("feed.error.after", get("shop", "?after=-1"))
	f.golden("feed.error.limit", get("shop", "?limit=0"))
	f.golden("feed.error.wait", get("shop", "?wait=3600"))
	f.golden("feed.error.last_event_id", get("shop", "", "Accept", "text/event-stream", "Last-Event-ID", "x"))
	f.golden("feed.error.post", f.req("POST", "/t/shop/revocations", "a=b"))
}
