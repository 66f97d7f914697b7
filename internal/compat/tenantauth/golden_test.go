package tenantauth_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// The legacy deployment's secrets (JWT_DEF_SECRET, JWT_SDK_SECRET).
const (
	defSecret = "legacy-default-secret-0123456789abcdef"
	sdkSecret = "legacy-sdk-agent-secret-0123456789abcdef"
)

// TestGolden pins both generateToken routes, verifyToken and every error,
// request and response, to testdata/*.golden (written from SQLite;
// PostgreSQL must produce the same bytes), and checks the tokens.
func TestGolden(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { goldenCases(t, start(t, ""), golden.Assert) })
	t.Run("postgres", func(t *testing.T) { goldenCases(t, start(t, pgtest.NewDatabase(t)), golden.Compare) })
}

type fixture struct {
	t       *testing.T
	s       *apptest.Server
	assert  func(testing.TB, string, []byte)
	secrets map[string]string // client → secret
}

// start: tenant acme with project api, an admin and a user (roles
// through a group, scoped permissions and resources), client sdk with a
// secret in tokend's store, client open registered as needing none,
// client stray not registered, the legacy secrets imported; tenant
// other without the surface.
func start(t *testing.T, db string) *fixture {
	s := apptest.Start(t, db)
	adm := s.Admin
	f := &fixture{t: t, s: s, secrets: map[string]string{}}
	s.Call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "acme"}, 201)
	s.Call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "other"}, 201)
	b := "/v1/tenants/acme"
	s.Call(t, "POST", b+"/projects", adm, map[string]any{"id": "api", "audience": "acme-api"}, 201)
	s.Call(t, "POST", b+"/projects", adm, map[string]any{"id": "web", "audience": "acme-web"}, 201)
	s.Call(t, "POST", b+"/roles", adm, map[string]any{"name": "admin", "scopes": []string{"tenant:admin"}}, 201)
	s.Call(t, "POST", b+"/roles", adm, map[string]any{"name": "editor", "scopes": []string{"docs:read", "docs:write"}, "resources": []string{"docs"}}, 201)
	s.Call(t, "POST", b+"/roles", adm, map[string]any{"name": "viewer", "scopes": []string{"reports:read"}, "resources": []string{"reports"}}, 201)
	s.Call(t, "POST", b+"/groups", adm, map[string]any{"name": "writers", "roles": []string{"editor"}}, 201)
	s.Call(t, "POST", b+"/users", adm, map[string]any{"login": "admin@acme.test", "roles": []string{"admin"}}, 201)
	s.Call(t, "POST", b+"/users", adm, map[string]any{"login": "user@acme.test", "roles": []string{"viewer"}, "groups": []string{"writers"}}, 201)
	for _, id := range []string{"sdk", "stray"} {
		c := s.Call(t, "POST", b+"/clients", adm, map[string]any{"id": id, "grant_types": []string{"client_credentials"}}, 201)
		f.secrets[id], _ = c["client_secret"].(string)
	}
	s.Call(t, "POST", b+"/clients", adm, map[string]any{"id": "open", "public": true}, 201)
	s.Call(t, "PUT", b+"/surfaces/tenantauth", adm, map[string]any{"clients": map[string]any{
		"sdk": map[string]any{"project_id": "api"}, "open": map[string]any{"project_id": "api", "no_secret": true}}}, 200)
	s.Call(t, "POST", b+"/keys/named", adm, map[string]any{"name": "default", "secret": defSecret}, 204)
	s.Call(t, "POST", b+"/keys/named", adm, map[string]any{"name": "sdk-agent", "secret": sdkSecret}, 204)
	return f
}

// exchange sends a request and records it and its response in the golden
// file name; it returns the status and response body.
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
	b.Write(normalize(got))
	f.t.Run(name, func(t *testing.T) { f.assert(t, name, normalize(b.Bytes())) })
	_, resp, _ := bytes.Cut(got, []byte("\n\n"))
	return resp
}

var (
	hexIDs    = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	times     = regexp.MustCompile(`"(issued_at|expires_at)":\d+`)
	localhost = regexp.MustCompile(`http://localhost:\d+/`)
	secrets   = regexp.MustCompile(`"secret_id":"[^"]*"`)
)

func normalize(b []byte) []byte {
	b = hexIDs.ReplaceAll(b, []byte("<hex-id>"))
	b = times.ReplaceAll(b, []byte(`"$1":<unix>`))
	b = localhost.ReplaceAll(b, []byte(`http://localhost:<port>/`))
	// secret_id values are the clients' random secrets.
	return secrets.ReplaceAll(b, []byte(`"secret_id":"<secret>"`))
}

func tokenOf(t testing.TB, body []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m["access_token"] == "" || m["token_type"] != "Bearer" || m["expires_in"] != float64(86400) || len(m) != 3 {
		t.Fatalf("not a token response: %s", body)
	}
	return m["access_token"].(string)
}

