// Package sqlitetest opens real SQLite stores for the tests of other
// packages: a fresh file in the test's temporary directory, migrated, with
// the tenants asked for, closed when the test ends. It is imported only
// from _test.go files.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite"
)

// New opens a migrated store in t.TempDir() holding tenants.
func New(t testing.TB, tenants ...string) *sqlite.DB {
	t.Helper()
	return At(t, filepath.Join(t.TempDir(), "tokend.db"), tenants...)
}

// At opens the store at path, migrated, and creates tenants in it.
func At(t testing.TB, path string, tenants ...string) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, id := range tenants {
		if err := db.Tenants().Create(ctx, store.Tenant{ID: id, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
