package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

type devCreds struct {
	AdminToken string `json:"admin_token"`
	Endpoint   string `json:"endpoint"`
	Tenant     string `json:"tenant"`
	Issuer     string `json:"issuer"`
	Clients    []struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	} `json:"clients"`
	Users []struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"users"`
	Devices []struct {
		DeviceID     string `json:"device_id"`
		DeviceSecret string `json:"device_secret"`
	} `json:"devices"`
}

func readCreds(t *testing.T, data string) devCreds {
	t.Helper()
	path := filepath.Join(data, "dev-credentials.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev-credentials.json mode %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	var c devCreds
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDevMode starts `tokend serve --dev` on an empty data directory, uses
// the credentials it wrote, verifies a token with go-oidc through discovery
// alone, restarts on the same data and stops with SIGTERM.
func TestDevMode(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	start := time.Now()
	p := serve(t, data, nil, "--dev")
	t.Logf("dev start to ready (empty data dir, incl. fixtures, -race build): %v", time.Since(start))

	c := readCreds(t, data)
	if c.AdminToken == "" || c.Tenant != "demo" || len(c.Clients) < 3 || len(c.Users) < 3 || len(c.Devices) < 2 {
		t.Fatalf("credentials: %+v", c)
	}
	for _, cl := range c.Clients {
		if cl.ClientID == "" || !strings.HasPrefix(cl.ClientSecret, "tkd_cs_") {
			t.Fatalf("client %+v", cl)
		}
	}
	for _, u := range c.Users {
		if u.Username == "" || len(u.Password) < 8 {
			t.Fatalf("user %+v", u)
		}
	}
	for _, d := range c.Devices {
		if d.DeviceID == "" || !strings.HasPrefix(d.DeviceSecret, "tkd_ds_") {
			t.Fatalf("device %+v", d)
		}
	}
	if out := p.OutputWith("curl", c.AdminToken); !strings.Contains(out, "curl") || !strings.Contains(out, c.AdminToken) {
		t.Fatalf("banner lacks the first-token command:\n%s", out)
	}
	for _, secret := range []string{c.Clients[0].ClientSecret, c.Users[0].Password, c.Devices[0].DeviceSecret} {
		if strings.Contains(p.Output(), secret) {
			t.Fatal("a secret was printed or logged")
		}
	}

	st, who := api(t, "GET", p.URL+"/v1/whoami", c.AdminToken, nil)
	if st != 200 || who["system_admin"] != true {
		t.Fatalf("whoami %d %v", st, who)
	}
	// the banner's command: mint a token for the service client
	st, tok := api(t, "POST", p.URL+"/v1/tenants/demo/tokens", c.AdminToken, map[string]any{"client_id": "demo-service", "scope": "read", "audience": "api"})
	if st != 201 {
		t.Fatalf("mint %d %v", st, tok)
	}
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, c.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	v := prov.VerifierContext(ctx, &oidc.Config{ClientID: "api", SupportedSigningAlgs: []string{"ES256"}})
	idt, err := v.Verify(ctx, tok["access_token"].(string))
	if err != nil {
		t.Fatalf("go-oidc rejected a tokend token: %v", err)
	}
	if idt.Subject != "demo-service" || idt.Issuer != c.Issuer {
		t.Fatalf("verified claims %+v", idt)
	}

	if err := p.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Output())
	}
	if len(lines(p.Output(), "shutting down")) == 0 {
		t.Fatalf("no graceful shutdown log:\n%s", p.Output())
	}

	// a restart on the same data keeps the credentials
	p2 := serve(t, data, nil, "--dev")
	if c2 := readCreds(t, data); c2.AdminToken != c.AdminToken {
		t.Fatal("restart replaced the dev credentials")
	}
	if st, _ := api(t, "GET", p2.URL+"/v1/tenants/demo/clients", c.AdminToken, nil); st != 200 {
		t.Fatalf("after restart: %d", st)
	}
}

func TestDevRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	_, stderr, code := run(t, nil, "", "serve", "--dev", "--addr", "0.0.0.0:0", "--data", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "loopback") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestBootstrapOnce(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	out, stderr, code := run(t, nil, "", "bootstrap", "--data", data)
	if code != 0 || !strings.Contains(out, "tkd_adm_") {
		t.Fatalf("bootstrap: %d %s %s", code, out, stderr)
	}
	fi, err := os.Stat(filepath.Join(data, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key file: %v %v", fi, err)
	}
	_, stderr, code = run(t, nil, "", "bootstrap", "--data", data)
	if code != 2 || !strings.Contains(stderr, "already bootstrapped") {
		t.Fatalf("second bootstrap: %d %s", code, stderr)
	}
	var token string
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "tkd_adm_") {
			token = f
		}
	}
	p := serve(t, data, nil)
	if st, m := api(t, "GET", p.URL+"/v1/whoami", token, nil); st != 200 || m["system_admin"] != true {
		t.Fatalf("bootstrap token: %d %v", st, m)
	}
}
