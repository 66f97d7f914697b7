package dotkernel_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
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

// dev starts a server in dev mode on databaseURL and loads the dev
// fixtures, as tokend serve --dev does: the seed's requests then work
// with only the host changed.
func dev(t *testing.T, databaseURL string) *apptest.Server {
	t.Helper()
	s := apptest.StartWith(t, databaseURL, apptest.Options{Config: func(c *config.Config) { c.Dev = true }})
	if _, _, err := s.App.DevSetup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// volatile are the values of this surface's wire formats that change
// from run to run beyond what golden.Normalize replaces.
var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`def50200[0-9a-f]{72}`), `def50200<refresh>`},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`), `<uuid>`},
	{regexp.MustCompile(`"hash":"[0-9a-f]{64}"`), `"hash":"<hash>"`},
	{regexp.MustCompile(`"date":"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]{15}"`), `"date":"<date>"`},
}

func normalize(b []byte) []byte {
	for _, v := range volatile {
		b = v.re.ReplaceAll(b, []byte(v.repl))
	}
	return b
}

// exchange is one request and its answer.
type exchange struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (e exchange) str(k string) string { s, _ := e.Body[k].(string); return s }

// client drives the surface the way the seed's curl commands do.
type client struct {
	t      *testing.T
	s      *apptest.Server
	assert func(testing.TB, string, []byte)
}

// do sends method path with body (JSON when it is not empty) and hdr
// (name, value pairs); with name set, the request and the response are
// pinned to the golden file name.
func (c client) do(name, method, path, body string, hdr ...string) exchange {
	c.t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, c.s.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	got := golden.Fetch(c.t, req)
	if name != "" {
		var rec bytes.Buffer
		rec.WriteString(method + " " + path + "\n")
		for i := 0; i+1 < len(hdr); i += 2 {
			rec.WriteString(hdr[i] + ": " + hdr[i+1] + "\n")
		}
		if body != "" {
			rec.WriteString("Content-Type: application/json\n\n" + body + "\n")
		}
		rec.WriteString("\n--- response\n\n")
		rec.Write(got)
		rec.WriteString("\n")
		out := normalize(rec.Bytes())
		c.t.Run(name, func(t *testing.T) { c.assert(t, name, out) })
	}
	e := exchange{}
	head, raw, _ := bytes.Cut(got, []byte("\n\n"))
	e.Raw = raw
	first, _, _ := bytes.Cut(head, []byte("\n"))
	if f := strings.Fields(string(first)); len(f) > 1 {
		e.Status = atoi(f[1])
	}
	_ = json.Unmarshal(raw, &e.Body)
	return e
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func (c client) want(e exchange, status int) exchange {
	c.t.Helper()
	if e.Status != status {
		c.t.Fatalf("status %d, want %d: %s", e.Status, status, e.Raw)
	}
	return e
}

// The seed's request bodies, verbatim.
const (
	adminLogin = `{
  "grant_type": "password",
  "client_id": "admin",
  "client_secret": "admin",
  "scope": "api",
  "username": "admin",
  "password": "dotkernel"
}`
	userLogin = `{
  "grant_type": "password",
  "client_id": "frontend",
  "client_secret": "frontend",
  "scope": "api",
  "username": "test@dotkernel.com",
  "password": "dotkernel"
}`
)

func refreshBody(clientID, rt string) string {
	return `{
  "grant_type": "refresh_token",
  "client_id": "` + clientID + `",
  "client_secret": "` + clientID + `",
  "scope": "api",
  "refresh_token": "` + rt + `"
}`
}

// TestSeedFlows runs both of the seed's authentication flows step by
// step, its refresh examples and every error the surface answers, on
// SQLite (golden files written with -update) and PostgreSQL (same bytes).
func TestSeedFlows(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		seedFlows(t, client{t: t, s: dev(t, ""), assert: golden.Assert})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		seedFlows(t, client{t: t, s: dev(t, pgtest.NewDatabase(t)), assert: golden.Compare})
	})
}

func seedFlows(t *testing.T, c client) {
	// Test admin authentication flow.
	c.want(c.do("admin_flow_1_forbidden", "GET", "/admin/my-account", ""), 403)
	admin := c.want(c.do("admin_flow_2_generate_token", "POST", "/security/generate-token", adminLogin), 200)
	adminAT, adminRT := admin.str("access_token"), admin.str("refresh_token")
	c.want(c.do("admin_flow_3_my_account", "GET", "/admin/my-account", "", "Authorization", "Bearer "+adminAT), 200)

	// Test user authentication flow.
	c.want(c.do("user_flow_1_forbidden", "GET", "/user/my-account", ""), 403)
	user := c.want(c.do("user_flow_2_generate_token", "POST", "/security/generate-token", userLogin), 200)
	userAT, userRT := user.str("access_token"), user.str("refresh_token")
	c.want(c.do("user_flow_3_my_account", "GET", "/user/my-account", "", "Authorization", "Bearer "+userAT), 200)

	checkAccounted(t, c.s)
	checkAccessToken(t, adminAT, "admin", "admin", []string{"admin", "superuser"})
	checkAccessToken(t, userAT, "frontend", "test@dotkernel.com", []string{"guest", "user"})

	// Each account only on its own route; a bad token is a guest.
	c.want(c.do("forbidden_user_token_on_admin", "GET", "/admin/my-account", "", "Authorization", "Bearer "+userAT), 403)
	c.want(c.do("forbidden_admin_token_on_user", "GET", "/user/my-account", "", "Authorization", "Bearer "+adminAT), 403)
	c.want(c.do("forbidden_invalid_token", "GET", "/admin/my-account", "", "Authorization", "Bearer "+apptest.FlipLastBit(adminAT)), 403)
	c.want(c.do("", "GET", "/admin/my-account", "", "Authorization", "Bearer "+adminRT), 403)

	// Refresh admin and user access tokens (both paths take either grant).
	a2 := c.want(c.do("refresh_admin", "POST", "/security/refresh-token", refreshBody("admin", adminRT)), 200)
	u2 := c.want(c.do("refresh_user", "POST", "/security/refresh-token", refreshBody("frontend", userRT)), 200)
	if a2.str("refresh_token") == adminRT || u2.str("refresh_token") == userRT {
		t.Fatal("refresh did not rotate the refresh token")
	}
	c.want(c.do("", "GET", "/admin/my-account", "", "Authorization", "Bearer "+a2.str("access_token")), 200)
	c.want(c.do("", "POST", "/security/generate-token", refreshBody("admin", a2.str("refresh_token"))), 200)

	// Reuse detection: once the successor is used, presenting the spent
	// token again revokes the whole login.
	u3 := c.want(c.do("", "POST", "/security/refresh-token", refreshBody("frontend", u2.str("refresh_token"))), 200)
	c.want(c.do("error_refresh_reused", "POST", "/security/refresh-token", refreshBody("frontend", userRT)), 401)
	c.want(c.do("error_refresh_family_revoked", "POST", "/security/refresh-token", refreshBody("frontend", u3.str("refresh_token"))), 401)
	c.want(c.do("", "GET", "/user/my-account", "", "Authorization", "Bearer "+u3.str("access_token")), 403)

	// Errors of the token endpoint.
	login := func(clientID, secret, user, password string) string {
		b, _ := json.Marshal(map[string]string{"grant_type": "password", "client_id": clientID, "client_secret": secret,
			"scope": "api", "username": user, "password": password})
		return string(b)
	}
	c.want(c.do("error_invalid_credentials", "POST", "/security/generate-token", login("admin", "admin", "admin", "dotadmin")), 400)
	c.want(c.do("error_unknown_identity", "POST", "/security/generate-token", login("admin", "admin", "nobody", "dotkernel")), 400)
	c.want(c.do("error_admin_with_frontend_client", "POST", "/security/generate-token", login("frontend", "frontend", "admin", "dotkernel")), 400)
	c.want(c.do("error_user_with_admin_client", "POST", "/security/generate-token", login("admin", "admin", "test@dotkernel.com", "dotkernel")), 400)
	c.want(c.do("error_client_secret", "POST", "/security/generate-token", login("admin", "wrong", "admin", "dotkernel")), 401)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:wrong"))
	c.want(c.do("error_client_secret_basic", "POST", "/security/generate-token",
		`{"grant_type":"password","scope":"api","username":"admin","password":"dotkernel"}`, "Authorization", basic), 401)
	c.s.Call(t, "POST", "/v1/tenants/dotkernel/clients", c.s.Admin, map[string]any{"id": "other", "secret": "other-secret",
		"grant_types": []string{"password", "refresh_token"}, "scopes": []string{"api"}, "policy": map[string]any{"password_grant": true}}, 201)
	c.want(c.do("error_other_client", "POST", "/security/generate-token", login("other", "other-secret", "admin", "dotkernel")), 401)
	for _, p := range []string{"client_id", "username", "password"} {
		m := map[string]string{"grant_type": "password", "client_id": "admin", "client_secret": "admin", "scope": "api",
			"username": "admin", "password": "dotkernel"}
		delete(m, p)
		b, _ := json.Marshal(m)
		c.want(c.do("error_missing_"+p, "POST", "/security/generate-token", string(b)), 400)
	}
	c.want(c.do("error_missing_refresh_token", "POST", "/security/refresh-token",
		`{"grant_type":"refresh_token","client_id":"admin","client_secret":"admin","scope":"api"}`), 400)
	c.want(c.do("error_unsupported_grant_type", "POST", "/security/generate-token",
		`{"grant_type":"client_credentials","client_id":"admin","client_secret":"admin","scope":"api"}`), 400)
	c.want(c.do("error_invalid_scope", "POST", "/security/generate-token",
		strings.Replace(adminLogin, `"scope": "api"`, `"scope": "xyz"`, 1)), 400)
	c.want(c.do("error_refresh_not_a_token", "POST", "/security/refresh-token", refreshBody("admin", "<refresh-token>")), 401)
	c.want(c.do("error_refresh_other_client", "POST", "/security/refresh-token", refreshBody("frontend", a2.str("refresh_token"))), 401)
	c.want(c.do("error_not_json", "POST", "/security/generate-token", "grant_type=password&client_id=admin",
		"Content-Type", "application/x-www-form-urlencoded"), 400)
	c.want(c.do("error_malformed_json", "POST", "/security/generate-token", `{"grant_type":"password",`), 400)
	c.want(c.do("error_duplicate_member", "POST", "/security/generate-token", `{"grant_type":"password","client_id":"admin","client_id":"frontend"}`), 400)
	c.want(c.do("error_unknown_member", "POST", "/security/generate-token", `{"grant_type":"password","client_id":"admin","foo":"bar"}`), 400)
	c.want(c.do("error_not_a_string", "POST", "/security/generate-token", `{"grant_type":"password","client_id":42}`), 400)

	// A revoked login: "Token has been revoked".
	r := c.want(c.do("", "POST", "/security/generate-token", adminLogin), 200)
	tokens := c.s.Call(t, "GET", "/v1/tenants/dotkernel/tokens?kind=refresh&active=true&limit=100", c.s.Admin, nil, 200)
	revoked := false
	for _, it := range tokens["items"].([]any) {
		row := it.(map[string]any)
		c.s.Call(t, "POST", "/v1/tenants/dotkernel/tokens/"+row["id"].(string)+"/revoke", c.s.Admin, map[string]any{}, 200)
		revoked = true
	}
	if !revoked {
		t.Fatalf("no live refresh token listed: %v", tokens)
	}
	c.want(c.do("error_refresh_revoked", "POST", "/security/refresh-token", refreshBody("admin", r.str("refresh_token"))), 401)

	// An inactive account of the user table.
	c.s.Call(t, "POST", "/v1/tenants/dotkernel/users", c.s.Admin, map[string]any{"login": "pending@dotkernel.com", "password": "dotkernel",
		"roles": []string{"user"}, "groups": []string{"users"}, "disabled": true}, 201)
	c.want(c.do("error_inactive_user", "POST", "/security/generate-token", login("frontend", "frontend", "pending@dotkernel.com", "dotkernel")), 401)

	// An expired refresh token: the frontend client's refresh tokens made
	// to live one second.
	c.s.Call(t, "PATCH", "/v1/tenants/dotkernel/clients/frontend", c.s.Admin, map[string]any{"policy": map[string]any{
		"password_grant": true, "login_group": "users", "refresh_ttl": 1}}, 200)
	// The client cache learns of the change from the change log: wait
	// for a login whose refresh token expires (bounded).
	var short exchange
	for i := 0; i < 20; i++ {
		short = c.want(c.do("", "POST", "/security/generate-token", userLogin), 200)
		rows := c.s.Call(t, "GET", "/v1/tenants/dotkernel/tokens?kind=refresh&active=true&client_id=frontend&limit=100", c.s.Admin, nil, 200)
		if ttlOne(rows) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(1100 * time.Millisecond)
	c.want(c.do("error_refresh_expired", "POST", "/security/refresh-token", refreshBody("frontend", short.str("refresh_token"))), 401)
}

// checkAccounted: the tokens are in the ledger, their audit events name
// the surface, and the metrics count them by surface.
func checkAccounted(t *testing.T, s *apptest.Server) {
	t.Helper()
	rows := s.Call(t, "GET", "/v1/tenants/dotkernel/tokens?kind=access&limit=100", s.Admin, nil, 200)
	if items, _ := rows["items"].([]any); len(items) < 2 {
		t.Errorf("ledger: %v", rows)
	}
	ev := s.Call(t, "GET", "/v1/tenants/dotkernel/audit?limit=100", s.Admin, nil, 200)
	found := false
	for _, it := range ev["items"].([]any) {
		e := it.(map[string]any)
		d, _ := e["detail"].(map[string]any)
		found = found || e["action"] == "token.issue" && d["surface"] == "dotkernel"
	}
	if !found {
		t.Errorf("no token.issue event names the surface: %v", ev)
	}
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if !regexp.MustCompile(`tokend_surface_tokens_issued_total\{kind="access",surface="dotkernel"\} [1-9]`).Match(b.Bytes()) {
		t.Error("metrics do not count the surface's tokens")
	}
}

// ttlOne reports whether the newest of the listed refresh tokens lives
// at most a second.
func ttlOne(list map[string]any) bool {
	items, _ := list["items"].([]any)
	if len(items) == 0 {
		return false
	}
	row, _ := items[len(items)-1].(map[string]any)
	iat, err1 := time.Parse(time.RFC3339Nano, fmtStr(row["issued_at"]))
	exp, err2 := time.Parse(time.RFC3339Nano, fmtStr(row["expires_at"]))
	return err1 == nil && err2 == nil && exp.Sub(iat) <= time.Second
}

func fmtStr(v any) string { s, _ := v.(string); return s }

// checkAccessToken checks the league-shaped access token: header, aud,
// sub, an 80-hex jti, integer times, scopes, and tokend's own claims.
func checkAccessToken(t *testing.T, at, aud, sub string, roles []string) {
	t.Helper()
	parts := strings.Split(at, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", at)
	}
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(h) != `{"typ":"JWT","alg":"RS256"}` {
		t.Errorf("header %s", h)
	}
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"iat", "nbf", "exp"} {
		n, ok := c[k].(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			t.Errorf("%s = %v, want an integer", k, c[k])
		}
	}
	exp, _ := c["exp"].(json.Number).Int64()
	iat, _ := c["iat"].(json.Number).Int64()
	if exp-iat != 86400 {
		t.Errorf("lifetime %d, want 86400", exp-iat)
	}
	if c["aud"] != aud || c["sub"] != sub || c["kind"] != "access" || !strings.HasSuffix(c["iss"].(string), "/t/dotkernel") {
		t.Errorf("claims %v", c)
	}
	if !regexp.MustCompile(`^[0-9a-f]{80}$`).MatchString(c["jti"].(string)) {
		t.Errorf("jti %v", c["jti"])
	}
	if b, _ := json.Marshal(c["scopes"]); string(b) != `["api"]` {
		t.Errorf("scopes %s", b)
	}
	if b, _ := json.Marshal(c["roles"]); string(b) != mustJSON(roles) {
		t.Errorf("roles %s, want %s", b, mustJSON(roles))
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
