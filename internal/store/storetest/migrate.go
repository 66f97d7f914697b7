package storetest

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/tokend/tokend/internal/store"
)

// Migrator is a backend handle that applies its migrations.
type Migrator interface {
	Migrate(ctx context.Context) ([]int, error)
	Writer() *sql.DB
}

// RunMigrations checks, on handles to one empty database (as separate
// processes would hold), that concurrent runs apply each of want
// migrations once, that a second run has nothing to do, and that a schema
// newer than the binary is refused.
func RunMigrations(t *testing.T, want int, dbs ...Migrator) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	applied := make([][]int, len(dbs))
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Add(1)
		go func() { defer wg.Done(); applied[i], errs[i] = db.Migrate(ctx) }()
	}
	wg.Wait()
	total := 0
	for i := range dbs {
		if errs[i] != nil {
			t.Fatalf("migrate %d: %v", i, errs[i])
		}
		total += len(applied[i])
	}
	if total != want {
		t.Fatalf("%d migrations applied in all, want %d", total, want)
	}
	if again, err := dbs[0].Migrate(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second migrate = %v, %v; want nothing to do", again, err)
	}
	if _, err := dbs[0].Writer().ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[len(dbs)-1].Migrate(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Migrate on a newer schema = %v, want ErrSchemaTooNew", err)
	}
}
