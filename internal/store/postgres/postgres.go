// Package postgres is the shared storage backend: any number of tokend
// replicas use one PostgreSQL database through pgx. Change-log rows are
// numbered in commit order (a transaction-scoped advisory lock around the
// insert) and announced with NOTIFY, so followers wake at once and never
// skip a change.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Channel is the NOTIFY channel of the change log.
const Channel = "tokend_changes"

// Advisory lock keys ("tokd" and "tokm" as integers).
const (
	changesLock   = 0x746f6b64
	migrationLock = 0x746f6b6d
)

var dialect = &sqldb.Dialect{
	Name:            "postgres",
	IsConflict:      func(err error) bool { return hasCode(err, "23505") },
	IsMissingRef:    func(err error) bool { return hasCode(err, "23503") },
	IsUnavailable:   isUnavailable,
	ForUpdate:       " FOR UPDATE",
	OrderChanges:    fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", changesLock),
	Notify:          "SELECT pg_notify('" + Channel + "', '')",
	MigrationLock:   fmt.Sprintf("SELECT pg_advisory_lock(%d)", migrationLock),
	MigrationUnlock: fmt.Sprintf("SELECT pg_advisory_unlock(%d)", migrationLock),
	// A migration (and the wait for another replica's) may take longer
	// than any request.
	MigrationSession: "SET statement_timeout = 0",
	MigrationEnd:     "RESET statement_timeout",
	ArrayInsert:      true,
}

// readOnly is SQLSTATE read_only_sql_transaction.
const readOnly = "25006"

func hasCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// isUnavailable reports connection failures, lost connections and server
// shutdowns.
func isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P0x: operator intervention
		// (57P01 admin shutdown: a server stopping, or demoted by an HA
		// manager); 53300: too many connections; 25006: a read-only
		// transaction, i.e. the server is (now) a standby.
		return pe.Code[:2] == "08" || pe.Code[:4] == "57P0" || pe.Code == "53300" || pe.Code == readOnly
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	// A connection lost mid-query ends in EOF, or in a closed connection
	// for the next call on it.
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, sql.ErrConnDone) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, pgconn.ErrConnClosed) || pgconn.Timeout(err)
}

// DB is a PostgreSQL-backed store.Store.
type DB struct {
	*sqldb.DB
	cfg  *pgx.ConnConfig
	pool *sql.DB
}

// Options configure Open.
type Options struct {
	// Timeout bounds, unless the URL sets them, connecting
	// (connect_timeout) and, on the server, every statement
	// (statement_timeout) and twice over every transaction left idle
	// (idle_in_transaction_session_timeout), so that a session whose
	// caller gave up, or can no longer be reached, does not hold its locks
	// (default DefaultTimeout). Calls are bounded by their contexts too:
	// a context that ends closes the connection, which a server that
	// stopped answering needs.
	Timeout time.Duration
}

// DefaultTimeout is the default Options.Timeout.
const DefaultTimeout = 10 * time.Second

// TCP keepalive probes find a server or network gone silent on an idle
// connection in about keepIdle + keepCount*keepInterval.
const (
	keepIdle     = 10 * time.Second
	keepInterval = 5 * time.Second
	keepCount    = 3
)

// Open connects to the database at url with the default Options and checks
// that it answers. It does not migrate; call Migrate.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, o Options) (*DB, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if err := followPrimary(cfg); err != nil {
		return nil, err
	}
	bound(cfg, o.Timeout)
	db := stdlib.OpenDB(*cfg, stdlib.OptionResetSession(dropStandby))
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: postgres %s: %v", store.ErrUnavailable, cfg.Host, err)
	}
	return &DB{DB: sqldb.New(db, db, dialect), cfg: cfg, pool: db}, nil
}

// followPrimary makes every connection land on a server that accepts
// writes: target_session_attrs is read-write unless the URL (or
// PGTARGETSESSIONATTRS) asks for primary, so that with several hosts
// ("host=a,b" or "postgres://a:5432,b:5432/db") a connection tries each in
// turn and refuses a standby. "any" (libpq's default) counts as
// read-write: tokend only works on a primary. A choice that reaches
// standbys is an error.
func followPrimary(cfg *pgx.ConnConfig) error {
	v := cfg.ValidateConnect
	switch {
	case v == nil:
		cfg.ValidateConnect = pgconn.ValidateConnectTargetSessionAttrsReadWrite
	case sameFunc(v, pgconn.ValidateConnectTargetSessionAttrsReadOnly), sameFunc(v, pgconn.ValidateConnectTargetSessionAttrsStandby),
		sameFunc(v, pgconn.ValidateConnectTargetSessionAttrsPreferStandby):
		return errors.New("database URL: target_session_attrs reaches standbys, which refuse tokend's writes: use read-write (the default) or primary")
	}
	return nil
}

