package app_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestTokenExchangeOpenIDClient: panva's openid-client (npm), an ordinary
// OAuth 2.0 / OIDC client library with a token-exchange grant, discovers
// the tenant and exchanges an ID token of the real provider, unchanged;
// a foreign token comes back as the library's OAuth error. It needs
// TOKEND_TEST_OPENID_CLIENT, a directory where openid-client is
// installed (.ci/install-openid-client.sh), and node.
func TestTokenExchangeOpenIDClient(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("TOKEND_TEST_OPENID_CLIENT")
	if dir == "" {
		t.Skip("TOKEND_TEST_OPENID_CLIENT is not set (the directory .ci/install-openid-client.sh installs openid-client into)")
	}
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, nil)
		id, _ := e.op.IDToken(t)
		// The script runs inside dir, so that node resolves the package
		// there (ES modules ignore NODE_PATH).
		script, err := os.ReadFile("testdata/openid_client_exchange.mjs")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "exchange-"+b.name+".mjs")
		if err := os.WriteFile(path, script, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(path) })
		run := func(subject, scope string) map[string]any {
			t.Helper()
			cmd := exec.Command("node", path, e.s.URL+"/t/"+e.ten, "x", e.secret, subject, typeID, scope)
			cmd.Dir = dir
			cmd.Stderr = os.Stderr
			timer := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
			defer timer.Stop()
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("openid-client: %v", err)
			}
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("openid-client printed %q", out)
			}
			return m
		}
		got := run(id, "read")
		if got["issued_token_type"] != typeAccess || got["token_type"] != "bearer" && got["token_type"] != "Bearer" || got["access_token"] == nil {
			t.Fatalf("openid-client exchange: %v", got)
		}
		c := payload(t, got["access_token"].(string))
		if c["idp"] != e.op.Issuer || c["scope"] != "read" || c["client_id"] != "x" {
			t.Fatalf("claims %v", c)
		}
		// A token tokend does not trust: the library surfaces invalid_grant.
		if got := run(unsigned("https://elsewhere.example/", map[string]any{"sub": "id1", "aud": "web", "exp": time.Now().Add(time.Minute).Unix()}), ""); got["error"] != "invalid_grant" {
			t.Fatalf("foreign token through openid-client: %v", got)
		}
	})
}
