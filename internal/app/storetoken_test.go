package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/faulttest"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/revocation"
	"github.com/tokend/tokend/verify"
)

// The seed's store and a Rails-style integer store.
const (
	seedStore = "123e4567-e89b-12d3-a456-426614174000"
	intStore  = "42"
	// legacySecret stands for a Rails secret_key_base (a hex string whose
	// bytes are the HMAC key).
	legacySecret = "6f1c2a9e0d4b7c3a8e5f1d2c9b0a7e6f5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"
)

var jtiShape = regexp.MustCompile(`^[0-9a-f]{32}$`)

// stk is a server whose store-token surface serves tenant acme (bound by
// --surface-tenants), with an admin, a user who is not one, two stores,
// a kiosk and a second tenant "other" with a store of its own.
type stk struct {
	*server
	adminPW, userPW string
}

func startStoreToken(t *testing.T, dbURL string, cfgf func(*config.Config)) *stk {
	t.Helper()
	as := apptest.StartWith(t, dbURL, apptest.Options{Config: func(c *config.Config) {
		c.SurfaceTenants = "storetoken=acme"
		if cfgf != nil {
			cfgf(c)
		}
	}})
	s := &stk{server: &server{URL: as.URL, Admin: as.Admin, App: as.App, Cfg: as.Cfg}, adminPW: "admin-password-1", userPW: "user-password-1"}
	adm := s.Admin
	for _, ten := range []string{"acme", "other"} {
		want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": ten}), 201)
		base := "/v1/tenants/" + ten
		want(t, s.call(t, "POST", base+"/roles", adm, map[string]any{"name": "admin", "scopes": []string{"stores"}}), 201)
		want(t, s.call(t, "POST", base+"/roles", adm, map[string]any{"name": "clerk", "scopes": []string{"read"}}), 201)
		want(t, s.call(t, "PUT", base+"/surfaces/storetoken", adm, map[string]any{}), 200)
		want(t, s.call(t, "POST", base+"/keys/legacy", adm, map[string]any{"secret": legacySecret + ten}), 204)
		want(t, s.call(t, "POST", base+"/users", adm, map[string]any{"login": "admin@" + ten + ".test", "password": s.adminPW, "roles": []string{"admin"}}), 201)
		want(t, s.call(t, "POST", base+"/users", adm, map[string]any{"login": "clerk@" + ten + ".test", "password": s.userPW, "roles": []string{"clerk"}}), 201)
		want(t, s.call(t, "POST", base+"/projects", adm, map[string]any{"id": "kiosk-api", "audience": "kiosk"}), 201)
	}
	for _, d := range []map[string]any{
		{"id": seedStore, "type": "store"}, {"id": intStore, "type": "store"}, {"id": "kiosk-9", "type": "kiosk"},
	} {
		want(t, s.call(t, "POST", "/v1/tenants/acme/devices", adm, d), 201)
	}
	want(t, s.call(t, "POST", "/v1/tenants/other/devices", adm, map[string]any{"id": "77", "type": "store"}), 201)
	return s
}

// raw sends a request with the given Authorization header (none when
// empty) and body (none when empty, JSON content type otherwise).
func (s *stk) raw(t *testing.T, method, path, authz, body string) response {
	t.Helper()
	var rd *bytes.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, s.URL+path, rd)
	} else {
		req, err = http.NewRequest(method, s.URL+path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	return send(t, req)
}

func (s *stk) signIn(t *testing.T, email, pw string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"auth": map[string]string{"email": email, "password": pw}})
	r := want(t, s.raw(t, "POST", "/user_token", "", string(b)), 201)
	return onlyJWT(t, r)
}

func (s *stk) generate(t *testing.T, admin, store string, status int) response {
	t.Helper()
	return want(t, s.raw(t, "POST", "/stores/"+store+"/generate_token", "Bearer "+admin, ""), status)
}

// onlyJWT checks a 201 body is exactly {"jwt":"…"} and returns the token.
func onlyJWT(t *testing.T, r response) string {
	t.Helper()
	if len(r.Body) != 1 || r.str("jwt") == "" {
		t.Fatalf("body %s: want exactly one field jwt", r.Raw)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
	return r.str("jwt")
}

// parts decodes a compact token's header and payload as raw JSON.
func parts(t *testing.T, tok string) (header, payload string) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("token %q is not a JWS", tok)
	}
	h, err1 := base64.RawURLEncoding.DecodeString(p[0])
	b, err2 := base64.RawURLEncoding.DecodeString(p[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("token %q: %v %v", tok, err1, err2)
	}
	return string(h), string(b)
}

