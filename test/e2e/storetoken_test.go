package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/internal/testenv"
)

// stkCall sends a request with a raw Authorization header and JSON body
// and returns the status and the raw body.
func stkCall(t *testing.T, method, url, authz, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// stkMint sends a request that must answer 201 {"jwt":…} and returns the token.
func stkMint(t *testing.T, method, url, authz, body string) string {
	t.Helper()
	st, b := stkCall(t, method, url, authz, body)
	return stkJWT(t, st, b)
}

func stkJWT(t *testing.T, status int, body []byte) string {
	t.Helper()
	var m map[string]string
	if status != 201 || json.Unmarshal(body, &m) != nil || len(m) != 1 || m["jwt"] == "" {
		t.Fatalf("want 201 {\"jwt\":…}: %d %s", status, body)
	}
	return m["jwt"]
}

// TestStoreTokenRotationTwoReplicas: a rotation acknowledged by one
// replica is final on the other at once: the very next /check there of
// the earlier token is refused, with no wait, and the new token accepted.
func TestStoreTokenRotationTwoReplicas(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Skip(pgtest.EnvURL + " is not set: PostgreSQL tests need a server (.ci/run sets it)")
	}
	t.Parallel()
	env := pgReplicaEnv(t)
	admin := pgBootstrap(t, env)
	pub := "http://" + freeAddr(t)
	args := []string{"--public-url", pub, "--surface-tenants", "storetoken=acme"}
	a, b := serve(t, t.TempDir(), env, args...), serve(t, t.TempDir(), env, args...)

	for _, c := range []struct {
		path string
		body any
	}{
		{"/v1/tenants", map[string]any{"id": "acme"}},
		{"/v1/tenants/acme/roles", map[string]any{"name": "admin", "scopes": []string{"stores"}}},
		{"/v1/tenants/acme/users", map[string]any{"login": "admin@acme.test", "password": "pw-admin-acme", "roles": []string{"admin"}}},
		{"/v1/tenants/acme/devices", map[string]any{"id": "17", "type": "store"}},
	} {
		if st, m := api(t, "POST", a.URL+c.path, admin, c.body); st != 201 {
			t.Fatalf("POST %s: %d %v", c.path, st, m)
		}
	}
	if st, m := api(t, "PUT", a.URL+"/v1/tenants/acme/surfaces/storetoken", admin, map[string]any{}); st != 200 {
		t.Fatalf("enable: %d %v", st, m)
	}
	if st, m := api(t, "POST", a.URL+"/v1/tenants/acme/keys/legacy", admin, map[string]any{"secret": strings.Repeat("r", 48)}); st != 204 {
		t.Fatalf("import secret: %d %v", st, m)
	}
	login := `{"auth":{"email":"admin@acme.test","password":"pw-admin-acme"}}`
	adminJWT := stkMint(t, "POST", b.URL+"/user_token", "", login)

	replicas := []*proc{a, b}
	prev := ""
	const rounds = 12
	for i := range rounds {
		on, other := replicas[i%2], replicas[(i+1)%2]
		st, body := stkCall(t, "POST", on.URL+"/stores/17/generate_token", "Bearer "+adminJWT, "")
		tok := stkJWT(t, st, body)
		// No sleep: the other replica must already refuse the earlier token.
		if prev != "" {
			if st, body := stkCall(t, "GET", other.URL+"/t/acme/check", "Bearer "+prev, ""); st != 401 {
				t.Fatalf("round %d: earlier token on the other replica right after the rotation: %d %s", i, st, body)
			}
			if st, _ := stkCall(t, "GET", on.URL+"/t/acme/check", "Bearer "+prev, ""); st != 401 {
				t.Fatalf("round %d: earlier token on the rotating replica: %d", i, st)
			}
		}
		if st, body := stkCall(t, "GET", other.URL+"/t/acme/check", "Bearer "+tok, ""); st != 200 {
			t.Fatalf("round %d: new token on the other replica: %d %s", i, st, body)
		}
		prev = tok
	}
}

