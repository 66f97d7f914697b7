package app

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/secrets/sealed"
	"github.com/tokend/tokend/internal/secrets/vault"
	"github.com/tokend/tokend/internal/store"
)

// secretResolver builds the resolver of clients' secret references: the
// sealed backend over st, and, when --vault-addr is set, Vault behind an
// in-memory cache of --vault-cache-ttl (docs/vault.md). Resolves are
// counted by backend and outcome, and so are the reads that reached Vault.
func (a *App) secretResolver(st store.Store) (secrets.Resolver, error) {
	s, err := sealed.New(st, a.keys)
	if err != nil {
		return nil, err
	}
	resolves := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_client_secret_resolves_total",
		Help: "Client secrets read through their secret reference, by backend (sealed, vault) and outcome (ok, not_found, unavailable); Vault's include the cache's answers.",
	}, []string{"backend", "outcome"})
	a.registry.MustRegister(resolves)
	m := secrets.Mux{Sealed: s}
	if a.cfg.VaultAddr != "" {
		c := a.cfg
		a.vault, err = vault.New(context.Background(), vault.Options{Addr: c.VaultAddr, Namespace: c.VaultNamespace,
			Token: c.VaultToken, TokenFile: c.VaultTokenFile, RoleID: c.VaultRoleID, RoleIDFile: c.VaultRoleIDFile,
			SecretID: c.VaultSecretID, SecretIDFile: c.VaultSecretIDFile, AppRoleMount: c.VaultAppRoleMount,
			Timeout: c.VaultTimeout, Log: a.log})
		if err != nil {
			return nil, err
		}
		reads := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_vault_reads_total",
			Help: "Secrets read from Vault itself (cache misses), by outcome (ok, not_found, unavailable).",
		}, []string{"outcome"})
		a.registry.MustRegister(reads)
		m.Vault = secrets.NewCache(counted{a.vault, func(_ string, o string) { reads.WithLabelValues(o).Inc() }},
			c.VaultCacheTTL, secrets.DefaultCacheSize)
	}
	return counted{m, func(b, o string) { resolves.WithLabelValues(b, o).Inc() }}, nil
}

// counted reports the outcome of each resolve of r.
type counted struct {
	r   secrets.Resolver
	add func(backend, outcome string)
}

func (c counted) Resolve(ctx context.Context, tenant string, ref secrets.Ref) (secrets.Secret, error) {
	s, err := c.r.Resolve(ctx, tenant, ref)
	outcome := "ok"
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		outcome = "not_found"
	case err != nil:
		outcome = "unavailable"
	}
	c.add(ref.Backend, outcome)
	return s, err
}
