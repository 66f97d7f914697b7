package app_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
)

// joseVerifier is panva's jose (npm) verifying tokens against a tenant's
// JWKS, caching it for maxAge (testdata/jose_verify.cjs). It needs
// TOKEND_TEST_JOSE, a directory where jose is installed
// (.ci/install-jose.sh), and node.
type joseVerifier struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func startJose(t *testing.T, jwksURL, issuer, audience string, maxAge time.Duration) *joseVerifier {
	t.Helper()
	dir := os.Getenv("TOKEND_TEST_JOSE")
	if dir == "" {
		t.Skip("TOKEND_TEST_JOSE is not set (the directory .ci/install-jose.sh installs jose into)")
	}
	script, err := filepath.Abs("testdata/jose_verify.cjs")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, jwksURL, issuer, audience, fmt.Sprint(maxAge.Milliseconds()))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return &joseVerifier{in: in, out: bufio.NewScanner(out)}
}

// verify returns "ok KID" or "fail CODE".
func (j *joseVerifier) verify(t *testing.T, tok string) string {
	t.Helper()
	if _, err := io.WriteString(j.in, tok+"\n"); err != nil {
		t.Fatal(err)
	}
	if !j.out.Scan() {
		t.Fatalf("jose verifier ended: %v", j.out.Err())
	}
	return j.out.Text()
}

// TestStagedKeyRotation: through a staged key rotation, verifiers that
// cache the JWKS for its max-age and never refetch it for an unknown kid
// (jose, configured so) and go-oidc keep accepting every fresh token,
// before, at and after the moment the new key starts signing; an
// emergency rotation, by contrast, makes the cached JWKS miss the new key
// at once. On SQLite and PostgreSQL.
func TestStagedKeyRotation(t *testing.T) {
	t.Parallel()
	const maxAge, stage = 2 * time.Second, 4 * time.Second
	eachBackend(t, func(t *testing.T, b backend) {
		as := apptest.StartWith(t, b.url(t), apptest.Options{Config: func(c *config.Config) {
			c.JWKSMaxAge, c.KeyRotationStage = maxAge, stage
		}})
		s := &server{URL: as.URL, Admin: as.Admin, App: as.App, Cfg: as.Cfg}
		ctx := context.Background()
		want(t, s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "rot"}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/rot/clients", s.Admin, map[string]any{"id": "ops", "audiences": []string{"api"}}), 201)
		mint := func() string {
			return want(t, s.call(t, "POST", "/v1/tenants/rot/tokens", s.Admin, map[string]any{"client_id": "ops"}), 201).str("access_token")
		}
		if r := s.call(t, "GET", "/t/rot/jwks.json", "", nil); r.Header.Get("Cache-Control") != "public, max-age=2" {
			t.Fatalf("JWKS Cache-Control %q", r.Header.Get("Cache-Control"))
		}
		issuer := s.URL + "/t/rot"
		prov, err := oidc.NewProvider(ctx, issuer)
		if err != nil {
			t.Fatal(err)
		}
		goOIDC := prov.VerifierContext(ctx, &oidc.Config{ClientID: "api", SupportedSigningAlgs: []string{"ES256"}})
		jose := startJose(t, issuer+"/jwks.json", issuer, "api", maxAge)
		check := func(tok string) (string, error) {
			t.Helper()
			if _, err := goOIDC.Verify(ctx, tok); err != nil {
				return "", fmt.Errorf("go-oidc: %w", err)
			}
			if got := jose.verify(t, tok); !strings.HasPrefix(got, "ok ") {
				return "", fmt.Errorf("jose: %s", got)
			}
			return header(t, tok)["kid"].(string), nil
		}
		first, err := check(mint())
		if err != nil {
			t.Fatal(err)
		}

		k := want(t, s.call(t, "POST", "/v1/tenants/rot/keys/rotate", s.Admin, nil), 201)
		if k.str("state") != "next" || k.str("activate_at") == "" {
			t.Fatalf("staged rotation: %s", k.Raw)
		}
		at, err := time.Parse(time.RFC3339Nano, k.str("activate_at"))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(at); d < stage-time.Second || d > stage {
			t.Fatalf("activate_at is %s away, want about %s", d, stage)
		}
		seen := map[string]int{}
		for end := at.Add(maxAge + 500*time.Millisecond); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			kid, err := check(mint())
			if err != nil {
				t.Fatalf("%s before the switch: %v", time.Until(at).Round(time.Millisecond), err)
			}
			seen[kid]++
		}
		if seen[first] == 0 || seen[k.str("kid")] == 0 || len(seen) != 2 {
			t.Fatalf("signing keys seen %v; want the first (%s) then the new one (%s)", seen, first, k.str("kid"))
		}

		// An emergency rotation: the cached JWKS lacks the new key.
		if _, err := check(mint()); err != nil {
			t.Fatal(err)
		}
		now := want(t, s.call(t, "POST", "/v1/tenants/rot/keys/rotate", s.Admin, map[string]any{"now": true}), 201)
		if now.str("state") != "active" {
			t.Fatalf("emergency rotation: %s", now.Raw)
		}
		tok := mint()
		if got := jose.verify(t, tok); got != "fail ERR_JWKS_NO_MATCHING_KEY" {
			t.Errorf("jose with a cached JWKS after an emergency rotation: %q", got)
		}
		// go-oidc fetches the JWKS again for an unknown kid.
		if _, err := goOIDC.Verify(ctx, tok); err != nil {
			t.Errorf("go-oidc after an emergency rotation: %v", err)
		}
	})
}