// pyjwt runs a Python snippet with PyJWT and returns its stdout.
func pyjwt(t *testing.T, py, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v\n%s", err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

type stkCreds struct {
	Compat struct {
		Storetoken struct {
			Tenant        string `json:"tenant"`
			StoreID       string `json:"store_id"`
			AdminEmail    string `json:"admin_email"`
			AdminPassword string `json:"admin_password"`
			Secret        string `json:"secret"`
		} `json:"storetoken"`
	} `json:"compat"`
	AdminToken string `json:"admin_token"`
}

// TestStoreTokenDevSeedExampleAndPyJWT runs the seed's example against
// `tokend serve --dev` with only the host changed, verifies the store
// token with PyJWT and the tenant's secret as the Rails application would
// (HS256, aud "api"), and has a token PyJWT signed with that secret (a
// token the Rails application handed out) accepted once its jti is
// imported, and refused after the next generation.
func TestStoreTokenDevSeedExampleAndPyJWT(t *testing.T) {
	t.Parallel()
	py := testenv.PyJWT(t)
	data := t.TempDir()
	p := serve(t, data, nil, "--dev")
	raw, err := os.ReadFile(filepath.Join(data, "dev-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c stkCreds
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	s := c.Compat.Storetoken
	if s.StoreID != "123e4567-e89b-12d3-a456-426614174000" || s.Secret == "" || s.AdminPassword == "" {
		t.Fatalf("compat.storetoken in dev-credentials.json: %+v", s)
	}
	if !strings.Contains(p.Output(), "/stores/"+s.StoreID+"/generate_token") {
		t.Errorf("the dev banner does not show the store-token example:\n%s", p.Output())
	}
	login, _ := json.Marshal(map[string]any{"auth": map[string]string{"email": s.AdminEmail, "password": s.AdminPassword}})
	adminJWT := stkMint(t, "POST", p.URL+"/user_token", "", string(login))
	// The seed's curl: POST, the Authorization header, no body.
	tok := stkMint(t, "POST", p.URL+"/stores/"+s.StoreID+"/generate_token", "Bearer "+adminJWT, "")

	const verify = `import jwt, json, sys
c = jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"], audience="api")
h = jwt.get_unverified_header(sys.argv[1])
print(json.dumps({"header": h, "sub": c["sub"], "aud": c["aud"], "jti": c["jti"], "exp": c["exp"] > 4000000000}))`
	got := pyjwt(t, py, verify, tok, s.Secret)
	var v struct {
		Header map[string]any `json:"header"`
		Sub    string         `json:"sub"`
		Aud    []string       `json:"aud"`
		JTI    string         `json:"jti"`
		Exp    bool           `json:"exp"`
	}
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("PyJWT said %q", got)
	}
	if len(v.Header) != 1 || v.Header["alg"] != "HS256" || v.Sub != s.StoreID || len(v.Aud) != 1 || v.Aud[0] != "api" || len(v.JTI) != 32 || !v.Exp {
		t.Fatalf("PyJWT decoded %s", got)
	}
	// A wrong secret or audience is refused by PyJWT too.
	const refuse = `import jwt, sys
try:
    jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"], audience=sys.argv[3])
    print("accepted")
except jwt.InvalidTokenError as e:
    print("refused")`
	if got := pyjwt(t, py, refuse, tok, s.Secret+"x", "api"); got != "refused" {
		t.Fatalf("PyJWT with another secret: %s", got)
	}
	if got := pyjwt(t, py, refuse, tok, s.Secret, "backend"); got != "refused" {
		t.Fatalf("PyJWT with audience backend: %s", got)
	}

	// A token the legacy application made (PyJWT stands for ruby-jwt).
	legacyJTI := "feedfacefeedfacefeedfacefeedface"
	const sign = `import jwt, sys
print(jwt.encode({"exp": 4102444800, "sub": sys.argv[1], "aud": ["api"], "jti": sys.argv[2]}, sys.argv[3], algorithm="HS256"))`
	legacy := pyjwt(t, py, sign, s.StoreID, legacyJTI, s.Secret)
	check := func(tok string) int {
		st, _ := stkCall(t, "GET", p.URL+"/t/"+s.Tenant+"/check", "Bearer "+tok, "")
		return st
	}
	if got := check(legacy); got != 401 {
		t.Fatalf("legacy token before its jti is imported: %d", got)
	}
	if st, m := api(t, "POST", p.URL+"/v1/tenants/"+s.Tenant+"/devices/"+s.StoreID+"/jti", c.AdminToken, map[string]any{"jti": legacyJTI}); st != 204 {
		t.Fatalf("import jti: %d %v", st, m)
	}
	if got := check(legacy); got != 200 {
		t.Fatalf("imported legacy token: %d", got)
	}
	if got := check(tok); got != 401 {
		t.Fatalf("token superseded by the import: %d", got)
	}
	stkMint(t, "POST", p.URL+"/stores/"+s.StoreID+"/generate_token", "Bearer "+adminJWT, "")
	if got := check(legacy); got != 401 {
		t.Fatalf("legacy token after a generation: %d", got)
	}
}

// TestStoreTokenCLI: stores are devices of type store, created, listed,
// disabled and imported with a legacy jti from the CLI; the tenant's
// legacy secret is imported from stdin; one store token is revoked by its
// jti without rotating the store.
func TestStoreTokenCLI(t *testing.T) {
	t.Parallel()
	py := testenv.PyJWT(t)
	data := t.TempDir()
	p := serve(t, data, nil, "--dev")
	c := readCreds(t, data)
	env := []string{"TOKEND_ENDPOINT=" + p.URL, "TOKEND_TOKEN=" + c.AdminToken}
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := run(t, env, stdin, args...)
		if code != 0 {
			t.Fatalf("tokend %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	const secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	if _, errOut, code := run(t, env, "too-short\n", "keys", "import-legacy", "-t", "demo"); code == 0 || !strings.Contains(errOut, "secret") {
		t.Fatalf("a short secret: exit %d %s", code, errOut)
	}
	ok(secret+"\n", "keys", "import-legacy", "-t", "demo")
	if out := ok("", "keys", "list", "-t", "demo"); !strings.Contains(out, "legacy") {
		t.Fatalf("keys list:\n%s", out)
	}
	ok("", "devices", "create", "501", "-t", "demo", "--type", "store")
	ok("", "devices", "create", "502", "-t", "demo", "--type", "store")
	if out := ok("", "devices", "list", "-t", "demo"); !strings.Contains(out, "501") || !strings.Contains(out, "store") {
		t.Fatalf("devices list:\n%s", out)
	}
	const jti = "aaaabbbbccccddddeeeeffff00001111"
	ok("", "devices", "import-jti", "501", "-t", "demo", "--jti", jti)
	legacy := pyjwt(t, py, `import jwt, sys
print(jwt.encode({"exp": 4102444800, "sub": 501, "aud": ["api"], "jti": sys.argv[1]}, sys.argv[2], algorithm="HS256"))`, jti, secret)
	check := func(tok string) int {
		st, _ := stkCall(t, "GET", p.URL+"/t/demo/check", "Bearer "+tok, "")
		return st
	}
	if got := check(legacy); got != 200 {
		t.Fatalf("imported legacy token of store 501: %d", got)
	}
	// Revoke that one token by its jti: the store keeps its jti.
	ok("", "tokens", "revoke", jti, "-t", "demo")
	if got := check(legacy); got != 401 {
		t.Fatalf("revoked legacy token: %d", got)
	}
	if out := ok("", "devices", "get", "501", "-t", "demo"); !strings.Contains(out, jti) {
		t.Fatalf("devices get after revoking one token:\n%s", out)
	}
	// A disabled store gets no token.
	ok("", "devices", "update", "502", "-t", "demo", "--disabled")
	var cr stkCreds
	raw, _ := os.ReadFile(filepath.Join(data, "dev-credentials.json"))
	_ = json.Unmarshal(raw, &cr)
	s := cr.Compat.Storetoken
	login, _ := json.Marshal(map[string]any{"auth": map[string]string{"email": s.AdminEmail, "password": s.AdminPassword}})
	admin := stkMint(t, "POST", p.URL+"/user_token", "", string(login))
	if st, body := stkCall(t, "POST", p.URL+"/stores/502/generate_token", "Bearer "+admin, ""); st != 422 || string(body) != `{"error":"Failed to generate token"}` {
		t.Fatalf("disabled store: %d %s", st, body)
	}
	// The admin's token is signed with the imported secret now.
	if got := pyjwt(t, py, `import jwt, sys
print(jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"], audience="backend")["sub"])`, admin, secret); got == "" {
		t.Fatal("PyJWT could not verify the admin token with the imported secret")
	}
}
