package app

import (
	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/secrets/sealed"
	"github.com/tokend/tokend/internal/store"
)

// secretResolver builds the resolver of clients' secret references: the
// sealed backend over st, and Vault when --vault-addr is set.
func (a *App) secretResolver(st store.Store) (secrets.Resolver, error) {
	s, err := sealed.New(st, a.keys)
	if err != nil {
		return nil, err
	}
	return secrets.Mux{Sealed: s}, nil
}
