// Package sqlite is the embedded storage backend: one SQLite file in WAL
// mode with synchronous=FULL, written through a single connection (SQLite
// has one writer anyway; queuing in Go is cheaper than busy retries) and
// read through a pool of read-only connections. Commits are made durable
// with fdatasync where the system has it, as SQLite's own builds for Linux
// do: it writes the data and the size but not the timestamps, so an fsync
// of the WAL, which is rewritten in place, does not also wait for a
// file-system journal commit.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a SQLite-backed store.Store.
type DB struct {
	*sqldb.DB
}

var dialect = &sqldb.Dialect{
	Name: "sqlite",
	IsConflict: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsMissingRef:    func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
	IsUnavailable:   isUnavailable,
	CacheStatements: true,
}

func hasCode(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code() == c {
			return true
		}
	}
	return false
}

// isUnavailable reports errors of the file rather than of the query: a
// locked or busy database, I/O errors, a full disk, a file that cannot be
// opened.
func isUnavailable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOMEM:
		return true
	}
	return false
}

var syncOnce sync.Once

// Options configure Open.
type Options struct {
	// BusyTimeout bounds the wait for a lock another process holds (say a
	// write transaction); past it the call fails with store.ErrUnavailable
	// (default DefaultBusyTimeout). A call whose context ends stops
	// waiting then.
	BusyTimeout time.Duration
}

// DefaultBusyTimeout is the default Options.BusyTimeout.
const DefaultBusyTimeout = 10 * time.Second

// Open opens (creating if needed) the database file at path with the
// default Options. It does not migrate; call Migrate.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, o Options) (*DB, error) {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	syncOnce.Do(func() { _, _ = sqlite.Fdatasync(true) }) // unavailable: fsync stays
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)", o.BusyTimeout.Milliseconds())
	// Savepoints (store.Store.Tx inside a transaction) keep their undo
	// pages in memory rather than in a temporary file.
	w, err := sql.Open("sqlite", base+"?"+common+"&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{DB: sqldb.New(w, r, dialect)}, nil
}

// Migrate applies the embedded migrations. SQLite serialises writers
// across processes, so two processes migrating at once apply each
// migration once.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	return db.DB.Migrate(ctx, ms)
}

// Migrations returns the embedded migrations.
func Migrations() ([]sqldb.Migration, error) {
	return sqldb.LoadMigrations(migrationFiles, "migrations")
}

var _ store.Store = (*DB)(nil)
