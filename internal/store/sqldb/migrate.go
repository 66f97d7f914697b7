package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads every NNNN_name.sql file of dir in fsys, ordered by
// number; numbers must be unique. A gap is allowed (numbers are handed
// out to changes before they land), and Migrate applies a missing lower
// number whenever it arrives.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migration %s: number %d is taken by %s", ms[i].Name, ms[i].Version, ms[i-1].Name)
		}
	}
	return ms, nil
}

// Migrate applies the migrations not yet applied, each in its own
// transaction, and returns their versions. It holds the dialect's
// migration lock on one connection throughout, and re-checks each version
// inside its transaction, so concurrent runs apply each migration once.
// A database with a version this binary does not know is refused with
// store.ErrSchemaTooNew.
func (db *DB) Migrate(ctx context.Context, ms []Migration) ([]int, error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, db.wrap(err)
	}
	defer conn.Close()
	if db.d.MigrationSession != "" {
		if _, err := conn.ExecContext(ctx, db.d.MigrationSession); err != nil {
			return nil, db.wrap(err)
		}
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), db.d.MigrationEnd) }()
	}
	if db.d.MigrationLock != "" {
		if _, err := conn.ExecContext(ctx, db.d.MigrationLock); err != nil {
			return nil, fmt.Errorf("migration lock: %w", db.wrap(err))
		}
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), db.d.MigrationUnlock) }()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, db.wrap(err)
	}
	var newest int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return nil, db.wrap(err)
	}
	known := 0
	if len(ms) > 0 {
		known = ms[len(ms)-1].Version
	}
	if newest > known {
		return nil, fmt.Errorf("%w: database is at version %d, this tokend knows %d", store.ErrSchemaTooNew, newest, known)
	}
	var applied []int
	for _, m := range ms {
		done, err := db.apply(ctx, conn, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

func (db *DB) apply(ctx context.Context, c *sql.Conn, m Migration) (bool, error) {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return false, db.wrap(err)
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
		return false, db.wrap(err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, db.wrap(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.Version, micros(time.Now())); err != nil {
		return false, db.wrap(err)
	}
	return true, db.wrap(tx.Commit())
}
