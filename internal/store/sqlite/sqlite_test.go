package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite"
	"github.com/tokend/tokend/internal/store/storetest"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "tokend.db"))
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, db)
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tokend.db")
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	// Separate handles act like separate processes on one file.
	dbs := []*sqlite.DB{open(t, path), open(t, path), open(t, path)}
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
	if total != len(ms) {
		t.Fatalf("%d migrations applied in all, want %d", total, len(ms))
	}
	again, err := dbs[0].Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate = %v, %v; want nothing to do", again, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "tokend.db"))
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := db.Migrate(ctx)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Migrate = %v, want ErrSchemaTooNew", err)
	}
}
