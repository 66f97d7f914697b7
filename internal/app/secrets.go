package app

import (
	"context"

	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/secrets/sealed"
	"github.com/tokend/tokend/internal/secrets/vault"
	"github.com/tokend/tokend/internal/store"
)

// secretResolver builds the resolver of clients' secret references: the
// sealed backend over st, and, when --vault-addr is set, Vault behind an
// in-memory cache of --vault-cache-ttl (docs/vault.md).
func (a *App) secretResolver(st store.Store) (secrets.Resolver, error) {
	s, err := sealed.New(st, a.keys)
	if err != nil {
		return nil, err
	}
	m := secrets.Mux{Sealed: s}
	if a.cfg.VaultAddr == "" {
		return m, nil
	}
	c := a.cfg
	a.vault, err = vault.New(context.Background(), vault.Options{Addr: c.VaultAddr, Namespace: c.VaultNamespace,
		Token: c.VaultToken, TokenFile: c.VaultTokenFile, RoleID: c.VaultRoleID, RoleIDFile: c.VaultRoleIDFile,
		SecretID: c.VaultSecretID, SecretIDFile: c.VaultSecretIDFile, AppRoleMount: c.VaultAppRoleMount,
		Timeout: c.VaultTimeout, Log: a.log})
	if err != nil {
		return nil, err
	}
	m.Vault = secrets.NewCache(a.vault, c.VaultCacheTTL, secrets.DefaultCacheSize)
	return m, nil
}