// TestScheduledKeyRotation: a tenant's key_rotation_period stages a
// rotation once the signing key has signed for the period less the
// stage; a pending rotation is not staged twice; the setting is checked.
func TestScheduledKeyRotation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		ctx := context.Background()
		for bad, status := range map[any]int{60: 422, -1: 422, "day": 400} {
			if r := s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "sched", "policy": map[string]any{"key_rotation_period": bad}}); r.Status != status ||
				!strings.Contains(string(r.Raw), "key_rotation_period") {
				t.Errorf("key_rotation_period %v: %d %s", bad, r.Status, r.Raw)
			}
		}
		want(t, s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "sched", "policy": map[string]any{"key_rotation_period": 86400}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "manual"}), 201)
		if r := s.call(t, "POST", "/v1/tenants/sched/clients", s.Admin, map[string]any{"id": "c", "policy": map[string]any{"key_rotation_period": 86400}}); r.Status != 422 || r.str("field") != "policy.key_rotation_period" {
			t.Errorf("client key_rotation_period: %d %s", r.Status, r.Raw)
		}
		keys := func(ten string) []map[string]any {
			return want(t, s.call(t, "GET", "/v1/tenants/"+ten+"/keys", s.Admin, nil), 200).items()
		}
		if l := keys("sched"); len(l) != 1 || l[0]["state"] != "active" {
			t.Fatalf("keys of a new tenant: %v", l)
		}
		// Not yet: the key has signed for less than a day minus the stage.
		if got, err := s.App.RotateKeys(ctx, time.Now().Add(23*time.Hour)); err != nil || contains(got, "sched") {
			t.Fatalf("RotateKeys a day early = %v, %v", got, err)
		}
		got, err := s.App.RotateKeys(ctx, time.Now().Add(24*time.Hour-s.Cfg.KeyRotationStage))
		if err != nil || !contains(got, "sched") || contains(got, "manual") {
			t.Fatalf("RotateKeys when due = %v, %v", got, err)
		}
		l := keys("sched")
		if len(l) != 2 || l[0]["state"] != "next" || l[0]["activate_at"] == nil {
			t.Fatalf("keys after the scheduled rotation: %v", l)
		}
		if got, _ := s.App.RotateKeys(ctx, time.Now().Add(48*time.Hour)); contains(got, "sched") {
			t.Fatal("a pending rotation was staged again")
		}
		ev := want(t, s.call(t, "GET", "/v1/tenants/sched/audit?action=key.rotate", s.Admin, nil), 200).items()
		if len(ev) != 1 || ev[0]["actor"] != "system" {
			t.Errorf("audit of the scheduled rotation: %v", ev)
		}
	})
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// header decodes a JWT's header.
func header(t *testing.T, jwt string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
