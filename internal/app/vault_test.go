package app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/secrets/vaulttest"
)

// seed002Ref is seed 002's layout of a client's secret in Vault.
var seed002Ref = map[string]any{"backend": "vault", "mount": "kv", "path": "secret/{tenant}/{project}/{client}",
	"field": "secret_id", "project": "api"}

// startVault starts a Vault dev server with seed 002's kv mount and a
// read-only policy for tokend.
func startVault(t *testing.T) *vaulttest.Server {
	t.Helper()
	v := vaulttest.Start(t)
	v.EnableKV(t, "kv")
	v.ReadPolicy(t, "tokend-read", "kv")
	return v
}

// startWithVault starts tokend on b, reading Vault v with the settings set
// by vaultCfg.
func startWithVault(t *testing.T, b backend, vaultCfg func(*config.Config)) *server {
	t.Helper()
	s := apptest.StartWith(t, b.url(t), apptest.Options{Config: vaultCfg})
	return &server{URL: s.URL, Admin: s.Admin, App: s.App, Cfg: s.Cfg}
}

// TestVaultClientCredentials: clients whose secrets live in a real Vault
// (seed 002's layout, tokend logged in with AppRole from files) get
// client_credentials tokens with their Vault secret; a wrong secret or a
// secret missing from Vault is invalid_client; once Vault is gone, a
// client whose secret is not cached gets 503 temporarily_unavailable with
// a Retry-After and no token (nor ledger row), while one cached within
// --vault-cache-ttl still gets its token.
func TestVaultClientCredentials(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		v := startVault(t)
		roleID, secretID := v.AppRole(t, "tokend", "", "", "tokend-read")
		s := startWithVault(t, b, func(c *config.Config) {
			c.VaultAddr = v.Addr
			c.VaultRoleIDFile = vaulttest.WriteFile(t, "role-id", roleID)
			c.VaultSecretIDFile = vaulttest.WriteFile(t, "secret-id", secretID)
			c.VaultCacheTTL = time.Minute
		})
		o := setupOAuth(t, s, "acme")
		for _, id := range []string{"billing", "other", "cold", "ghost"} {
			c := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", s.Admin, map[string]any{"id": id,
				"grant_types": []string{"client_credentials"}, "scopes": []string{"read"}, "secret_ref": seed002Ref}), 201)
			if c.str("client_secret") != "" || c.Body["public"] != false {
				t.Fatalf("client with a Vault secret: %s", c.Raw)
			}
		}
		v.Put(t, "kv", "secret/acme/api/billing", map[string]any{"secret_id": "billing-vault-secret"})
		v.Put(t, "kv", "secret/acme/api/other", map[string]any{"secret_id": "other-vault-secret"})
		v.Put(t, "kv", "secret/acme/api/cold", map[string]any{"secret_id": "cold-vault-secret"})
		cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}

		tok := want(t, o.form(t, "token", "billing", "billing-vault-secret", cc), 200)
		if tok.str("access_token") == "" || tok.str("token_type") != "Bearer" {
			t.Fatalf("token: %s", tok.Raw)
		}
		for _, tc := range []struct{ name, id, secret string }{
			{"wrong secret", "billing", "billing-vault-secreT"},
			{"no secret", "billing", ""},
			{"secret missing in Vault", "ghost", "anything"},
			{"another client's secret", "other", "billing-vault-secret"},
		} {
			r := o.form(t, "token", tc.id, tc.secret, cc)
			if r.Status != 401 || r.str("error") != "invalid_client" {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
		}
		ledger := func(client string) int {
			return len(want(t, s.call(t, "GET", "/v1/tenants/acme/tokens?client_id="+client, s.Admin, nil), 200).items())
		}
		// The wire answers, pinned to testdata (written from SQLite, the
		// same bytes on PostgreSQL).
		assert := golden.Assert
		if b.name != "sqlite" {
			assert = golden.Compare
		}
		assert(t, "vault.secret_missing", golden.Fetch(t, o.formRequest(t, "token", "ghost", "anything", cc)))
		if n := ledger("billing"); n != 1 {
			t.Fatalf("%d ledger rows for billing, want 1", n)
		}

		v.Stop()
		assert(t, "vault.unavailable", golden.Fetch(t, o.formRequest(t, "token", "cold", "cold-vault-secret", cc)))
		r := o.form(t, "token", "cold", "cold-vault-secret", cc)
		if r.Status != 503 || r.str("error") != "temporarily_unavailable" || r.Header.Get("Retry-After") != "5" ||
			!strings.Contains(r.str("error_description"), "Vault") || r.str("access_token") != "" {
			t.Fatalf("Vault gone: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Raw)
		}
		// A wrong secret while Vault is gone is no 4xx either: tokend
		// cannot tell it is wrong.
		if r := o.form(t, "token", "cold", "wrong", cc); r.Status != 503 {
			t.Fatalf("wrong secret while Vault is gone: %d %s", r.Status, r.Raw)
		}
		if n := ledger("cold"); n != 0 {
			t.Fatalf("%d ledger rows for a client refused during the outage", n)
		}
		// Within the cache TTL, the secret read before the outage serves.
		want(t, o.form(t, "token", "billing", "billing-vault-secret", cc), 200)
		want(t, o.form(t, "token", "billing", "wrong", cc), 401)

		// Every resolve is counted; only cache misses reached Vault.
		for sample, n := range map[string]float64{
			`tokend_client_secret_resolves_total{backend="vault",outcome="ok"}`:          5,
			`tokend_client_secret_resolves_total{backend="vault",outcome="not_found"}`:   2,
			`tokend_client_secret_resolves_total{backend="vault",outcome="unavailable"}`: 3,
			`tokend_vault_reads_total{outcome="ok"}`:                                     2,
			`tokend_vault_reads_total{outcome="not_found"}`:                              2,
			`tokend_vault_reads_total{outcome="unavailable"}`:                            3,
		} {
			if got := s.metric(t, sample); got != n {
				t.Errorf("%s = %v, want %v", sample, got, n)
			}
		}
	})
}

// TestVaultTokenAuth: tokend reads Vault with a token from
// --vault-token-file (a renewable token limited to the kv mount).
func TestVaultTokenAuth(t *testing.T) {
	t.Parallel()
	v := startVault(t)
	s := startWithVault(t, backends[0], func(c *config.Config) {
		c.VaultAddr = v.Addr
		c.VaultTokenFile = vaulttest.WriteFile(t, "token", v.Token(t, "1h", "tokend-read"))
		c.VaultCacheTTL = 0 // every authentication reads Vault
	})
	o := setupOAuth(t, s, "acme")
	want(t, s.call(t, "POST", "/v1/tenants/acme/clients", s.Admin, map[string]any{"id": "billing",
		"grant_types": []string{"client_credentials"}, "secret_ref": seed002Ref}), 201)
	v.Put(t, "kv", "secret/acme/api/billing", map[string]any{"secret_id": "first"})
	cc := url.Values{"grant_type": {"client_credentials"}}
	want(t, o.form(t, "token", "billing", "first", cc), 200)
	// Without a cache, a secret rotated in Vault takes effect at once.
	v.Put(t, "kv", "secret/acme/api/billing", map[string]any{"secret_id": "second"})
	want(t, o.form(t, "token", "billing", "second", cc), 200)
	want(t, o.form(t, "token", "billing", "first", cc), 401)
	// Sealed is unavailable too.
	v.Seal(t)
	if r := o.form(t, "token", "billing", "second", cc); r.Status != 503 || r.str("error") != "temporarily_unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sealed Vault: %d %s", r.Status, r.Raw)
	}
}
