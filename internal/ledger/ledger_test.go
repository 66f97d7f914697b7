package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ledger"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite"
)

func openDB(t testing.TB) *sqlite.DB {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.Tenants().Create(ctx, store.Tenant{ID: "t0", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return db
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
// its own writer; Write after Close is refused.
func TestWriter(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ledger.New(db, audit.Seal, nil)
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
	res, err := audit.Verify(ctx, db, "t0")
	if err != nil || !res.OK || res.Events != n {
		t.Fatalf("audit chain %+v, %v; want %d events and OK", res, err, n)
	}
	w.Close()
	if err := w.Write(ctx, []store.Token{row("late")}, nil); !errors.Is(err, ledger.ErrClosed) {
		t.Fatalf("Write after Close = %v", err)
	}
}

// TestWriterCanceled: a writer whose context ends is answered at once.
func TestWriterCanceled(t *testing.T) {
	db := openDB(t)
	w := ledger.New(db, audit.Seal, nil)
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Write(ctx, []store.Token{row("x")}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a canceled context = %v", err)
	}
}
