package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// rplHTTP is the client the replica and durability tests use; unlike api it
// returns errors, so it is safe from goroutines other than the test's.
var rplHTTP = &http.Client{Timeout: 10 * time.Second}

// rplDo sends a request and returns the status, the raw body and the body
// decoded as a JSON object (nil when it is not one).
func rplDo(req *http.Request) (int, []byte, map[string]any, error) {
	resp, err := rplHTTP.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, nil, err
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, b, m, nil
}

// rplForm POSTs a form with HTTP Basic client authentication.
func rplForm(u, clientID, secret string, form url.Values) (int, []byte, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	return rplDo(req)
}

// rplJSON calls the admin API with a bearer token.
func rplJSON(method, u, token string, body any) (int, []byte, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return rplDo(req)
}

// rplClient is a confidential client of one tenant on one server.
type rplClient struct {
	base, tenant, id, secret string
}

func (c rplClient) at(base string) rplClient { c.base = base; return c }

func (c rplClient) endpoint(name string) string {
	return c.base + "/t/" + c.tenant + "/oauth2/" + name
}

// issue runs the client_credentials grant and returns the access token.
func (c rplClient) issue() (string, error) {
	return c.token(url.Values{"grant_type": {"client_credentials"}}, "access_token")
}

// token posts form to the token endpoint and returns the field (a token)
// of its 200 answer.
func (c rplClient) token(form url.Values, field string) (string, error) {
	st, raw, m, err := rplForm(c.endpoint("token"), c.id, c.secret, form)
	if err != nil {
		return "", err
	}
	tok, _ := m[field].(string)
	if st != http.StatusOK || tok == "" {
		return "", fmt.Errorf("token endpoint: %d %s", st, raw)
	}
	return tok, nil
}

// introspect returns whether the server calls tok active; an inactive
// answer must be exactly {"active":false}.
func (c rplClient) introspect(tok string) (bool, map[string]any, error) {
	st, raw, m, err := rplForm(c.endpoint("introspect"), c.id, c.secret, url.Values{"token": {tok}})
	if err != nil {
		return false, nil, err
	}
	if st != http.StatusOK || m == nil {
		return false, m, fmt.Errorf("introspect: %d %s", st, raw)
	}
	switch m["active"] {
	case true:
		return true, m, nil
	case false:
		if got := strings.TrimSpace(string(raw)); got != `{"active":false}` {
			return false, m, fmt.Errorf("inactive introspection answer is not exactly {\"active\":false}: %s", got)
		}
		return false, m, nil
	}
	return false, m, fmt.Errorf("introspect: no boolean active: %s", raw)
}

// revoke calls the RFC 7009 endpoint.
func (c rplClient) revoke(tok string) error {
	st, raw, _, err := rplForm(c.endpoint("revoke"), c.id, c.secret, url.Values{"token": {tok}})
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("revoke: %d %s", st, raw)
	}
	return nil
}

