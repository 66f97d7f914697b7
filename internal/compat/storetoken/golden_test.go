package storetoken_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// The seed's store id.
const seedStore = "123e4567-e89b-12d3-a456-426614174000"

// TestGolden pins the seed's example exchange and every error, request
// and response, to testdata/*.golden (written from SQLite; PostgreSQL
// must produce the same bytes).
func TestGolden(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { goldenCases(t, start(t, ""), golden.Assert) })
	t.Run("postgres", func(t *testing.T) { goldenCases(t, start(t, pgtest.NewDatabase(t)), golden.Compare) })
}

func (f *fixture) with(a func(testing.TB, string, []byte)) *fixture { f.assert = a; return f }

type fixture struct {
	t      *testing.T
	s      *apptest.Server
	assert func(testing.TB, string, []byte)
}

func start(t *testing.T, db string) *fixture {
	s := apptest.StartWith(t, db, apptest.Options{Config: func(c *config.Config) { c.SurfaceTenants = "storetoken=acme" }})
	adm := s.Admin
	s.Call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "acme", "policy": map[string]any{"access_ttl": 2}}, 201)
	s.Call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "other"}, 201)
	for _, ten := range []string{"acme", "other"} {
		b := "/v1/tenants/" + ten
		s.Call(t, "POST", b+"/roles", adm, map[string]any{"name": "admin", "scopes": []string{"stores"}}, 201)
		s.Call(t, "POST", b+"/roles", adm, map[string]any{"name": "clerk", "scopes": []string{"read"}}, 201)
		s.Call(t, "PUT", b+"/surfaces/storetoken", adm, map[string]any{}, 200)
		s.Call(t, "POST", b+"/keys/legacy", adm, map[string]any{"secret": strings.Repeat("s", 40) + ten}, 204)
		s.Call(t, "POST", b+"/users", adm, map[string]any{"login": "admin@" + ten + ".test", "password": "admin-pw-" + ten, "roles": []string{"admin"}}, 201)
		s.Call(t, "POST", b+"/users", adm, map[string]any{"login": "clerk@" + ten + ".test", "password": "clerk-pw-" + ten, "roles": []string{"clerk"}}, 201)
	}
	s.Call(t, "POST", "/v1/tenants/acme/devices", adm, map[string]any{"id": seedStore, "type": "store"}, 201)
	s.Call(t, "POST", "/v1/tenants/acme/devices", adm, map[string]any{"id": "123", "type": "store"}, 201)
	s.Call(t, "POST", "/v1/tenants/acme/devices", adm, map[string]any{"id": "9", "type": "store", "disabled": true}, 201)
	s.Call(t, "POST", "/v1/tenants/other/devices", adm, map[string]any{"id": "77", "type": "store"}, 201)
	return &fixture{t: t, s: s}
}

// exchange sends a request and records it and its response in the golden
// file name; it returns the response body.
func (f *fixture) exchange(name, method, path, authz, body string) []byte {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, f.s.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(method + " " + path + " HTTP/1.1\n")
	if authz != "" {
		r.Header.Set("Authorization", authz)
		b.WriteString("Authorization: " + authz + "\n")
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
		b.WriteString("Content-Type: application/json\n")
	}
	b.WriteString("\n" + body)
	if body != "" {
		b.WriteString("\n")
	}
	b.WriteString("\n")
	got := golden.Fetch(f.t, r)
	b.Write(hexIDs.ReplaceAll(got, []byte("<hex-id>")))
	f.t.Run(name, func(t *testing.T) { f.assert(t, name, b.Bytes()) })
	_, resp, _ := bytes.Cut(got, []byte("\n\n"))
	return resp
}

func jwtOf(t *testing.T, body []byte) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil || m["jwt"] == "" {
		t.Fatalf("no jwt in %s", body)
	}
	return m["jwt"]
}

// hexIDs are the 32-hex-character token ids of compact tokens (the jti,
// in headers and lists), which golden.Normalize leaves alone.
var hexIDs = regexp.MustCompile(`\b[0-9a-f]{32}\b`)

// decoded renders a token's header and payload, for a golden file.
func decoded(t *testing.T, tok string) []byte {
	t.Helper()
	p := strings.Split(tok, ".")
	h, _ := base64.RawURLEncoding.DecodeString(p[0])
	b, _ := base64.RawURLEncoding.DecodeString(p[1])
	return []byte("header:  " + string(h) + "\npayload: " + string(b) + "\n")
}