func (s *stk) check(t *testing.T, tok string) int {
	t.Helper()
	return s.raw(t, "GET", "/t/acme/check", "Bearer "+tok, "").Status
}

func wantError(t *testing.T, r response, status int, msg string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	b, _ := json.Marshal(map[string]string{"error": msg})
	if string(r.Raw) != string(b) {
		t.Fatalf("body %s, want %s", r.Raw, b)
	}
}

const (
	msg401 = "You need to sign in or sign up before continuing."
	msg403 = "You are not authorized to perform this action."
	msg422 = "Failed to generate token"
)

// TestStoreTokenSeedFlow runs seed 000 step by step on both backends:
// sign in, generate a store token, use it, rotate it, see the old one
// refused everywhere and the new one accepted.
func TestStoreTokenSeedFlow(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := startStoreToken(t, b.url(t), nil)
		admin := s.signIn(t, "admin@acme.test", s.adminPW)
		h, p := parts(t, admin)
		if h != `{"alg":"HS256"}` {
			t.Fatalf("user token header %s", h)
		}
		if !regexp.MustCompile(`^\{"exp":\d+,"sub":"[a-z0-9]+","aud":\["backend"\],"jti":"[0-9a-f]{32}"\}$`).MatchString(p) {
			t.Fatalf("user token payload %s", p)
		}

		before := time.Now()
		tok := onlyJWT(t, s.generate(t, admin, seedStore, 201))
		h, p = parts(t, tok)
		if h != `{"alg":"HS256"}` {
			t.Fatalf("store token header %s", h)
		}
		var c struct {
			Exp int64    `json:"exp"`
			Sub string   `json:"sub"`
			Aud []string `json:"aud"`
			Jti string   `json:"jti"`
		}
		if err := json.Unmarshal([]byte(p), &c); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^\{"exp":\d+,"sub":"` + seedStore + `","aud":\["api"\],"jti":"[0-9a-f]{32}"\}$`).MatchString(p) {
			t.Fatalf("store token payload %s", p)
		}
		const hundredYears = 3155695200
		if d := c.Exp - before.Unix(); d < hundredYears-5 || d > hundredYears+5 {
			t.Fatalf("exp is %d s from now, want 100 Rails years (%d)", d, hundredYears)
		}
		if s.check(t, tok) != 200 {
			t.Fatal("fresh store token refused by /check")
		}

		// An integer id is a JSON number, as the Rails app's bigint ids.
		itok := onlyJWT(t, s.generate(t, admin, intStore, 201))
		if _, p := parts(t, itok); !strings.Contains(p, `"sub":42,`) {
			t.Fatalf("integer store payload %s", p)
		}

		// The store's tokens: the current one.
		r := want(t, s.raw(t, "GET", "/stores/"+seedStore+"/tokens", "Bearer "+admin, ""), 200)
		l, _ := r.Body["tokens"].([]any)
		if len(l) != 1 || l[0].(map[string]any)["jti"] != c.Jti || l[0].(map[string]any)["current"] != true {
			t.Fatalf("tokens %s, want the one with jti %s", r.Raw, c.Jti)
		}

		// Rotation: the earlier token is refused at once, the new one works.
		tok2 := onlyJWT(t, s.generate(t, admin, seedStore, 201))
		if got := s.check(t, tok); got != 401 {
			t.Fatalf("rotated-out token: /check %d, want 401", got)
		}
		if s.check(t, tok2) != 200 {
			t.Fatal("new store token refused")
		}
		if dv := want(t, s.call(t, "GET", "/v1/tenants/acme/devices/"+seedStore, s.Admin, nil), 200); dv.str("jti") == c.Jti || !jtiShape.MatchString(dv.str("jti")) {
			t.Fatalf("device after rotation: %s", dv.Raw)
		}
		// A store token is no admin's.
		wantError(t, s.generate(t, tok2, seedStore, 403), 403, msg403)

		// Revoke one token without rotating, by its jti.
		_, p2 := parts(t, tok2)
		var c2 struct{ Jti string }
		_ = json.Unmarshal([]byte(p2), &c2)
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens/"+c2.Jti+"/revoke", s.Admin, nil), 200)
		if got := s.check(t, tok2); got != 401 {
			t.Fatalf("revoked store token: /check %d", got)
		}
		if dv := want(t, s.call(t, "GET", "/v1/tenants/acme/devices/"+seedStore, s.Admin, nil), 200); dv.str("jti") != c2.Jti {
			t.Fatalf("revoking a token rotated the store: %s", dv.Raw)
		}
		r = want(t, s.raw(t, "GET", "/stores/"+seedStore+"/tokens", "Bearer "+admin, ""), 200)
		if l, _ := r.Body["tokens"].([]any); len(l) != 0 {
			t.Fatalf("tokens after revocation %s", r.Raw)
		}

		// Tokens minted through the surface count by surface.
		mreq, _ := http.NewRequest("GET", s.URL+"/metrics", nil)
		m := send(t, mreq)
		for _, line := range []string{`tokend_surface_tokens_issued_total{kind="device",surface="storetoken"} 3`,
			`tokend_surface_tokens_issued_total{kind="access",surface="storetoken"} 1`} {
			if !strings.Contains(string(m.Raw), line) {
				t.Errorf("metrics lack %s", line)
			}
		}
		// Every generation is audited with the surface named.
		ev := want(t, s.call(t, "GET", "/v1/tenants/acme/audit?action=token.mint", s.Admin, nil), 200)
		if !strings.Contains(string(ev.Raw), `"surface":"storetoken"`) {
			t.Fatalf("audit %s", ev.Raw)
		}
	})
}

// TestStoreTokenErrors: every legacy error, verbatim, on both backends.
func TestStoreTokenErrors(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := startStoreToken(t, b.url(t), nil)
		admin := s.signIn(t, "admin@acme.test", s.adminPW)
		clerk := s.signIn(t, "clerk@acme.test", s.userPW)
		gen := func(authz, store, body string) response {
			return s.raw(t, "POST", "/stores/"+store+"/generate_token", authz, body)
		}
		// Bad credentials: Knock's 404 with an empty body.
		for _, body := range []string{
			`{"auth":{"email":"admin@acme.test","password":"wrong"}}`,
			`{"auth":{"email":"nobody@acme.test","password":"x"}}`,
			`{"auth":{"email":"admin@other.test","password":"` + s.adminPW + `"}}`,
		} {
			r := s.raw(t, "POST", "/user_token", "", body)
			if r.Status != 404 || len(r.Raw) != 0 {
				t.Fatalf("sign-in %s: %d %q", body, r.Status, r.Raw)
			}
		}
		wantError(t, s.raw(t, "POST", "/user_token", "", `{"email":"x"}`), 400, "param is missing or the value is empty: auth")

		for name, authz := range map[string]string{
			"no token":         "",
			"malformed":        "Bearer not.a.token",
			"bad signature":    "Bearer " + apptest.FlipLastBit(admin),
			"another tenant's": "Bearer " + otherAdminToken(t, s),
		} {
			t.Run(name, func(t *testing.T) { wantError(t, gen(authz, seedStore, ""), 401, msg401) })
		}
		wantError(t, gen("Bearer "+clerk, seedStore, ""), 403, msg403)
		wantError(t, gen("Bearer "+admin, "nope-404", ""), 404, "Couldn't find Store with 'id'=nope-404")
		wantError(t, gen("Bearer "+admin, "77", ""), 404, "Couldn't find Store with 'id'=77") // other's store
		wantError(t, gen("Bearer "+admin, "kiosk-9", ""), 404, "Couldn't find Store with 'id'=kiosk-9")
		// Order as the Rails controller: find the store before authorizing.
		wantError(t, gen("Bearer "+clerk, "nope-404", ""), 404, "Couldn't find Store with 'id'=nope-404")

		// Optional body: expiry and audience within the tenant's policy.
		r := want(t, gen("Bearer "+admin, seedStore, `{"expires_in":3600,"audience":["api","kiosk"]}`), 201)
		_, p := parts(t, onlyJWT(t, r))
		if !strings.Contains(p, `"aud":["api","kiosk"]`) {
			t.Fatalf("payload %s", p)
		}
		wantError(t, gen("Bearer "+admin, seedStore, `{"expires_in":-5}`), 422, "expires_in must be a positive whole number of seconds")
		wantError(t, gen("Bearer "+admin, seedStore, `{"expires_in":99999999999}`), 422, "expires_in: must be at most 3155695200 seconds (the tenant's store token lifetime), got 99999999999")
		wantError(t, gen("Bearer "+admin, seedStore, `{"audience":["billing"]}`), 422, `audience: "billing" is neither "api" nor the audience of a project`)
		wantError(t, gen("Bearer "+admin, seedStore, `{"scope":"x"}`), 422, `unknown field "scope" (expires_in and audience are accepted)`)
		wantError(t, gen("Bearer "+admin, seedStore, `{"expires_in":`), 400, "the body is not a JSON object")

		// Expired token.
		r = want(t, gen("Bearer "+admin, intStore, `{"expires_in":1}`), 201)
		short := onlyJWT(t, r)
		time.Sleep(1100 * time.Millisecond)
		for s.check(t, short) == 200 {
			time.Sleep(200 * time.Millisecond)
		}
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens/"+jtiOf(t, short)+"/revoke", s.Admin, nil), 200)

		// Revoked admin token.
		adm2 := s.signIn(t, "admin@acme.test", s.adminPW)
		want(t, s.call(t, "POST", "/v1/tenants/acme/tokens/"+jtiOf(t, adm2)+"/revoke", s.Admin, nil), 200)
		wantError(t, gen("Bearer "+adm2, seedStore, ""), 401, msg401)

		// A disabled store: the mint is refused by policy, and its live
		// token is refused (Store.active).
		live := onlyJWT(t, want(t, gen("Bearer "+admin, intStore, ""), 201))
		if s.check(t, live) != 200 {
			t.Fatal("live store token refused")
		}
		want(t, s.call(t, "PATCH", "/v1/tenants/acme/devices/"+intStore, s.Admin, map[string]any{"disabled": true}), 200)
		wantError(t, gen("Bearer "+admin, intStore, ""), 422, msg422)
		if got := s.check(t, live); got != 401 {
			t.Fatalf("token of a disabled store: /check %d", got)
		}

		// A native tokend token of a user with the admin role is an admin's;
		// one of a user without it is not.
		users := want(t, s.call(t, "GET", "/v1/tenants/acme/users", s.Admin, nil), 200).items()
		for _, u := range users {
			id, _ := u["id"].(string)
			nat := want(t, s.call(t, "POST", "/v1/tenants/acme/users/"+id+"/tokens", s.Admin, map[string]any{}), 201).str("access_token")
			if u["login"] == "admin@acme.test" {
				onlyJWT(t, want(t, gen("Bearer "+nat, seedStore, ""), 201))
			} else {
				wantError(t, gen("Bearer "+nat, seedStore, ""), 403, msg403)
			}
		}

		// A tokend access token of the tenant with tokend:admin is an admin.
		cl := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", s.Admin, map[string]any{"id": "ops",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"tokend:admin"}}), 201)
		at := clientToken(t, s.server, "acme", "ops", cl.str("client_secret"), "tokend:admin")
		onlyJWT(t, want(t, gen("Bearer "+at, seedStore, ""), 201))
		// Plain "X" works too (Knock takes the header's last word).
		onlyJWT(t, want(t, gen(admin, seedStore, ""), 201))

		// Refusals are audited.
		ev := want(t, s.call(t, "GET", "/v1/tenants/acme/audit?action=token.mint&outcome=failure", s.Admin, nil), 200)
		if !strings.Contains(string(ev.Raw), seedStore) {
			t.Fatalf("no refusal audited: %s", ev.Raw)
		}
	})
}

func jtiOf(t *testing.T, tok string) string {
	t.Helper()
	_, p := parts(t, tok)
	var c struct{ Jti string }
	_ = json.Unmarshal([]byte(p), &c)
	return c.Jti
}

// otherAdminToken is a tokend access token of tenant other with
// tokend:admin: a valid token, of another tenant.
func otherAdminToken(t *testing.T, s *stk) string {
	t.Helper()
	cl := want(t, s.call(t, "POST", "/v1/tenants/other/clients", s.Admin, map[string]any{"id": "ops-other",
		"grant_types": []string{"client_credentials"}, "scopes": []string{"tokend:admin"}}), 201)
	return clientToken(t, s.server, "other", "ops-other", cl.str("client_secret"), "tokend:admin")
}

func clientToken(t *testing.T, s *server, ten, id, secret, scope string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/t/"+ten+"/oauth2/token", strings.NewReader("grant_type=client_credentials&scope="+scope))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	r := want(t, send(t, req), 200)
	return r.str("access_token")
}

// TestStoreTokenImportedLegacy: a token the Rails app handed out (signed
// with its secret_key_base, jti imported) keeps verifying, and the first
// generation through tokend ends it.
func TestStoreTokenImportedLegacy(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := startStoreToken(t, b.url(t), nil)
		const legacyJTI = "0123456789abcdef0123456789abcdef"
		legacy := hs256(t, []byte(legacySecret+"acme"), `{"exp":4102444800,"sub":42,"aud":["api"],"jti":"`+legacyJTI+`"}`)
		if s.check(t, legacy) != 401 {
			t.Fatal("legacy token accepted before its jti was imported")
		}
		want(t, s.call(t, "POST", "/v1/tenants/acme/devices/"+intStore+"/jti", s.Admin, map[string]any{"jti": legacyJTI}), 204)
		if got := s.check(t, legacy); got != 200 {
			t.Fatalf("imported legacy token: /check %d", got)
		}
		rs := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", s.Admin, map[string]any{"id": "rs",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"tokend:introspect"}}), 201).str("client_secret")
		ireq, _ := http.NewRequest("POST", s.URL+"/t/acme/oauth2/introspect", strings.NewReader(url.Values{"token": {legacy}}.Encode()))
		ireq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		ireq.SetBasicAuth("rs", rs)
		if r := want(t, send(t, ireq), 200); r.Body["active"] != true || r.str("sub") != intStore || r.str("jti") != legacyJTI {
			t.Fatalf("introspection of the imported legacy token: %s", r.Raw)
		}
		want(t, s.call(t, "POST", "/v1/tenants/acme/devices/"+intStore+"/jti", s.Admin, map[string]any{"jti": legacyJTI}), 409)
		want(t, s.call(t, "POST", "/v1/tenants/acme/devices/"+intStore+"/jti", s.Admin, map[string]any{"jti": "bad jti!"}), 422)
		want(t, s.call(t, "POST", "/v1/tenants/acme/devices/kiosk-9/jti", s.Admin, map[string]any{"jti": "abc"}), 404)
		// A token with the right jti but another secret is refused.
		forged := hs256(t, []byte(legacySecret+"other"), `{"exp":4102444800,"sub":42,"aud":["api"],"jti":"`+legacyJTI+`"}`)
		if s.check(t, forged) != 401 {
			t.Fatal("token signed with another secret accepted")
		}
		// A secret shorter than 32 bytes is refused at configuration.
		r := want(t, s.call(t, "POST", "/v1/tenants/acme/keys/legacy", s.Admin, map[string]any{"secret": "short"}), 422)
		if !strings.Contains(string(r.Raw), "secret") {
			t.Fatalf("short secret: %s", r.Raw)
		}
		admin := s.signIn(t, "admin@acme.test", s.adminPW)
		onlyJWT(t, s.generate(t, admin, intStore, 201))
		if s.check(t, legacy) != 401 {
			t.Fatal("legacy token still accepted after rotation")
		}
	})
}

// TestStoreTokenOutage: with PostgreSQL cut off, generate_token answers
// 503 in the legacy shape, never a token.
func TestStoreTokenOutage(t *testing.T) {
	t.Parallel()
	p, proxied := faulttest.StartFor(t, pgtest.NewDatabase(t))
	s := startStoreToken(t, proxied, func(c *config.Config) { c.RequestTimeout = 3 * time.Second })
	admin := s.signIn(t, "admin@acme.test", s.adminPW)
	onlyJWT(t, s.generate(t, admin, seedStore, 201))
	p.Cut()
	r := s.raw(t, "POST", "/stores/"+seedStore+"/generate_token", "Bearer "+admin, "")
	p.Resume()
	if r.Status != 503 || r.str("error") == "" || len(r.Body) != 1 {
		t.Fatalf("outage: %d %s", r.Status, r.Raw)
	}
}

// TestStoreTokenRefusedEverywhere: after a rotation every earlier token of
// the store (the compact one and a native device token of the store) is
// refused by introspection, /check, the verifier library and named by the
// revocation feed.
func TestStoreTokenRefusedEverywhere(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := startStoreToken(t, b.url(t), nil)
		rs := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", s.Admin, map[string]any{"id": "rs",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"tokend:introspect"}}), 201).str("client_secret")
		admin := s.signIn(t, "admin@acme.test", s.adminPW)
		old := onlyJWT(t, s.generate(t, admin, seedStore, 201))
		native := want(t, s.call(t, "POST", "/v1/tenants/acme/devices/"+seedStore+"/tokens", s.Admin, map[string]any{"audience": "kiosk"}), 201).str("access_token")

		v, err := verify.New(context.Background(), verify.Options{Issuer: s.URL + "/t/acme", Audience: "api", Algorithms: []string{"ES256"},
			ClientID: "rs", ClientSecret: rs})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		<-v.Synced()
		vk, err := verify.New(context.Background(), verify.Options{Issuer: s.URL + "/t/acme", Audience: "kiosk", Algorithms: []string{"ES256"},
			ClientID: "rs", ClientSecret: rs})
		if err != nil {
			t.Fatal(err)
		}
		defer vk.Close()
		<-vk.Synced()
		introspect := func(tok string) bool {
			req, _ := http.NewRequest("POST", s.URL+"/t/acme/oauth2/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("rs", rs)
			r := want(t, send(t, req), 200)
			return r.Body["active"] == true
		}
		if c, err := v.Verify(context.Background(), old); err != nil || c.Subject != seedStore || c.Kind != "device" {
			t.Fatalf("verifier library, live store token: %+v %v", c, err)
		}
		if _, err := vk.Verify(context.Background(), native); err != nil {
			t.Fatalf("verifier library, native device token: %v", err)
		}
		if !introspect(old) || s.check(t, old) != 200 {
			t.Fatal("live store token not active")
		}

		fresh := onlyJWT(t, s.generate(t, admin, seedStore, 201))
		// At once, with no wait: introspection, /check and the library.
		if introspect(old) {
			t.Error("introspection: rotated-out token active")
		}
		if got := s.check(t, old); got != 401 {
			t.Errorf("/check: rotated-out token %d", got)
		}
		if _, err := v.Verify(context.Background(), old); err == nil {
			t.Error("verifier library: rotated-out store token accepted")
		}
		if _, err := v.Verify(context.Background(), fresh); err != nil {
			t.Errorf("verifier library: new store token: %v", err)
		}
		if !introspect(fresh) {
			t.Error("introspection: new token inactive")
		}
		// The native token of the store falls with the rotation's cutoff,
		// which the library learns from the feed.
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := vk.Verify(context.Background(), native); err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("verifier library: native device token of the store still accepted 5 s after the rotation")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if introspect(native) || s.check(t, native) != 401 {
			t.Error("native device token of the store still active")
		}
		// The feed carries the store's cutoff, which a follower applies to
		// the rotated-out jti (the hex of a time id: revocation.TimeOfID).
		req, _ := http.NewRequest("GET", s.URL+"/t/acme/revocations", nil)
		req.SetBasicAuth("rs", rs)
		feed := want(t, send(t, req), 200)
		var page struct {
			Items []revocation.Entry `json:"items"`
		}
		if err := json.Unmarshal(feed.Raw, &page); err != nil {
			t.Fatal(err)
		}
		dl := revocation.NewDenyList()
		dl.Apply(page.Items...)
		issued, ok := revocation.TimeOfID(jtiOf(t, old))
		if !ok || dl.Reason(revocation.Presented{Tenant: "acme", ID: jtiOf(t, old), IssuedAt: issued, SubjectType: "device", Subject: seedStore}) == "" {
			t.Fatalf("a feed follower does not see the rotated-out jti revoked: %s", feed.Raw)
		}
		if dl.Reason(revocation.Presented{Tenant: "acme", ID: jtiOf(t, fresh), IssuedAt: mustTime(t, jtiOf(t, fresh)), SubjectType: "device", Subject: seedStore}) != "" {
			t.Fatal("a feed follower sees the new jti revoked")
		}
		// An imported legacy jti has no time: rotating it out names it.
		const legacyJTI = "0123456789abcdef0123456789abcdef"
		want(t, s.call(t, "POST", "/v1/tenants/acme/devices/"+intStore+"/jti", s.Admin, map[string]any{"jti": legacyJTI}), 204)
		onlyJWT(t, s.generate(t, admin, intStore, 201))
		feed = want(t, send(t, req.Clone(context.Background())), 200)
		if !strings.Contains(string(feed.Raw), legacyJTI) {
			t.Fatalf("feed %s does not name the rotated-out legacy jti", feed.Raw)
		}
	})
}

func mustTime(t *testing.T, jti string) time.Time {
	t.Helper()
	tm, ok := revocation.TimeOfID(jti)
	if !ok {
		t.Fatalf("jti %s carries no time", jti)
	}
	return tm
}
