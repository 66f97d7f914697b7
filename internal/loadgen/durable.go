package loadgen

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"modernc.org/sqlite"               // database/sql driver "sqlite"
)

// The durable floor (BaselineDurable) is the irreducible work of one
// client_credentials issuance, measured the way tokend is: parse the form,
// authenticate the client against a cached hash of its generated secret
// (SHA-256, compared in constant time, as tokend checks a generated
// client secret: principal.CheckSecret), sign one ES256 JWT, append one
// row durably, answer RFC 6749 JSON. The row is written by a group
// committer with tokend's scheme (ledger.Writer): one goroutine drains a
// channel of pending rows, up to durableMaxBatch a commit, and waits up to
// durableMaxLinger for as many rows as the largest of the last
// durableLingerWindow commits held (ledger.MaxLinger and its window); each
// request is answered only after its commit returned. A group is one
// multi-row INSERT run as its own transaction: on SQLite (WAL,
// synchronous=FULL, fdatasync: tokend's store/sqlite pragmas) one commit
// and one sync of the WAL; on PostgreSQL one COMMIT, with the server's
// synchronous_commit (tokend sets none either). It imports nothing of
// tokend's core: it is what any server doing the same work would pay.

// BaselineDurable is the durable floor's kind (mode baseline-durable).
const BaselineDurable = "durable"

// The durable floor's one client. Its secret has the shape of a secret
// tokend generates; only its SHA-256 is kept.
const (
	BaselineClientID     = "floor"
	BaselineClientSecret = "tkd_cs_Zmxvb3ItYmFzZWxpbmUtc2VjcmV0LW9mLTMyLWJ5dGVzXw0Fl00r"
)

// baselineDurablePath is the durable floor's token endpoint.
const baselineDurablePath = "/oauth2/token"

// Group commit parameters, the same as tokend's ledger (MaxBatch,
// MaxLinger, lingerWindow).
const (
	durableMaxBatch     = 256
	durableMaxLinger    = 2 * time.Millisecond
	durableLingerWindow = 32
)

// durableRow is one issued token's row.
type durableRow struct {
	jti, client, subject string
	iat, exp             int64
}

// pendingRow is a row waiting for its group commit.
type pendingRow struct {
	row  durableRow
	done chan error
}

// durableDB is where the durable floor appends its rows.
type durableDB struct {
	db      *sql.DB
	dialect string // "sqlite" or "postgres"
	// cleanup removes what the floor created for itself (a temporary
	// SQLite directory).
	cleanup func()
}

// durableSchema creates the floor's table: the row and its primary key,
// nothing else.
const durableSchema = `CREATE TABLE IF NOT EXISTS tokend_floor_tokens (
	jti TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	subject TEXT NOT NULL,
	issued_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
)`

var fdatasyncOnce sync.Once

// openDurable opens the floor's database: database is "" (a SQLite file in
// a fresh temporary directory, removed on close), "sqlite:PATH", or a
// postgres:// or postgresql:// URL.
func openDurable(ctx context.Context, database string) (*durableDB, error) {
	d := &durableDB{cleanup: func() {}}
	var err error
	switch {
	case database == "" || strings.HasPrefix(database, "sqlite:"):
		path := strings.TrimPrefix(database, "sqlite:")
		if path == "" {
			dir, err := os.MkdirTemp("", "tokend-floor-")
			if err != nil {
				return nil, fmt.Errorf("loadgen: durable floor: %w", err)
			}
			d.cleanup = func() { _ = os.RemoveAll(dir) }
			path = filepath.Join(dir, "floor.db")
		}
		// As tokend's SQLite store: fdatasync for the WAL's sync.
		fdatasyncOnce.Do(func() { _, _ = sqlite.Fdatasync(true) })
		dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
		d.dialect = "sqlite"
		d.db, err = sql.Open("sqlite", dsn)
	case strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://"):
		d.dialect = "postgres"
		d.db, err = sql.Open("pgx", database)
	default:
		return nil, fmt.Errorf("loadgen: durable floor database %q: want sqlite:PATH or a postgres:// URL", database)
	}
	if err != nil {
		d.cleanup()
		return nil, fmt.Errorf("loadgen: durable floor: %w", err)
	}
	// One committer, one connection: commits run one at a time, as
	// tokend's do.
	d.db.SetMaxOpenConns(1)
	d.db.SetMaxIdleConns(1)
	d.db.SetConnMaxIdleTime(0)
	if _, err := d.db.ExecContext(ctx, durableSchema); err != nil {
		d.close()
		return nil, fmt.Errorf("loadgen: durable floor schema: %w", err)
	}
	return d, nil
}