// decoded checks a token's HS256 signature with secret and renders its
// header and payload (times normalised), for a golden file.
func decoded(t *testing.T, tok, secret string) []byte {
	t.Helper()
	p := strings.Split(tok, ".")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(p[0] + "." + p[1]))
	if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != p[2] {
		t.Fatalf("token %s does not verify with the legacy secret", tok)
	}
	h, _ := base64.RawURLEncoding.DecodeString(p[0])
	b, _ := base64.RawURLEncoding.DecodeString(p[1])
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	var hd map[string]any
	if err := json.Unmarshal(h, &hd); err != nil || hd["kid"] != c["token_type"] || hd["alg"] != "HS256" || len(hd) != 3 {
		t.Fatalf("header %s of a %v token", h, c["token_type"])
	}
	if c["exp"].(float64)-c["iat"].(float64) != 86400 || (c["nbf"] != nil && c["nbf"] != c["iat"]) {
		t.Fatalf("times of %s", b)
	}
	c["iat"], c["exp"] = "<unix>", "<unix>"
	if c["nbf"] != nil {
		c["nbf"] = "<unix>"
	}
	out, _ := json.Marshal(c)
	return normalize([]byte("header:  " + string(h) + "\npayload: " + string(out) + "\n"))
}

func req(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func goldenCases(t *testing.T, f *fixture, assert func(testing.TB, string, []byte)) {
	f.t, f.assert = t, assert
	body := func(route, email, client string, secret *string) map[string]any {
		m := map[string]any{"tenant_id": "acme", "project_id": "api", "client_id": client, "email_id": email}
		if secret != nil {
			m["secret_id"] = *secret
		}
		return m
	}
	sdk := f.secrets["sdk"]
	// secret_id values are the client's random secret: the golden files
	// show them normalised.
	redact := func(s string) string { return secrets.ReplaceAllString(s, `"secret_id":"<secret>"`) }
	ex := func(name, path, b string) []byte {
		f.t.Helper()
		return f.exchange(name, "POST", path, "", b)
	}

	user := tokenOf(t, ex("user.generateToken.secret", "/auth/user/generateToken", req(body("user", "user@acme.test", "sdk", &sdk))))
	t.Run("user.generateToken.secret.decoded", func(t *testing.T) {
		assert(t, "user.generateToken.secret.decoded", decoded(t, user, sdkSecret))
	})
	admin := tokenOf(t, ex("admin.generateToken.secret", "/auth/admin/generateToken", req(body("admin", "admin@acme.test", "sdk", &sdk))))
	t.Run("admin.generateToken.secret.decoded", func(t *testing.T) {
		assert(t, "admin.generateToken.secret.decoded", decoded(t, admin, sdkSecret))
	})
	userDef := tokenOf(t, ex("user.generateToken.no_secret", "/auth/user/generateToken", req(body("user", "user@acme.test", "open", nil))))
	t.Run("user.generateToken.no_secret.decoded", func(t *testing.T) {
		assert(t, "user.generateToken.no_secret.decoded", decoded(t, userDef, defSecret))
	})
	adminDef := tokenOf(t, ex("admin.generateToken.no_secret", "/auth/admin/generateToken", req(body("admin", "admin@acme.test", "open", nil))))
	t.Run("admin.generateToken.no_secret.decoded", func(t *testing.T) {
		assert(t, "admin.generateToken.no_secret.decoded", decoded(t, adminDef, defSecret))
	})

	// verifyToken, both routes, and the native check of the same tokens.
	f.exchange("user.verifyToken", "GET", "/auth/user/verifyToken", "Bearer "+user, "")
	f.exchange("admin.verifyToken", "GET", "/auth/admin/verifyToken", "Bearer "+adminDef, "")
	f.exchange("user.verifyToken.body", "GET", "/auth/user/verifyToken", "", `{"token":"`+user+`"}`)
	f.exchange("error.400.verify_body", "GET", "/auth/user/verifyToken", "", `{"jwt":"x"}`)
	f.exchange("check.user_token", "GET", "/t/acme/check", "Bearer "+user, "")

	wrong := sdk + "x"
	empty := ""
	f.exchange("error.401.wrong_secret", "POST", "/auth/user/generateToken", "", req(body("user", "user@acme.test", "sdk", &wrong)))
	f.exchange("error.401.empty_secret", "POST", "/auth/user/generateToken", "", req(body("user", "user@acme.test", "sdk", &empty)))
	f.exchange("error.401.secret_needed", "POST", "/auth/user/generateToken", "", req(body("user", "user@acme.test", "sdk", nil)))
	f.exchange("error.401.public_client_secret", "POST", "/auth/user/generateToken", "", req(body("user", "user@acme.test", "open", &wrong)))
	f.exchange("error.401.not_admin", "POST", "/auth/admin/generateToken", "", req(body("admin", "user@acme.test", "sdk", &sdk)))
	f.exchange("error.401.unknown_email", "POST", "/auth/user/generateToken", "", req(body("user", "nobody@acme.test", "sdk", &sdk)))
	for name, m := range map[string]map[string]any{
		"error.404.unknown_tenant":  {"tenant_id": "nope", "project_id": "api", "client_id": "sdk", "email_id": "user@acme.test", "secret_id": sdk},
		"error.404.tenant_disabled": {"tenant_id": "other", "project_id": "api", "client_id": "sdk", "email_id": "user@acme.test", "secret_id": sdk},
		"error.404.unknown_project": {"tenant_id": "acme", "project_id": "nope", "client_id": "sdk", "email_id": "user@acme.test", "secret_id": sdk},
		"error.404.other_project":   {"tenant_id": "acme", "project_id": "web", "client_id": "sdk", "email_id": "user@acme.test", "secret_id": sdk},
		"error.404.unknown_client":  {"tenant_id": "acme", "project_id": "api", "client_id": "nope", "email_id": "user@acme.test", "secret_id": sdk},
		"error.404.unregistered":    {"tenant_id": "acme", "project_id": "api", "client_id": "stray", "email_id": "user@acme.test", "secret_id": f.secrets["stray"]},
	} {
		f.exchange(name, "POST", "/auth/user/generateToken", "", redact(req(m)))
		if code, _ := f.quiet("POST", "/auth/user/generateToken", "", req(m)); code != 404 {
			t.Errorf("%s with the real secret: %d", name, code)
		}
	}
	for name, b := range map[string]string{
		"error.400.malformed":     `{"tenant_id":`,
		"error.400.empty":         ``,
		"error.400.not_object":    `["acme"]`,
		"error.400.missing_email": `{"tenant_id":"acme","project_id":"api","client_id":"sdk"}`,
		"error.400.empty_tenant":  `{"tenant_id":"","project_id":"api","client_id":"sdk","email_id":"user@acme.test"}`,
		"error.400.wrong_type":    `{"tenant_id":42,"project_id":"api","client_id":"sdk","email_id":"user@acme.test"}`,
		"error.400.secret_type":   `{"tenant_id":"acme","project_id":"api","client_id":"sdk","email_id":"user@acme.test","secret_id":true}`,
		"error.400.unknown_field": `{"tenant_id":"acme","project_id":"api","client_id":"sdk","email_id":"user@acme.test","scope":"x"}`,
		"error.400.duplicate":     `{"tenant_id":"acme","tenant_id":"other","project_id":"api","client_id":"sdk","email_id":"user@acme.test"}`,
	} {
		f.exchange(name, "POST", "/auth/admin/generateToken", "", b)
	}
	f.exchange("error.401.verify_no_token", "GET", "/auth/user/verifyToken", "", "")
	f.exchange("error.401.verify_bad_signature", "GET", "/auth/user/verifyToken", "Bearer "+apptest.FlipLastBit(user), "")
	f.exchange("error.401.verify_garbage", "GET", "/auth/user/verifyToken", "Bearer not-a-token", "")

	// The tokens are ordinary tokend tokens: in the ledger, revocable by
	// id, and refused everywhere once revoked.
	var claims map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(user, ".")[1])
	_ = json.Unmarshal(raw, &claims)
	jti := claims["jti"].(string)
	rows := f.s.Call(t, "GET", "/v1/tenants/acme/tokens?client_id=sdk", f.s.Admin, nil, 200)
	if items, _ := rows["items"].([]any); len(items) != 2 {
		t.Fatalf("ledger rows of client sdk: %v", rows)
	}
	ev := f.s.Call(t, "GET", "/v1/tenants/acme/audit?action=token.mint", f.s.Admin, nil, 200)
	if !strings.Contains(mustJSON(ev), `"surface":"tenantauth"`) {
		t.Fatalf("no audit event naming the surface: %s", mustJSON(ev))
	}
	introspect := func() map[string]any {
		r, _ := http.NewRequest("POST", f.s.URL+"/t/acme/oauth2/introspect", strings.NewReader("token="+user))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("sdk", f.secrets["sdk"])
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	if m := introspect(); m["active"] != true || m["client_id"] != "sdk" || m["jti"] != jti {
		t.Fatalf("introspection of a tenant token: %v", m)
	}
	f.s.Call(t, "POST", "/v1/tenants/acme/tokens/"+jti+"/revoke", f.s.Admin, nil, 200)
	if m := introspect(); m["active"] != false {
		t.Fatalf("introspection of a revoked tenant token: %v", m)
	}
	f.exchange("error.401.verify_revoked", "GET", "/auth/user/verifyToken", "Bearer "+user, "")
	f.exchange("check.revoked", "GET", "/t/acme/check", "Bearer "+user, "")
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// quiet sends a request outside the golden files.
func (f *fixture) quiet(method, path, authz, body string) (int, []byte) {
	f.t.Helper()
	r, _ := http.NewRequest(method, f.s.URL+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
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
