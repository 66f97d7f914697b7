package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/secrets/vaulttest"
	"github.com/tokend/tokend/internal/token"
)

// BenchmarkVaultClientCredentials compares client_credentials through the
// handler for a client whose secret tokend keeps (a generated secret,
// stored as its SHA-256) and one whose secret lives in a real Vault dev
// server, read once and then served from the in-memory cache
// (--vault-cache-ttl). docs/vault.md records the figures.
func BenchmarkVaultClientCredentials(b *testing.B) {
	v := vaulttest.Start(b)
	v.EnableKV(b, "kv")
	v.ReadPolicy(b, "tokend-read", "kv")
	roleID, secretID := v.AppRole(b, "tokend", "", "", "tokend-read")
	ctx := context.Background()
	cfg, dbSecret := seedTenants(b, 1)
	cfg.VaultAddr = v.Addr
	cfg.VaultRoleID, cfg.VaultSecretID = roleID, secretID
	cfg.VaultCacheTTL = time.Hour
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	gt, id, scopes := []string{"client_credentials"}, "vaulted", []string{"read"}
	ref := secrets.Ref{Backend: secrets.BackendVault, Mount: "kv", Path: "secret/{tenant}/{project}/{client}", Field: "secret_id", Project: "api"}
	if _, _, err := a.Directory().CreateClient(ctx, directory.Actor{}, "t0",
		directory.ClientSpec{ID: &id, GrantTypes: &gt, Scopes: &scopes, SecretRef: &ref}); err != nil {
		b.Fatal(err)
	}
	vaultSecret := token.NewOpaque(token.TagClientSecret)
	v.Put(b, "kv", "secret/t0/api/vaulted", map[string]any{"secret_id": vaultSecret})
	h := a.Handler()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()
	// One read fills the cache; then Vault is stopped, so that every
	// measured request is served from the cache (a request that reached
	// Vault would fail) and Vault's process takes no CPU from either case.
	warm := httptest.NewRequest("POST", "/t/t0/oauth2/token", strings.NewReader(form))
	warm.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	warm.SetBasicAuth("vaulted", vaultSecret)
	ww := httptest.NewRecorder()
	if h.ServeHTTP(ww, warm); ww.Code != 200 {
		b.Fatalf("first read: %d %s", ww.Code, ww.Body)
	}
	v.Stop()
	cases := []struct{ name, id, secret string }{
		{"database", "svc", dbSecret},
		{"vault-cached", "vaulted", vaultSecret},
	}
	n := 0
	call := func(tb testing.TB, id, secret string) {
		n++
		req := httptest.NewRequest("POST", "/t/t0/oauth2/token", strings.NewReader(form))
		req.RemoteAddr = fmt.Sprintf("10.1.%d.%d:1234", n>>8&255, n&255)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			tb.Fatalf("%s: %d %s", id, w.Code, w.Body)
		}
	}
	// Both cases warm up alike first (ledger, caches, heap), so that the
	// one measured first pays no start-up cost the other does not.
	for range 500 {
		for _, tc := range cases {
			call(b, tc.id, tc.secret)
		}
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				call(b, tc.id, tc.secret)
			}
		})
	}
}