// jwtID decodes the jti claim of a JWT without verifying it.
func jwtID(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a JWT: %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("JWT payload: %v", err)
	}
	var c struct {
		ID string `json:"jti"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return "", fmt.Errorf("JWT payload without jti: %s", b)
	}
	return c.ID, nil
}

// pgReplicaEnv creates a fresh database and returns the environment every
// process on it needs (database URL and a shared master key).
func pgReplicaEnv(t *testing.T) []string {
	t.Helper()
	db := pgtest.NewDatabase(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return []string{"TOKEND_DATABASE_URL=" + db, "TOKEND_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
}

// pgBootstrap runs `tokend bootstrap` and returns the admin token it prints.
func pgBootstrap(t *testing.T, env []string) string {
	t.Helper()
	return bootstrapAt(t, env, t.TempDir())
}

// bootstrapAt runs `tokend bootstrap --data data` and returns the admin
// token it prints.
func bootstrapAt(t *testing.T, env []string, data string) string {
	t.Helper()
	out, errs, code := run(t, env, "", "bootstrap", "--data", data)
	if code != 0 {
		t.Fatalf("bootstrap: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, l := range lines(out, "admin token:") {
		if f := strings.Fields(l); len(f) == 3 && strings.HasPrefix(f[2], "tkd_adm_") {
			return f[2]
		}
	}
	t.Fatalf("bootstrap printed no admin token:\n%s", out)
	return ""
}

// createTenantClient creates tenant and a client_credentials client svc
// through the admin API of base.
func createTenantClient(t *testing.T, base, admin, tenant string) rplClient {
	t.Helper()
	st, raw, _, err := rplJSON("POST", base+"/v1/tenants", admin, map[string]any{"id": tenant})
	if err != nil || st != http.StatusCreated {
		t.Fatalf("create tenant %s: %d %v %s", tenant, st, err, raw)
	}
	st, raw, m, err := rplJSON("POST", base+"/v1/tenants/"+tenant+"/clients", admin, map[string]any{
		"id": "svc", "grant_types": []string{"client_credentials"}, "scopes": []string{"read"},
	})
	sec, _ := m["client_secret"].(string)
	if err != nil || st != http.StatusCreated || sec == "" {
		t.Fatalf("create client: %d %v %s", st, err, raw)
	}
	return rplClient{base: base, tenant: tenant, id: "svc", secret: sec}
}

// waitInactive polls introspection on c every 5 ms until tok is inactive
// and returns the time from since to the first inactive answer. It gives up
// after limit.
func waitInactive(c rplClient, tok string, since time.Time, limit time.Duration) (time.Duration, error) {
	deadline := since.Add(limit)
	for {
		active, _, err := c.introspect(tok)
		if err != nil {
			return 0, err
		}
		if !active {
			return time.Since(since), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("still active %v after the revocation was acknowledged", time.Since(since))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// twoReplicas starts two bootstrapped servers on one fresh PostgreSQL
// database (skipping the test without one) and returns them, the admin
// token and the environment of processes on that database.
func twoReplicas(t *testing.T) (a, b *proc, admin string, env []string) {
	t.Helper()
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Skip(pgtest.EnvURL + " is not set: PostgreSQL tests need a server (.ci/run sets it)")
	}
	t.Parallel()
	env = pgReplicaEnv(t)
	admin = pgBootstrap(t, env)
	// Replicas behind one address share their public URL, hence the
	// issuer of their tokens; none is ever reached at it here.
	pub := "http://" + freeAddr(t)
	return serve(t, t.TempDir(), env, "--public-url", pub), serve(t, t.TempDir(), env, "--public-url", pub), admin, env
}

// TestTwoReplicasRevocation runs two servers on one PostgreSQL database and
// measures how long a revocation acknowledged by one takes to be seen by
// the other's introspection endpoint.
func TestTwoReplicasRevocation(t *testing.T) {
	a, b, admin, _ := twoReplicas(t)

	onA := createTenantClient(t, a.URL, admin, "acme")
	onB := onA.at(b.URL)

	tok, err := onA.issue()
	if err != nil {
		t.Fatalf("issue on A: %v", err)
	}
	if active, m, err := onB.introspect(tok); err != nil || !active {
		t.Fatalf("token issued on A: introspection on B: active=%v %v %v", active, m, err)
	}

	const rounds = 20
	const limit = time.Second
	var delays []time.Duration
	for i := range rounds {
		tok, err := onA.issue()
		if err != nil {
			t.Fatalf("round %d: issue on A: %v", i, err)
		}
		active, m, err := onB.introspect(tok)
		if err != nil || !active {
			t.Fatalf("round %d: introspection on B before revocation: active=%v %v %v", i, active, m, err)
		}
		jti, _ := m["jti"].(string)
		how := "RFC 7009 revoke"
		if i%2 == 0 {
			err = onA.revoke(tok)
		} else {
			how = "admin token revoke"
			var st int
			var raw []byte
			st, raw, _, err = rplJSON("POST", a.URL+"/v1/tenants/acme/tokens/"+url.PathEscape(jti)+"/revoke", admin, nil)
			if err == nil && st != http.StatusOK {
				err = fmt.Errorf("%d %s", st, raw)
			}
		}
		if err != nil {
			t.Fatalf("round %d: %s on A: %v", i, how, err)
		}
		acked := time.Now()
		d, err := waitInactive(onB, tok, acked, 5*time.Second)
		if err != nil {
			t.Fatalf("round %d (%s on A, jti %s): introspection on B: %v", i, how, jti, err)
		}
		if d > limit {
			t.Errorf("round %d (%s on A, jti %s): B saw the revocation after %v, more than %v", i, how, jti, d, limit)
		}
		delays = append(delays, d)
	}
	slices.Sort(delays)
	t.Logf("revocation on A seen by introspection on B over %d rounds: median %v, max %v (min %v)",
		len(delays), delays[len(delays)/2], delays[len(delays)-1], delays[0])

	// a cutoff for subject svc made on B must reach A
	tok, err = onA.issue()
	if err != nil {
		t.Fatalf("cutoff round: issue on A: %v", err)
	}
	if active, m, err := onA.introspect(tok); err != nil || !active {
		t.Fatalf("cutoff round: introspection on A before the cutoff: active=%v %v %v", active, m, err)
	}
	st, raw, _, err := rplJSON("POST", b.URL+"/v1/tenants/acme/revocations", admin, map[string]any{"scope": "subject", "subject_type": "client", "key": "svc"})
	if err != nil || st != http.StatusCreated {
		t.Fatalf("cutoff on B: %d %v %s", st, err, raw)
	}
	acked := time.Now()
	d, err := waitInactive(onA, tok, acked, 5*time.Second)
	if err != nil {
		t.Fatalf("cutoff (subject svc) on B: introspection on A: %v", err)
	}
	if d > limit {
		t.Errorf("cutoff (subject svc) on B seen by A after %v, more than %v", d, limit)
	}
	t.Logf("cutoff on B seen by introspection on A after %v", d)
}