func sameFunc(a, b pgconn.ValidateConnectFunc) bool {
	return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer()
}

// dropStandby runs before a pooled connection is used again: a
// connection whose server became a standby (PostgreSQL 14 and later report
// in_hot_standby and default_transaction_read_only as they change) is
// dropped from the pool, so the next one is made on the primary. (A
// connection that failed is closed by pgx and dropped before this runs.)
func dropStandby(_ context.Context, c *pgx.Conn) error {
	if standby(c.PgConn()) {
		return driver.ErrBadConn
	}
	return nil
}

// standby reports whether the server of c said it is a hot standby or
// read-only by default.
func standby(c *pgconn.PgConn) bool {
	return c.ParameterStatus("in_hot_standby") == "on" || c.ParameterStatus("default_transaction_read_only") == "on"
}

// bound applies the timeouts and keepalives of Options to cfg, keeping
// those the URL sets.
func bound(cfg *pgx.ConnConfig, timeout time.Duration) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = timeout
	}
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: keepIdle, Interval: keepInterval, Count: keepCount}}
	cfg.DialFunc = d.DialContext
	options := cfg.RuntimeParams["options"]
	for name, v := range map[string]time.Duration{
		"statement_timeout":                   timeout,
		"idle_in_transaction_session_timeout": 2 * timeout,
	} {
		if _, ok := cfg.RuntimeParams[name]; !ok && !strings.Contains(options, name) {
			cfg.RuntimeParams[name] = strconv.FormatInt(v.Milliseconds(), 10)
		}
	}
}

// Migrate applies the embedded migrations under a session advisory lock,
// so replicas starting together apply each migration once.
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

// SynchronousStandby returns "" when a commit of tokend's sessions waits
// for a synchronous standby that is connected now (so that a failover to
// that standby loses no acknowledged write), or says why not:
// synchronous_standby_names is empty, synchronous_commit does not wait for
// the standby (off or local), or pg_stat_replication shows no standby in
// sync_state sync or quorum. Reading sync_state needs pg_monitor (or
// pg_read_all_stats) for a role that is not a superuser; without it the
// answer says so. An error means the question could not be asked.
func (db *DB) SynchronousStandby(ctx context.Context) (string, error) {
	var names, commit string
	var synced, hidden int
	err := db.pool.QueryRowContext(ctx, `SELECT current_setting('synchronous_standby_names'), current_setting('synchronous_commit'),
		(SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')),
		(SELECT count(*) FROM pg_stat_replication WHERE sync_state IS NULL)`).Scan(&names, &commit, &synced, &hidden)
	if err != nil {
		if isUnavailable(err) {
			return "", fmt.Errorf("%w: %v", store.ErrUnavailable, err)
		}
		return "", err
	}
	switch {
	case strings.TrimSpace(names) == "":
		return "synchronous_standby_names is empty: commits do not wait for any standby", nil
	case commit != "on" && commit != "remote_write" && commit != "remote_apply":
		return fmt.Sprintf("synchronous_commit is %s: commits do not wait for the standby", commit), nil
	case synced == 0 && hidden > 0:
		return "pg_stat_replication hides sync_state from this role: grant it pg_monitor", nil
	case synced == 0:
		return "no synchronous standby is connected (pg_stat_replication has none in sync_state sync or quorum)", nil
	}
	return "", nil
}

// listenCheck is how often an idle listening connection is checked: that
// its server still answers and has not become a standby (demoted by an HA
// manager, where no NOTIFY will ever come).
const listenCheck = 5 * time.Second

// Listen calls wake on every change-log notification until ctx is done,
// reconnecting after failures (to the primary, as every connection; see
// Open) and calling wake after each reconnect, since notifications may have
// been missed meanwhile: the follower then reads the change log from its
// cursor.
func (db *DB) Listen(ctx context.Context, wake func()) error {
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			break
		}
		_ = err
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return ctx.Err()
}

func (db *DB) listenOnce(ctx context.Context, wake func()) error {
	conn, err := pgx.ConnectConfig(ctx, db.cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	wake()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			wake()
			continue
		case ctx.Err() != nil || !pgconn.Timeout(err):
			return err
		}
		// A timeout leaves the connection usable.
		if standby(conn.PgConn()) {
			return errors.New("the listening connection's server is a standby now")
		}
		pctx, cancel := context.WithTimeout(ctx, listenCheck)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return err
		}
	}
}

var _ store.Store = (*DB)(nil)
