package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIAgainstServer drives the admin commands of the built binary
// against a real server, as the README shows them.
func TestCLIAgainstServer(t *testing.T) {
	t.Parallel()
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
	if out := ok("", "tenants", "list"); !strings.Contains(out, "demo") || !strings.Contains(out, "system") {
		t.Fatalf("tenants list:\n%s", out)
	}
	ok("", "tenants", "create", "acme", "--display-name", "Acme", "--policy", `{"signing_alg":"EdDSA"}`)
	out := ok("", "clients", "create", "billing", "--tenant", "acme", "--scopes", "read,tokend:admin", "--audiences", "api")
	if !strings.Contains(out, "tkd_cs_") {
		t.Fatalf("clients create did not show the secret:\n%s", out)
	}
	const pw = "a long passphrase"
	out = ok(pw+"\n", "users", "create", "--tenant", "acme", "--login", "Dave@Example.com", "--password-stdin", "-o", "json")
	if strings.Contains(out, pw) {
		t.Fatal("the password was echoed")
	}
	var u map[string]any
	if err := json.Unmarshal([]byte(out), &u); err != nil || u["login"] != "dave@example.com" || u["has_password"] != true {
		t.Fatalf("users create -o json: %v %s", err, out)
	}
	out = ok("", "tokens", "create", "--tenant", "acme", "--client-id", "billing", "--scope", "read")
	if !strings.Contains(out, "eyJ") {
		t.Fatalf("tokens create:\n%s", out)
	}
	if out := ok("", "keys", "rotate", "--tenant", "acme", "--alg", "ES256", "--now"); !strings.Contains(out, "ES256") {
		t.Fatalf("keys rotate:\n%s", out)
	}
	if out := ok("", "keys", "list", "--tenant", "acme"); strings.Count(out, "\n") < 3 || !strings.Contains(out, "retired") {
		t.Fatalf("keys list:\n%s", out)
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(ok("", "tokens", "list", "--tenant", "acme", "--active", "-o", "json")), &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("tokens list: %v %+v", err, list)
	}
	id := list.Items[0]["id"].(string)
	if out := ok("", "tokens", "inspect", id, "--tenant", "acme"); !strings.Contains(out, "billing") {
		t.Fatalf("tokens inspect:\n%s", out)
	}
	ok("", "tokens", "revoke", id, "--tenant", "acme")
	if err := json.Unmarshal([]byte(ok("", "tokens", "list", "--tenant", "acme", "--active", "-o", "json")), &list); err != nil || len(list.Items) != 0 {
		t.Fatalf("revoked token still active: %v %+v", err, list)
	}
	if out := ok("", "audit", "verify", "--tenant", "acme"); !strings.Contains(out, "intact") {
		t.Fatalf("audit verify:\n%s", out)
	}
	if out := ok("", "audit", "list", "--tenant", "acme", "--action", "user.create"); !strings.Contains(out, "user.create") {
		t.Fatalf("audit list:\n%s", out)
	}

	// Tokens for a device and of another kind; a signing secret.
	if out := ok("", "devices", "token", "kiosk-1", "-t", "demo", "--expires-in", "600", "--lifetime", "3600"); !strings.Contains(out, "eyJ") || !strings.Contains(out, "lifetime_end") {
		t.Fatalf("devices token:\n%s", out)
	}
	if out := ok("", "clients", "token", "demo-service", "-t", "demo", "--kind", "private", "--expires-at", "+1h"); !strings.Contains(out, "private") || !strings.Contains(out, "eyJ") {
		t.Fatalf("clients token:\n%s", out)
	}
	if out := ok("", "devices", "signing-secret", "kiosk-1", "-t", "demo"); !strings.Contains(out, "tkd_ss_") {
		t.Fatalf("devices signing-secret:\n%s", out)
	}

	// Errors: API errors keep their status and text; exit code is not 0.
	_, errOut, code := run(t, env, "", "tenants", "create", "acme")
	if code == 0 || !strings.Contains(errOut, "409") {
		t.Fatalf("duplicate tenant: exit %d, %s", code, errOut)
	}
	_, errOut, code = run(t, []string{"TOKEND_ENDPOINT=" + p.URL, "TOKEND_TOKEN=tkd_adm_bogus"}, "", "tenants", "list")
	if code == 0 || !strings.Contains(errOut, "401") {
		t.Fatalf("bad token: exit %d, %s", code, errOut)
	}
	if out, _, code := run(t, nil, "", "--help"); code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "tenants") {
		t.Fatalf("--help: %d\n%s", code, out)
	}

	// Nothing secret is stored in the clear: not the client secret, the
	// password, the admin token, nor any dev credential.
	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}
	secrets := []string{pw, c.AdminToken}
	for _, cl := range c.Clients {
		secrets = append(secrets, cl.ClientSecret)
	}
	for _, u := range c.Users {
		secrets = append(secrets, u.Password)
	}
	for _, d := range c.Devices {
		secrets = append(secrets, d.DeviceSecret)
	}
	files, _ := filepath.Glob(filepath.Join(data, "tokend.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Fatalf("%s holds a secret in the clear", filepath.Base(f))
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(p.Output(), s) && s != c.AdminToken { // the dev banner prints the admin token on purpose
			t.Fatal("a secret reached the server log")
		}
	}
	fi, err := os.Stat(filepath.Join(data, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key: %v %v", fi.Mode(), err)
	}
}
