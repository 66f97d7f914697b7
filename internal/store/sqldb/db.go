package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tracing"
)

// Dialect is what differs between the SQL backends.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// IsConflict reports a unique-constraint violation.
	IsConflict func(error) bool
	// IsMissingRef reports a foreign-key violation (the parent is missing).
	IsMissingRef func(error) bool
	// IsUnavailable reports that the database could not be reached.
	IsUnavailable func(error) bool
	// ForUpdate is appended to a SELECT that must lock its rows until the
	// transaction ends ("" where writers are already serialised).
	ForUpdate string
	// OrderChanges, when set, runs before every change-log insert so that
	// change sequence numbers become visible in commit order.
	OrderChanges string
	// Notify, when set, runs after a change-log insert to wake followers.
	Notify string
	// MigrationLock and MigrationUnlock bracket Migrate on one connection.
	MigrationLock, MigrationUnlock string
	// MigrationSession, when set, runs on that connection first, and
	// MigrationEnd last (lifting and restoring per-session limits).
	MigrationSession, MigrationEnd string
	// CacheStatements prepares hot statements once (for drivers that do
	// not cache them themselves).
	CacheStatements bool
	// MultiRowInsert writes a batch of ledger rows or audit events with
	// multi-row INSERTs, for a database where every statement costs a
	// network round trip. (In SQLite, in process, one row per statement
	// costs less CPU.)
	MultiRowInsert bool
	// ArrayInsert writes such a batch with one INSERT of unnested arrays,
	// one per column, instead (PostgreSQL): one round trip and one
	// prepared statement whatever the batch's size.
	ArrayInsert bool
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB implements store.Store over database/sql. The root DB writes through
// w and reads through r (the same pool on PostgreSQL; on SQLite a
// single-connection writer and a read-only pool); a transaction-bound DB
// does everything through tx.
type DB struct {
	w, r   *sql.DB
	tx     *sql.Tx
	d      *Dialect
	wc, rc *stmtCache // nil unless d.CacheStatements
	// txStmts are the cached statements bound to tx, made once per
	// transaction and query (nil unless tx and wc are set).
	txStmts map[string]*sql.Stmt
	// depth counts the savepoints open around this transaction-bound DB.
	depth int
	// heads are the audit heads last written (nil unless d.ArrayInsert).
	heads *heads
}

// New returns a DB writing through w and reading through r.
func New(w, r *sql.DB, d *Dialect) *DB {
	db := &DB{w: w, r: r, d: d}
	if d.ArrayInsert {
		db.heads = &heads{m: map[string]head{}}
	}
	if d.CacheStatements {
		db.wc, db.rc = newStmtCache(w), newStmtCache(r)
	}
	return db
}

// Tenants implements store.Store.
func (db *DB) Tenants() store.Tenants { return tenants{db} }

// Projects implements store.Store.
func (db *DB) Projects() store.Projects { return projects{db} }

// Clients implements store.Store.
func (db *DB) Clients() store.Clients { return clients{db} }

// Users implements store.Store.
func (db *DB) Users() store.Users { return users{db} }

// Devices implements store.Store.
func (db *DB) Devices() store.Devices { return devices{db} }

// Roles implements store.Store.
func (db *DB) Roles() store.Roles { return roles{db} }

// Groups implements store.Store.
func (db *DB) Groups() store.Groups { return groups{db} }

// Keys implements store.Store.
func (db *DB) Keys() store.Keys { return keys{db} }

// Tokens implements store.Store.
func (db *DB) Tokens() store.Tokens { return tokens{db} }

// Audit implements store.Store.
func (db *DB) Audit() store.Audit { return auditLog{db} }

// Changes implements store.Store.
func (db *DB) Changes() store.Changes { return changes{db} }

// Revocations implements store.Store.
func (db *DB) Revocations() store.Revocations { return revocations{db} }

// Nonces implements store.Store.
func (db *DB) Nonces() store.Nonces { return nonces{db} }

// Throttle implements store.Store.
func (db *DB) Throttle() store.Throttle { return throttle{db} }

