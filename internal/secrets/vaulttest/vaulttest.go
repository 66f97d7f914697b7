// Package vaulttest starts a real HashiCorp Vault dev server for tests:
// the binary named by TOKEND_TEST_VAULT, on a free loopback port, with a
// random root token and its own temporary HOME, stopped by PID when the
// test ends. Tests skip only when TOKEND_TEST_VAULT is unset. It is
// imported only from _test.go files.
package vaulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// EnvBinary names the environment variable holding the path of the vault
// binary (.ci/build-vault.sh builds it).
const EnvBinary = "TOKEND_TEST_VAULT"

// Server is a running Vault dev server.
type Server struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	// Root is a client logged in with the root token.
	Root *api.Client

	cmd      *exec.Cmd
	logPath  string
	stopOnce sync.Once
	approle  sync.Once
}

// Start starts a Vault dev server, or skips the test when TOKEND_TEST_VAULT
// is unset.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" {
		t.Skip(EnvBinary + " is not set; Vault tests need a vault binary (.ci/build-vault.sh builds one)")
	}
	dir := t.TempDir()
	root := random()
	var last error
	for range 3 { // a free port may be taken between the probe and the start
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{Addr: "http://127.0.0.1:" + strconv.Itoa(port), RootToken: root,
			logPath: filepath.Join(dir, "vault-"+strconv.Itoa(port)+".log")}
		if last = s.start(bin, dir, port); last == nil {
			t.Cleanup(s.Stop)
			if err := s.client(); err != nil {
				t.Fatal(err)
			}
			return s
		}
		s.Stop()
	}
	t.Fatalf("vault dev server did not start: %v", last)
	return nil
}

func (s *Server) start(bin, home string, port int) error {
	logf, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command(bin, "server", "-dev",
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(port), "-dev-root-token-id="+s.RootToken, "-dev-no-store-token")
	s.cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "VAULT_LOG_LEVEL=warn"}
	s.cmd.Dir = home
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(s.logPath)
			s.cmd = nil
			return fmt.Errorf("vault exited: %v\n%s", err, b)
		default:
		}
		resp, err := hc.Get(s.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("vault at %s not healthy within 60s", s.Addr)
}

func (s *Server) client() error {
	cfg := api.DefaultConfig()
	cfg.Address = s.Addr
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		return err
	}
	c.SetToken(s.RootToken)
	c.ClearNamespace()
	s.Root = c
	return nil
}

// Stop kills the server by its PID; Vault is unreachable after.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Kill()
		// The reaper goroutine of start waits for it; make sure the port is
		// closed before returning.
		for range 50 {
			c, err := net.DialTimeout("tcp", s.Addr[len("http://"):], 100*time.Millisecond)
			if err != nil {
				return
			}
			c.Close()
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Seal seals the server: it answers 503 until unsealed.
func (s *Server) Seal(t testing.TB) {
	t.Helper()
	if err := s.Root.Sys().Seal(); err != nil {
		t.Fatal(err)
	}
}

// EnableKV mounts a KV version 2 engine at mount.
func (s *Server) EnableKV(t testing.TB, mount string) {
	t.Helper()
	err := s.Root.Sys().Mount(mount, &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	// A new KV v2 mount upgrades itself first; wait until it reads.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := s.Root.Logical().Read(mount + "/config"); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("kv mount %s not ready", mount)
}

// Put writes data at path on the KV v2 mount and returns its version.
func (s *Server) Put(t testing.TB, mount, path string, data map[string]any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := s.Root.KVv2(mount).Put(ctx, path, data)
	if err != nil {
		t.Fatalf("put %s/%s: %v", mount, path, err)
	}
	return kv.VersionMetadata.Version
}

// ReadPolicy writes a policy named name that may read every secret of the
// KV v2 mounts given.
func (s *Server) ReadPolicy(t testing.TB, name string, mounts ...string) {
	t.Helper()
	var hcl string
	for _, m := range mounts {
		hcl += fmt.Sprintf("path %q {\n  capabilities = [\"read\"]\n}\n", m+"/data/*")
	}
	if err := s.Root.Sys().PutPolicy(name, hcl); err != nil {
		t.Fatal(err)
	}
}

// AppRole enables AppRole (once) and creates role with policies and the
// given token TTLs ("" for Vault's defaults); it returns the role's
// role_id and a new secret_id.
func (s *Server) AppRole(t testing.TB, role, ttl, maxTTL string, policies ...string) (roleID, secretID string) {
	t.Helper()
	var err error
	s.approle.Do(func() { err = s.Root.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}) })
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"token_policies": policies}
	if ttl != "" {
		params["token_ttl"] = ttl
	}
	if maxTTL != "" {
		params["token_max_ttl"] = maxTTL
	}
	if _, err := s.Root.Logical().Write("auth/approle/role/"+role, params); err != nil {
		t.Fatal(err)
	}
	r, err := s.Root.Logical().Read("auth/approle/role/" + role + "/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := s.Root.Logical().Write("auth/approle/role/"+role+"/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Data["role_id"].(string), sid.Data["secret_id"].(string)
}

// Token creates a renewable token with policies and ttl.
func (s *Server) Token(t testing.TB, ttl string, policies ...string) string {
	t.Helper()
	tok, err := s.Root.Auth().Token().Create(&api.TokenCreateRequest{Policies: policies, TTL: ttl, NoParent: true})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Auth.ClientToken
}

// WriteFile writes v to a new file in t's temporary directory, mode 0600,
// and returns its path.
func WriteFile(t testing.TB, name, v string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
