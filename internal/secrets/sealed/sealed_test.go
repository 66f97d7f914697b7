package sealed_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/keys"
	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/secrets/sealed"
	"github.com/tokend/tokend/internal/secrets/secretstest"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/postgres"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/internal/store/sqlite/sqlitetest"
)

// backend is the sealed backend over st: Put seals value as a client's
// legacy secret with a real key manager, as the directory does.
func backend(t *testing.T, st store.Store, stop func(t *testing.T)) secretstest.Backend {
	master := make([]byte, keys.MasterSize)
	_, _ = rand.Read(master)
	km, err := keys.New(keys.Options{Store: st, Master: master, Issuer: func(ten string) string { return "https://tokend.test/t/" + ten }})
	if err != nil {
		t.Fatal(err)
	}
	r, err := sealed.New(st, km)
	if err != nil {
		t.Fatal(err)
	}
	put := func(t *testing.T, ten, client, value string) int {
		t.Helper()
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		if _, err := st.Tenants().Get(ctx, ten); errors.Is(err, store.ErrNotFound) {
			if err := st.Tenants().Create(ctx, store.Tenant{ID: ten, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		sealedValue, err := km.SealSecret(ten, sealed.Label(sealed.FieldLegacy, "client", client), []byte(value))
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.Clients().Get(ctx, ten, client)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c = store.Client{Tenant: ten, ID: client, CreatedAt: now, UpdatedAt: now, LegacySecret: sealedValue}
			err = st.Clients().Create(ctx, c)
		case err == nil:
			c.LegacySecret, c.UpdatedAt = sealedValue, now
			err = st.Clients().Update(ctx, c)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	return secretstest.Backend{
		Resolver: r, Put: put, Stop: stop,
		Ref: secrets.Ref{Backend: secrets.BackendSealed, Path: "client/{client}", Field: sealed.FieldLegacy},
	}
}

func TestConformanceSQLite(t *testing.T) {
	db := sqlitetest.New(t)
	secretstest.Run(t, backend(t, db, func(t *testing.T) { db.Close() }))
}

func TestConformancePostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secretstest.Run(t, backend(t, db, func(t *testing.T) { db.Close() }))
}

// TestOtherMasterKey: a secret sealed under another master key is
// unavailable (tokend cannot read it now), not a wrong secret.
func TestOtherMasterKey(t *testing.T) {
	db := sqlitetest.New(t)
	a, b := backend(t, db, nil), backend(t, db, nil)
	a.Put(t, "acme", "web", "sealed-under-a")
	r := b.Ref
	r.Client = "web"
	_, err := b.Resolver.Resolve(context.Background(), "acme", r)
	if !errors.Is(err, secrets.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