// Tx implements store.Store. Inside a transaction it opens a savepoint.
func (db *DB) Tx(ctx context.Context, fn func(store.Store) error) error {
	if db.tx != nil {
		return db.savepoint(ctx, fn)
	}
	return db.inTx(ctx, func(b *DB) error { return fn(b) })
}

// savepoint runs fn in a savepoint of the bound transaction: if fn fails,
// its writes are undone and the transaction goes on (also on PostgreSQL,
// where a failed statement would otherwise doom the whole transaction).
func (db *DB) savepoint(ctx context.Context, fn func(store.Store) error) error {
	inner := *db
	inner.depth++
	name := "tokend_sp" + strconv.Itoa(inner.depth)
	q := db.txQuerier()
	if _, err := q.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return db.wrap(err)
	}
	if err := fn(&inner); err != nil {
		// ROLLBACK TO keeps the savepoint open; RELEASE closes it.
		bg := context.WithoutCancel(ctx)
		for _, undo := range []string{"ROLLBACK TO SAVEPOINT " + name, "RELEASE SAVEPOINT " + name} {
			if _, rerr := q.ExecContext(bg, undo); rerr != nil {
				return errors.Join(err, db.wrap(rerr))
			}
		}
		return err
	}
	if _, err := q.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return db.wrap(err)
	}
	return nil
}

func (db *DB) inTx(ctx context.Context, fn func(*DB) error) (err error) {
	if tracing.Enabled() {
		var span trace.Span
		ctx, span = tracing.Child(ctx, "store.tx")
		defer func() {
			if err != nil {
				span.SetStatus(codes.Error, "transaction failed")
			}
			span.End()
		}()
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(err)
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback()
		}
	}()
	txdb := &DB{w: db.w, r: db.r, tx: tx, d: db.d, wc: db.wc, rc: db.rc, heads: db.heads}
	if db.wc != nil {
		txdb.txStmts = map[string]*sql.Stmt{}
	}
	if err := fn(txdb); err != nil {
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return db.wrap(err)
	}
	if db.wc != nil {
		db.wc.prepareMissed(ctx)
	}
	return nil
}

// Ping implements store.Store.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.reader().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return db.wrap(err)
	}
	return nil
}

