package sqlite_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	msqlite "modernc.org/sqlite"

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

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	// Separate handles act like separate processes on one file.
	storetest.RunMigrations(t, len(ms), open(t, path), open(t, path), open(t, path))
}

// TestFdatasync: on Linux, commits are synced with fdatasync once a
// database is open.
func TestFdatasync(t *testing.T) {
	open(t, filepath.Join(t.TempDir(), "t.db"))
	if runtime.GOOS == "linux" && !msqlite.FdatasyncEnabled() {
		t.Fatal("commits are not synced with fdatasync")
	}
}

// TestWriterPragmas: the writing connection syncs every commit fully and
// keeps savepoint journals in memory.
func TestWriterPragmas(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "t.db"))
	for pragma, want := range map[string]int{"synchronous": 2, "temp_store": 2} {
		var got int
		if err := db.Writer().QueryRowContext(context.Background(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %d, want %d", pragma, got, want)
		}
	}
}

func TestBatchWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	a, b := open(t, path), open(t, path)
	if _, err := a.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	storetest.RunBatchWriters(t, a, b)
}