func (d *durableDB) close() {
	_ = d.db.Close()
	d.cleanup()
}

// insert appends rows in one statement, which is its own transaction.
func (d *durableDB) insert(ctx context.Context, rows []durableRow) error {
	var b strings.Builder
	b.WriteString("INSERT INTO tokend_floor_tokens (jti, client_id, subject, issued_at, expires_at) VALUES ")
	args := make([]any, 0, 5*len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		if d.dialect == "postgres" {
			n := 5 * i
			fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4, n+5)
		} else {
			b.WriteString("(?,?,?,?,?)")
		}
		args = append(args, r.jti, r.client, r.subject, r.iat, r.exp)
	}
	_, err := d.db.ExecContext(ctx, b.String(), args...)
	return err
}

// committer is the durable floor's group committer.
type committer struct {
	db   *durableDB
	reqs chan *pendingRow
	stop chan struct{}
	done chan struct{}
}

func newCommitter(db *durableDB) *committer {
	c := &committer{db: db, reqs: make(chan *pendingRow, durableMaxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// append returns once row is committed (or failed to be).
func (c *committer) append(ctx context.Context, row durableRow) error {
	p := &pendingRow{row: row, done: make(chan error, 1)}
	select {
	case c.reqs <- p:
	case <-c.stop:
		return errors.New("durable floor stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) close() {
	close(c.stop)
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	batch := make([]*pendingRow, 0, durableMaxBatch)
	rows := make([]durableRow, 0, durableMaxBatch)
	var recent [durableLingerWindow]int
	next := 0
	for {
		select {
		case p := <-c.reqs:
			batch = append(batch[:0], p)
		case <-c.stop:
			return
		}
	fill: // everything already queued
		for len(batch) < durableMaxBatch {
			select {
			case p := <-c.reqs:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		// Linger, up to durableMaxLinger, for as many rows as recent
		// commits held (ledger.Writer's rule).
		if target := slices.Max(recent[:]); len(batch) < target {
			t := time.NewTimer(durableMaxLinger)
		linger:
			for len(batch) < target && len(batch) < durableMaxBatch {
				select {
				case p := <-c.reqs:
					batch = append(batch, p)
				case <-t.C:
					break linger
				}
			}
			t.Stop()
		}
		recent[next] = len(batch)
		next = (next + 1) % durableLingerWindow
		rows = rows[:0]
		for _, p := range batch {
			rows = append(rows, p.row)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.db.insert(ctx, rows)
		cancel()
		for _, p := range batch {
			p.done <- err
		}
	}
}

// durable is the state of a durable floor server.
type durable struct {
	*baseline
	hash [sha256.Size]byte
	c    *committer
}

// serveDurable is the durable floor's token endpoint.
func (d *durable) serveDurable(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok { // RFC 6749 §2.3.1: each part is form-urlencoded
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		ok = err1 == nil && err2 == nil
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		ok = id != ""
	}
	h := sha256.Sum256([]byte(secret))
	if !ok || id != BaselineClientID || subtle.ConstantTimeCompare(h[:], d.hash[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="floor"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	tok, jti, now, err := d.signID()
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error")
		return
	}
	row := durableRow{jti: jti, client: id, subject: id, iat: now.Unix(), exp: now.Add(baselineLifetime).Unix()}
	if err := d.c.append(r.Context(), row); err != nil {
		w.Header().Set("Retry-After", "1")
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable")
		return
	}
	writeJSON(w, `{"access_token":"`+tok+`","token_type":"Bearer","expires_in":`+
		strconv.Itoa(int(baselineLifetime/time.Second))+`}`)
}

// oauthError writes an RFC 6749 §5.2 error.
func oauthError(w http.ResponseWriter, status int, code string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":"` + code + `"}`))
}

// prepareBaselineDurable is ModeBaselineDurable: client_credentials
// requests as the floor's client.
func prepareBaselineDurable(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	return &target{url: strings.TrimRight(c.Endpoint, "/") + baselineDurablePath,
		auth: basicAuth(BaselineClientID, BaselineClientSecret), body: c.issueBody(), check: expectStatus200}, nil
}