// Close implements store.Store.
func (db *DB) Close() error {
	if db.tx != nil {
		return errors.New("store: Close called on a transaction")
	}
	if db.wc != nil {
		db.wc.close()
		db.rc.close()
	}
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Writer returns the writing pool, for backend-specific work.
func (db *DB) Writer() *sql.DB { return db.w }

func (db *DB) reader() querier {
	if db.tx != nil {
		return db.txQuerier()
	}
	if db.rc != nil {
		return cachedPool{db.rc}
	}
	return db.r
}

func (db *DB) txQuerier() querier {
	if db.wc != nil {
		return cachedTx{db.tx, db.wc, db.txStmts}
	}
	return db.tx
}

// write runs fn in the bound transaction, or in a new one.
func (db *DB) write(ctx context.Context, fn func(q querier) error) error {
	if db.tx != nil {
		return fn(db.txQuerier())
	}
	return db.inTx(ctx, func(b *DB) error { return fn(b.txQuerier()) })
}

// changed appends one change-log row; q must be a transaction.
func (db *DB) changed(ctx context.Context, q querier, tenant, entity, key string) error {
	if db.d.OrderChanges != "" {
		if _, err := q.ExecContext(ctx, db.d.OrderChanges); err != nil {
			return db.wrap(err)
		}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO changes (tenant, entity, key, time) VALUES ($1, $2, $3, $4)`,
		tenant, entity, key, micros(time.Now()))
	if err != nil {
		return db.wrap(err)
	}
	if db.d.Notify != "" {
		if _, err := q.ExecContext(ctx, db.d.Notify); err != nil {
			return db.wrap(err)
		}
	}
	return nil
}

// wrap maps driver errors to the store's errors.
func (db *DB) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller's deadline passed before the database answered.
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	case db.d.IsConflict(err):
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	case db.d.IsMissingRef(err):
		return fmt.Errorf("%w: %v", store.ErrNotFound, err)
	case db.d.IsUnavailable(err):
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return err
}

// affected returns ErrNotFound when res changed no row.
func (db *DB) affected(res sql.Result, err error) error {
	if err != nil {
		return db.wrap(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.wrap(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// limit applies the Page limit rules.
func limit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// conds builds a WHERE clause with numbered placeholders.
type conds struct {
	parts []string
	args  []any
}

// add appends expr, whose "?" is replaced by the next placeholder.
func (c *conds) add(expr string, v any) {
	c.args = append(c.args, v)
	c.parts = append(c.parts, strings.Replace(expr, "?", "$"+strconv.Itoa(len(c.args)), 1))
}

// next returns the placeholder for v, appended to the arguments.
func (c *conds) next(v any) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(len(c.args))
}

func (c *conds) where() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.parts, " AND ")
}

// Time codecs: microseconds since the epoch, UTC.

func micros(t time.Time) int64 { return t.UnixMicro() }

func timeOf(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// timeCol scans a microsecond column into a time.Time.
type timeCol struct{ p *time.Time }

func (c timeCol) Scan(src any) error {
	us, err := asInt(src)
	if err != nil {
		return err
	}
	*c.p = timeOf(us)
	return nil
}

// nullTimeCol scans a nullable microsecond column into a *time.Time.
type nullTimeCol struct{ p **time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.p = nil
		return nil
	}
	us, err := asInt(src)
	if err != nil {
		return err
	}
	t := timeOf(us)
	*c.p = &t
	return nil
}

func asInt(src any) (int64, error) {
	switch v := src.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case float64:
		return int64(v), nil
	case []byte:
		return strconv.ParseInt(string(v), 10, 64)
	case string:
		return strconv.ParseInt(v, 10, 64)
	}
	return 0, fmt.Errorf("store: cannot read %T as a time", src)
}

// jsonCol scans a JSON text column into *T.
type jsonCol[T any] struct{ p *T }

func (c jsonCol[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("store: cannot read %T as JSON", src)
	}
	return json.Unmarshal(b, c.p)
}

// list is a JSON-stored string list, never nil once scanned.
func list(p *[]string) jsonCol[[]string] { return jsonCol[[]string]{p} }

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data reaches here
	}
	return string(b)
}

// listText encodes a string list as a JSON array, nil as [], the same as
// encoding/json but without reflection for plain strings.
func listText(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	if s, ok := plainJSON('[', ']', len(l), func(b []byte, i int) ([]byte, bool) {
		return appendPlainJSON(b, l[i])
	}); ok {
		return s
	}
	return jsonText(l)
}

// detailText encodes an audit event's detail as a JSON object, the same as
// encoding/json (keys sorted) but without reflection for plain strings.
func detailText(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if s, ok := plainJSON('{', '}', len(keys), func(b []byte, i int) ([]byte, bool) {
		b, ok := appendPlainJSON(b, keys[i])
		if !ok {
			return b, false
		}
		return appendPlainJSON(append(b, ':'), m[keys[i]])
	}); ok {
		return s
	}
	return jsonText(m)
}

// plainJSON encodes n comma-separated items between open and close, each
// appended by item; it reports false as soon as an item is not plain.
func plainJSON(open, close byte, n int, item func(b []byte, i int) ([]byte, bool)) (string, bool) {
	b := make([]byte, 0, 128)
	b = append(b, open)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = item(b, i); !ok {
			return "", false
		}
	}
	return string(append(b, close)), true
}

// appendPlainJSON appends s as a JSON string if it needs no escaping (ASCII
// from space to tilde, but for quote, backslash and the characters
// encoding/json escapes for HTML: < > &), and reports whether it did.
func appendPlainJSON(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Surfaces implements store.Store.
func (db *DB) Surfaces() store.Surfaces { return surfaces{db} }