// quiet sends a request outside the golden files and returns its body.
func (f *fixture) quiet(method, path, authz, body string) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, _ := http.NewRequest(method, f.s.URL+path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func signIn(email, pw string) string {
	b, _ := json.Marshal(map[string]any{"auth": map[string]string{"email": email, "password": pw}})
	return string(b)
}

func goldenCases(t *testing.T, f *fixture, assert func(testing.TB, string, []byte)) {
	f.t, f.assert = t, assert
	// The seed's example: sign in, then its curl verbatim.
	admin := jwtOf(t, f.exchange("user_token", "POST", "/user_token", "", signIn("admin@acme.test", "admin-pw-acme")))
	t.Run("user_token.decoded", func(t *testing.T) { assert(t, "user_token.decoded", decoded(t, admin)) })
	tok := jwtOf(t, f.exchange("generate_token", "POST", "/stores/"+seedStore+"/generate_token", "Bearer "+admin, ""))
	t.Run("generate_token.decoded", func(t *testing.T) { assert(t, "generate_token.decoded", decoded(t, tok)) })
	itok := jwtOf(t, f.exchange("generate_token.integer_id", "POST", "/stores/123/generate_token", "Bearer "+admin, ""))
	t.Run("generate_token.integer_id.decoded", func(t *testing.T) { assert(t, "generate_token.integer_id.decoded", decoded(t, itok)) })
	jwtOf(t, f.exchange("generate_token.body", "POST", "/stores/123/generate_token", "Bearer "+admin, `{"expires_in":86400,"audience":["api"]}`))
	f.exchange("tokens", "GET", "/stores/123/tokens", "Bearer "+admin, "")
	f.exchange("check.store_token", "GET", "/t/acme/check", "Bearer "+tok, "")

	_, cb := f.quiet("POST", "/user_token", "", signIn("clerk@acme.test", "clerk-pw-acme"))
	clerk := jwtOf(t, cb)
	_, ob := f.quiet("POST", "/user_token", "", signIn("admin@acme.test", "admin-pw-acme"))
	expiring := jwtOf(t, ob)

	gen := "/stores/" + seedStore + "/generate_token"
	f.exchange("error.401.no_token", "POST", gen, "", "")
	f.exchange("error.401.malformed", "POST", gen, "Bearer not-a-token", "")
	f.exchange("error.401.bad_signature", "POST", gen, "Bearer "+apptest.FlipLastBit(admin), "")
	f.exchange("error.403.not_admin", "POST", gen, "Bearer "+clerk, "")
	f.exchange("error.403.store_token", "POST", gen, "Bearer "+tok, "")
	f.exchange("error.404.unknown_store", "POST", "/stores/999/generate_token", "Bearer "+admin, "")
	f.exchange("error.404.other_tenant_store", "POST", "/stores/77/generate_token", "Bearer "+admin, "")
	f.exchange("error.422.disabled_store", "POST", "/stores/9/generate_token", "Bearer "+admin, "")
	f.exchange("error.422.expires_in", "POST", gen, "Bearer "+admin, `{"expires_in":0}`)
	f.exchange("error.422.audience", "POST", gen, "Bearer "+admin, `{"audience":["billing"]}`)
	f.exchange("error.422.unknown_field", "POST", gen, "Bearer "+admin, `{"jti":"x"}`)
	f.exchange("error.400.malformed_body", "POST", gen, "Bearer "+admin, `{"expires_in":`)
	f.exchange("error.404.user_token_bad_password", "POST", "/user_token", "", signIn("admin@acme.test", "wrong"))
	f.exchange("error.400.user_token_no_auth", "POST", "/user_token", "", `{"email":"admin@acme.test"}`)
	f.exchange("error.401.tokens_no_token", "GET", "/stores/123/tokens", "", "")

	// The rotated-out token, then an expired admin token (access_ttl 2).
	jwtOf(t, f.exchange("generate_token.rotate", "POST", gen, "Bearer "+admin, ""))
	f.exchange("check.rotated_out", "GET", "/t/acme/check", "Bearer "+tok, "")
	time.Sleep(2100 * time.Millisecond)
	f.exchange("error.401.expired", "POST", gen, "Bearer "+expiring, "")
}
