package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ledger"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite"
	"github.com/tokend/tokend/internal/store/sqlite/sqlitetest"
)

func openDB(t testing.TB) *sqlite.DB { return openDBAt(t, filepath.Join(t.TempDir(), "t.db")) }

// openDBAt opens the database at path, migrated and with tenant t0.
func openDBAt(t testing.TB, path string) *sqlite.DB {
	return sqlitetest.At(t, path, "t0")
}

// startWriter opens a database and a Writer on it, closed at the end of
// the test.
func startWriter(t *testing.T) (*sqlite.DB, *ledger.Writer) {
	db := openDB(t)
	w := ledger.New(ledger.Options{Store: db, Seal: audit.Seal})
	t.Cleanup(w.Close)
	return db, w
}

func row(id string) store.Token {
	now := time.Now().UTC().Truncate(time.Microsecond)
	exp := now.Add(time.Hour)
	return store.Token{Tenant: "t0", ID: id, Kind: "access", Format: "jwt", SubjectType: "client", Subject: "svc", ClientID: "svc",
		Audience: []string{"api"}, Scope: []string{"read"}, IssuedAt: now, ExpiresAt: &exp}
}

func event(id string) store.AuditEvent {
	return store.AuditEvent{Tenant: "t0", Action: "token.issue", Outcome: "success", Actor: "client:svc", Subject: "svc", ClientID: "svc",
		RemoteAddr: "127.0.0.1", UserAgent: "Go-http-client/1.1", RequestID: "0123456789abcdef01234567",
		Time: time.Now().UTC().Truncate(time.Microsecond), Detail: map[string]string{"jti": id, "kind": "access", "format": "jwt", "scope": "read"}}
}

// TestWriter: concurrent writers are all committed, rows and events
// alike, in a valid audit chain; a row that cannot be written fails only
// its own writer; Write after Close is refused. Every commit is observed.
func TestWriter(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	var committed, failedCommits int
	w := ledger.New(ledger.Options{Store: db, Seal: audit.Seal, Observe: func(c ledger.Commit) {
		if c.Err != nil {
			failedCommits++
		} else {
			committed += c.Requests
		}
		if c.Requests < 1 || c.Duration <= 0 {
			t.Errorf("observed %+v", c)
		}
	}})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("tok-%03d", i)
			errs <- w.Write(ctx, []store.Token{row(id)}, []store.AuditEvent{event(id)})
		})
	}
	// A duplicate of a committed id fails alone.
	if err := w.Write(ctx, []store.Token{row("dup")}, nil); err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { errs <- w.Write(ctx, []store.Token{row("dup")}, []store.AuditEvent{event("dup")}) })
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d writes failed, want exactly the duplicate", failed)
	}
	got, err := db.Tokens().List(ctx, "t0", store.TokenFilter{Page: store.Page{Limit: 1000}})
	if err != nil || len(got) != n+1 {
		t.Fatalf("%d ledger rows, %v; want %d", len(got), err, n+1)
	}
	res, err := audit.Verify(ctx, db, "t0", audit.Checkpoints{})
	if err != nil || !res.OK || res.Events != n {
		t.Fatalf("audit chain %+v, %v; want %d events and OK", res, err, n)
	}
	w.Close()
	if err := w.Write(ctx, []store.Token{row("late")}, nil); !errors.Is(err, ledger.ErrClosed) {
		t.Fatalf("Write after Close = %v", err)
	}
	// The duplicate fails its commit (and, if it shared one, its own).
	if committed != n+1 || failedCommits < 1 {
		t.Fatalf("observed %d committed requests and %d failed commits; want %d and at least 1", committed, failedCommits, n+1)
	}
}

