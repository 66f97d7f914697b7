package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/postgres"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/internal/store/storetest"
)

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	db := open(t, pgtest.NewDatabase(t))
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, db)
}

func TestMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	storetest.RunMigrations(t, len(ms), open(t, url), open(t, url), open(t, url))
}

func TestListenWakesOnChange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := open(t, pgtest.NewDatabase(t))
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	woke := make(chan struct{}, 16)
	go db.Listen(ctx, func() { woke <- struct{}{} })
	select { // the first wake follows LISTEN
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("listener did not start")
	}
	if err := db.Changes().Append(ctx, store.Change{Tenant: "x", Entity: store.EntityToken, Key: "k"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after a change was committed")
	}
}

func TestUnreachable(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/x?connect_timeout=2")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open = %v, want ErrUnavailable", err)
	}
}

// TestTargetSessionAttrs checks that a URL reaching standbys is refused
// before any connection, and that the default (and an explicit read-write
// or primary) opens the primary.
func TestTargetSessionAttrs(t *testing.T) {
	url := pgtest.NewDatabase(t)
	for _, attrs := range []string{"standby", "read-only", "prefer-standby"} {
		if _, err := postgres.Open(context.Background(), url+"&target_session_attrs="+attrs); err == nil || !strings.Contains(err.Error(), "reaches standbys") {
			t.Errorf("target_session_attrs=%s: Open = %v, want a refusal", attrs, err)
		}
	}
	// A server whose sessions are read-only, as a standby's, is refused.
	if _, err := postgres.Open(context.Background(), url+"&options=-c%20default_transaction_read_only%3Don"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("read-only sessions: Open = %v, want ErrUnavailable", err)
	}
	for _, extra := range []string{"", "&target_session_attrs=read-write", "&target_session_attrs=primary", "&target_session_attrs=any"} {
		db := open(t, url+extra)
		if err := db.Ping(context.Background()); err != nil {
			t.Errorf("%q: %v", extra, err)
		}
	}
}

// TestSynchronousStandbyAbsent asks a server without standbys (the test
// server) whether commits wait for one.
func TestSynchronousStandbyAbsent(t *testing.T) {
	db := open(t, pgtest.NewDatabase(t))
	why, err := db.SynchronousStandby(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(why, "synchronous_standby_names is empty") {
		t.Fatalf("SynchronousStandby = %q, want it to name the empty synchronous_standby_names", why)
	}
}

func TestBatchWriters(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := open(t, url), open(t, url)
	if _, err := a.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	storetest.RunBatchWriters(t, a, b)
}
