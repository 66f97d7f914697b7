package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/secrets/vaulttest"
)

// TestVaultServe runs the built binary as docs/vault.md shows it:
// `tokend serve --vault-addr … --vault-role-id-file … --vault-secret-id-file …`
// against a real Vault dev server, a client created with the CLI's
// --secret-ref, and client_credentials with the secret kept in Vault. A
// Vault address without credentials is refused at start.
func TestVaultServe(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t)
	v.EnableKV(t, "kv")
	v.ReadPolicy(t, "tokend-read", "kv")
	roleID, secretID := v.AppRole(t, "tokend", "1h", "24h", "tokend-read")
	noEnv := []string{"VAULT_TOKEN=", "VAULT_ROLE_ID=", "VAULT_SECRET_ID="}

	out, errOut, code := run(t, noEnv, "", "serve", "--addr", freeAddr(t), "--data", t.TempDir(), "--vault-addr", v.Addr)
	if code == 0 || !strings.Contains(out+errOut, "Vault needs credentials") {
		t.Fatalf("serve with --vault-addr alone: exit %d\n%s%s", code, out, errOut)
	}

	data := t.TempDir()
	p := serve(t, data, noEnv, "--dev", "--vault-addr", v.Addr,
		"--vault-role-id-file", vaulttest.WriteFile(t, "role-id", roleID),
		"--vault-secret-id-file", vaulttest.WriteFile(t, "secret-id", secretID))
	if out := p.OutputWith("logged in with AppRole"); !strings.Contains(out, "logged in with AppRole") {
		t.Fatalf("no AppRole login in the log:\n%s", out)
	}
	c := readCreds(t, data)
	env := []string{"TOKEND_ENDPOINT=" + p.URL, "TOKEND_TOKEN=" + c.AdminToken}
	out, errOut, code = run(t, env, "", "clients", "create", "billing", "-t", "demo", "--scopes", "read", "--secret-ref",
		`{"backend":"vault","mount":"kv","path":"secret/{tenant}/{project}/{client}","field":"secret_id","project":"api"}`)
	if code != 0 || !strings.Contains(out, `"mount":"kv"`) || strings.Contains(out, "client_secret") {
		t.Fatalf("clients create --secret-ref: exit %d\n%s%s", code, out, errOut)
	}
	const secret = "s3cr3t-from-vault"
	v.Put(t, "kv", "secret/demo/api/billing", map[string]any{"secret_id": secret})
	token := func(secret string) int {
		req, _ := http.NewRequest("POST", p.URL+"/t/demo/oauth2/token",
			strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("billing", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := token(secret); s != 200 {
		t.Fatalf("client_credentials with the Vault secret: %d", s)
	}
	if s := token("wrong"); s != 401 {
		t.Fatalf("a wrong secret: %d", s)
	}
	if strings.Contains(p.Output(), secret) || strings.Contains(p.Output(), secretID) {
		t.Fatal("a secret is in tokend's output")
	}
}