// TestWriterCanceled: a writer whose context ends is answered at once.
func TestWriterCanceled(t *testing.T) {
	_, w := startWriter(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Write(ctx, []store.Token{row("x")}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a canceled context = %v", err)
	}
}

// TestApply: applied functions run one at a time inside group commits
// shared with plain writes, so a read-decide-write in one never races
// another, and their events join the commit's; a failing function undoes
// only its own writes and events; a function in a commit that fails for
// another request runs again on its own.
func TestApply(t *testing.T) {
	ctx := context.Background()
	db, w := startWriter(t)

	// Each function counts the rows of subject "seq" and inserts the next
	// one: a lost update would insert a duplicate id and fail.
	const n = 60
	next := func(ctx context.Context, tx store.Store) ([]store.AuditEvent, error) {
		rows, err := tx.Tokens().List(ctx, "t0", store.TokenFilter{Subject: "seq", Page: store.Page{Limit: 1000}})
		if err != nil {
			return nil, err
		}
		r := row(fmt.Sprintf("seq-%03d", len(rows)))
		r.Subject = "seq"
		return []store.AuditEvent{event(r.ID)}, tx.Tokens().Insert(ctx, r)
	}
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() { errs <- w.Apply(ctx, next) })
		wg.Go(func() {
			id := fmt.Sprintf("plain-%03d", i)
			errs <- w.Write(ctx, []store.Token{row(id)}, []store.AuditEvent{event(id)})
		})
	}
	// A function that fails after writing: its row is undone, Apply
	// returns its error, and the commit it shared goes on.
	failed := w.Apply(ctx, func(ctx context.Context, tx store.Store) ([]store.AuditEvent, error) {
		if err := tx.Tokens().Insert(ctx, row("undone")); err != nil {
			return nil, err
		}
		return []store.AuditEvent{event("undone")}, boom
	})
	if !errors.Is(failed, boom) {
		t.Errorf("Apply of a failing function = %v, want boom", failed)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seq, err := db.Tokens().List(ctx, "t0", store.TokenFilter{Subject: "seq", Page: store.Page{Limit: 1000}})
	if err != nil || len(seq) != n {
		t.Fatalf("%d rows from applied functions, %v; want %d", len(seq), err, n)
	}
	if _, err := db.Tokens().Get(ctx, "t0", "undone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the failing function's row: %v, want ErrNotFound", err)
	}

	// A duplicate id fails its commit; the function queued with it runs
	// again alone, and what it reports comes from that run.
	if err := w.Write(ctx, []store.Token{row("dup")}, nil); err != nil {
		t.Fatal(err)
	}
	started, hold := make(chan struct{}), make(chan struct{})
	blocker := make(chan error, 1)
	go func() {
		blocker <- w.Apply(ctx, func(context.Context, store.Store) ([]store.AuditEvent, error) {
			close(started)
			<-hold
			return nil, nil
		})
	}()
	<-started
	runs := 0
	var results [2]error
	var qwg sync.WaitGroup
	qwg.Go(func() {
		results[0] = w.Apply(ctx, func(ctx context.Context, tx store.Store) ([]store.AuditEvent, error) {
			runs++
			id := fmt.Sprintf("retry-%d", runs)
			return []store.AuditEvent{event(id)}, tx.Tokens().Insert(ctx, row(id))
		})
	})
	qwg.Go(func() { results[1] = w.Write(ctx, []store.Token{row("dup")}, nil) })
	// Both are queued behind the blocked commit, so they share the next one.
	for deadline := time.Now().Add(10 * time.Second); ledger.Queued(w) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the two requests were never queued")
		}
	}
	close(hold)
	if err := <-blocker; err != nil {
		t.Fatal(err)
	}
	qwg.Wait()
	if results[0] != nil || !errors.Is(results[1], store.ErrConflict) {
		t.Fatalf("Apply = %v, duplicate Write = %v; want nil and a conflict", results[0], results[1])
	}
	if runs != 2 {
		t.Fatalf("the function ran %d times, want 2 (shared commit, then alone)", runs)
	}
	if _, err := db.Tokens().Get(ctx, "t0", "retry-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("row of the failed shared commit: %v, want ErrNotFound", err)
	}
	if _, err := db.Tokens().Get(ctx, "t0", "retry-2"); err != nil {
		t.Fatalf("row of the function's own commit: %v", err)
	}
	// The plain writes' events, the applied functions' own, and one from
	// the function that ran alone; none from failed runs.
	res, err := audit.Verify(ctx, db, "t0", audit.Checkpoints{})
	if err != nil || !res.OK || res.Events != 2*n+1 {
		t.Fatalf("audit chain %+v, %v; want %d events and OK", res, err, 2*n+1)
	}
	l, err := db.Audit().List(ctx, "t0", store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l {
		if id := e.Detail["jti"]; id == "undone" || id == "retry-1" {
			t.Fatalf("the event of a failed run (%s) was kept", id)
		}
	}
}

// TestApplyPanic: a function that panics fails its own Apply, leaves
// nothing behind, and the committer goes on.
func TestApplyPanic(t *testing.T) {
	ctx := context.Background()
	db, w := startWriter(t)
	err := w.Apply(ctx, func(ctx context.Context, tx store.Store) ([]store.AuditEvent, error) {
		if err := tx.Tokens().Insert(ctx, row("before-panic")); err != nil {
			return nil, err
		}
		panic("boom")
	})
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("Apply of a panicking function = %v", err)
	}
	if _, err := db.Tokens().Get(ctx, "t0", "before-panic"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the panicking function's row: %v, want ErrNotFound", err)
	}
	if err := w.Write(ctx, []store.Token{row("after")}, []store.AuditEvent{event("after")}); err != nil {
		t.Fatalf("Write after the panic: %v", err)
	}
}

// TestWriterLockedDatabase: while another connection holds the write
// lock, concurrent writers each get an error once their context ends (a
// failed commit of several is not retried one by one, each waiting as
// long again), a writer out of time is never told its rows are written
// and, once its commit has given up, they are not written later; writing
// works again once the lock is released.
func TestWriterLockedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db := openDBAt(t, path)
	w := ledger.New(ledger.Options{Store: db, Seal: audit.Seal})
	t.Cleanup(w.Close)
	ctx := context.Background()
	other, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	hold, err := other.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	if _, err := hold.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			errs[i] = w.Write(wctx, []store.Token{row(fmt.Sprintf("locked-%d", i))}, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Errorf("write %d reported success with the database locked", i)
		}
	}
	// A commit whose writers all left gives up too (a commit racing its
	// writer's deadline may still land; give the last one time to end).
	time.Sleep(500 * time.Millisecond)
	if _, err := hold.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, []store.Token{row("after")}, nil); err != nil {
		t.Fatalf("write after the lock is released: %v", err)
	}
	for i := range n {
		if _, err := db.Tokens().Get(ctx, "t0", fmt.Sprintf("locked-%d", i)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("row of failed write %d: %v, want none", i, err)
		}
	}
}
