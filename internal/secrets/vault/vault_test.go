package vault_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/secrets/secretstest"
	"github.com/tokend/tokend/internal/secrets/vault"
	"github.com/tokend/tokend/internal/secrets/vaulttest"
)

// seed002 is seed 002's layout: secret/{tenant}/{project}/{client}, field
// secret_id, on the KV v2 mount kv.
var seed002 = secrets.Ref{Backend: secrets.BackendVault, Mount: "kv", Path: "secret/{tenant}/{project}/{client}",
	Field: "secret_id", Project: "api"}

func newResolver(t *testing.T, o vault.Options) *vault.Resolver {
	t.Helper()
	r, err := vault.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// backend is the vault backend reading with creds from v.
func backend(v *vaulttest.Server, r *vault.Resolver) secretstest.Backend {
	return secretstest.Backend{
		Resolver: r, Ref: seed002, Versioned: true,
		Put: func(t *testing.T, tenant, client, value string) int {
			return v.Put(t, "kv", "secret/"+tenant+"/api/"+client, map[string]any{"secret_id": value})
		},
		Stop: func(*testing.T) { v.Stop() },
	}
}

// TestConformanceAppRole runs the suite against a real Vault dev server,
// tokend logged in with AppRole (role_id and secret_id from files).
func TestConformanceAppRole(t *testing.T) {
	v := vaulttest.Start(t)
	v.EnableKV(t, "kv")
	v.ReadPolicy(t, "tokend-read", "kv")
	roleID, secretID := v.AppRole(t, "tokend", "", "", "tokend-read")
	r := newResolver(t, vault.Options{Addr: v.Addr, RoleIDFile: vaulttest.WriteFile(t, "role-id", roleID),
		SecretIDFile: vaulttest.WriteFile(t, "secret-id", secretID), Timeout: 2 * time.Second})
	secretstest.Run(t, backend(v, r))
}

// TestConformanceToken runs the suite with a token (not the root token:
// one limited to reading the kv mount).
func TestConformanceToken(t *testing.T) {
	v := vaulttest.Start(t)
	v.EnableKV(t, "kv")
	v.ReadPolicy(t, "tokend-read", "kv")
	r := newResolver(t, vault.Options{Addr: v.Addr, Token: v.Token(t, "1h", "tokend-read"), Timeout: 2 * time.Second})
	secretstest.Run(t, backend(v, r))
}

// TestVault covers what only Vault has: a policy that does not let tokend
// read, a field that is not a string, a deleted version, a sealed server,
// bad credentials, and renewal of short-lived logins.
func TestVault(t *testing.T) {
	v := vaulttest.Start(t)
	v.EnableKV(t, "kv")
	v.EnableKV(t, "other")
	v.ReadPolicy(t, "tokend-read", "kv")
	roleID, secretID := v.AppRole(t, "tokend", "", "", "tokend-read")
	ctx := context.Background()
	r := newResolver(t, vault.Options{Addr: v.Addr, RoleID: roleID, SecretID: secretID, Timeout: 2 * time.Second})
	ref := func(mount, path, field string, version int) secrets.Ref {
		return secrets.Ref{Backend: secrets.BackendVault, Mount: mount, Path: path, Field: field, Version: version}
	}

	t.Run("PolicyRefuses", func(t *testing.T) {
		v.Put(t, "other", "x", map[string]any{"secret_id": "s"})
		_, err := r.Resolve(ctx, "acme", ref("other", "x", "secret_id", 0))
		if !errors.Is(err, secrets.ErrUnavailable) || !strings.Contains(err.Error(), "403") {
			t.Fatalf("a read the policy refuses: %v", err)
		}
	})
	t.Run("NotAString", func(t *testing.T) {
		v.Put(t, "kv", "n", map[string]any{"secret_id": 42, "empty": ""})
		for _, f := range []string{"secret_id", "empty"} {
			if _, err := r.Resolve(ctx, "acme", ref("kv", "n", f, 0)); !errors.Is(err, secrets.ErrNotFound) {
				t.Fatalf("field %s: %v", f, err)
			}
		}
	})
	t.Run("DeletedVersion", func(t *testing.T) {
		v1 := v.Put(t, "kv", "d", map[string]any{"secret_id": "one"})
		v.Put(t, "kv", "d", map[string]any{"secret_id": "two"})
		if err := v.Root.KVv2("kv").DeleteVersions(ctx, "d", []int{v1}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Resolve(ctx, "acme", ref("kv", "d", "secret_id", v1)); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("deleted version: %v", err)
		}
		if err := v.Root.KVv2("kv").Delete(ctx, "d"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Resolve(ctx, "acme", ref("kv", "d", "secret_id", 0)); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("deleted latest version: %v", err)
		}
	})
	t.Run("BadCredentials", func(t *testing.T) {
		bad := newResolver(t, vault.Options{Addr: v.Addr, RoleID: roleID, SecretID: "not-the-secret-id", Timeout: 2 * time.Second})
		v.Put(t, "kv", "b", map[string]any{"secret_id": "s"})
		_, err := bad.Resolve(ctx, "acme", ref("kv", "b", "secret_id", 0))
		if !errors.Is(err, secrets.ErrUnavailable) || !strings.Contains(err.Error(), "not logged in") {
			t.Fatalf("a resolver whose login failed: %v", err)
		}
		if _, err := vault.New(ctx, vault.Options{Addr: v.Addr}); err == nil {
			t.Fatal("New without credentials")
		}
	})
	t.Run("Renewal", func(t *testing.T) {
		// Logins that live 2 s (AppRole: at most 4 s; the token: renewable)
		// read for 5 s: the AppRole login is renewed, then replaced by a
		// new login, and the token is renewed.
		v.Put(t, "kv", "r", map[string]any{"secret_id": "renewed"})
		rid, sid := v.AppRole(t, "short", "2s", "4s", "tokend-read")
		short := newResolver(t, vault.Options{Addr: v.Addr, RoleID: rid, SecretID: sid, Timeout: 2 * time.Second})
		tok := newResolver(t, vault.Options{Addr: v.Addr, TokenFile: vaulttest.WriteFile(t, "token", v.Token(t, "2s", "tokend-read")),
			Timeout: 2 * time.Second})
		// Read all along, so that reads under way while the login is
		// renewed and replaced are seen too.
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			for name, res := range map[string]*vault.Resolver{"approle": short, "token": tok} {
				s, err := res.Resolve(ctx, "acme", ref("kv", "r", "secret_id", 0))
				if err != nil || !s.Equal("renewed") {
					t.Fatalf("%s: %v", name, err)
				}
			}
		}
	})
	t.Run("ReadsDuringRelogin", func(t *testing.T) {
		// Refused reads make tokend log in again and again; reads of
		// what it may read never fail meanwhile.
		v.Put(t, "kv", "during", map[string]any{"secret_id": "during"})
		rid, sid := v.AppRole(t, "relogin", "", "", "tokend-read")
		res := newResolver(t, vault.Options{Addr: v.Addr, RoleID: rid, SecretID: sid, Timeout: 2 * time.Second, ReloginEvery: time.Millisecond})
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
					_, _ = res.Resolve(ctx, "acme", ref("other", "x", "secret_id", 0))
				}
			}
		}()
		defer close(stop)
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			s, err := res.Resolve(ctx, "acme", ref("kv", "during", "secret_id", 0))
			if err != nil || !s.Equal("during") {
				t.Fatalf("a read during a new login: %v", err)
			}
		}
	})
	t.Run("Sealed", func(t *testing.T) {
		v.Put(t, "kv", "s", map[string]any{"secret_id": "s"})
		v.Seal(t)
		_, err := r.Resolve(ctx, "acme", ref("kv", "s", "secret_id", 0))
		if !errors.Is(err, secrets.ErrUnavailable) || errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("sealed Vault: %v", err)
		}
		t.Log(err)
	})
}

// TestUnreachable: a Vault that is not there at start is unavailable (New
// still returns, and keeps trying), and answers within the timeout.
func TestUnreachable(t *testing.T) {
	r := newResolver(t, vault.Options{Addr: "http://127.0.0.1:1", Token: "t", Timeout: 500 * time.Millisecond})
	start := time.Now()
	ref := seed002
	ref.Client = "billing"
	_, err := r.Resolve(context.Background(), "acme", ref)
	if !errors.Is(err, secrets.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}
