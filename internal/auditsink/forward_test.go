package auditsink_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/auditsink"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/postgres"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/internal/store/sqlite"
)

// eachStore runs f on a fresh, migrated SQLite and PostgreSQL store.
func eachStore(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		f(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		f(t, db)
	})
}

// recorder is a sink that keeps what it accepted and fails the attempts
// its fail function says.
type recorder struct {
	mu       sync.Mutex
	got      map[string][]int64
	attempts int
	fail     func(attempt int) error
}

func (r *recorder) Name() string { return "test" }
func (r *recorder) Close()       {}
func (r *recorder) Send(_ context.Context, tenant string, l []store.AuditEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.fail != nil {
		if err := r.fail(r.attempts); err != nil {
			return err
		}
	}
	if r.got == nil {
		r.got = map[string][]int64{}
	}
	for _, e := range l {
		if e.Tenant != tenant {
			return fmt.Errorf("event of %s in a batch of %s", e.Tenant, tenant)
		}
		r.got[tenant] = append(r.got[tenant], e.Seq)
	}
	return nil
}

func (r *recorder) seqs(tenant string) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got[tenant])
}

func appendEvents(t *testing.T, st store.Store, tenant string, n int) {
	t.Helper()
	evs := make([]store.AuditEvent, n)
	for i := range evs {
		evs[i] = store.AuditEvent{Tenant: tenant, Time: time.Now().UTC().Truncate(time.Microsecond), Action: "token.issue", Outcome: "success", Actor: "system"}
	}
	if err := st.Audit().Append(context.Background(), audit.Seal, evs...); err != nil {
		t.Fatal(err)
	}
}

func createTenant(t *testing.T, st store.Store, id string) {
	t.Helper()
	if err := st.Tenants().Create(context.Background(), store.Tenant{ID: id}); err != nil {
		t.Fatal(err)
	}
}

func upTo(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func newForwarder(t *testing.T, st store.Store, s auditsink.Sink, cursor string) *auditsink.Forwarder {
	t.Helper()
	f, err := auditsink.New(auditsink.Options{Store: st, Sink: s, Cursor: cursor, Interval: time.Second, Batch: 7,
		Attempts: 2, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestForwarderOnceInOrder: every event of every tenant is delivered once,
// in chain order, across failed attempts (a batch that failed is sent
// again whole) and across a restart, which resumes from the cursor file.
func TestForwarderOnceInOrder(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		createTenant(t, st, "alpha")
		createTenant(t, st, "beta")
		appendEvents(t, st, "alpha", 30)
		appendEvents(t, st, "beta", 5)
		cursor := filepath.Join(t.TempDir(), "cursor.json")
		// Every third attempt fails: each batch is tried at most twice, so
		// some passes give up and a later pass resumes.
		r := &recorder{fail: func(n int) error {
			if n%3 == 0 {
				return errors.New("receiver down")
			}
			return nil
		}}
		f := newForwarder(t, st, r, cursor)
		failed := 0
		for i := 0; i < 20; i++ {
			if err := f.Pass(ctx); err != nil {
				failed++
				continue
			}
			if len(r.seqs("alpha")) == 30 && len(r.seqs("beta")) == 5 {
				break
			}
		}
		if !slices.Equal(r.seqs("alpha"), upTo(30)) || !slices.Equal(r.seqs("beta"), upTo(5)) {
			t.Fatalf("delivered alpha %v, beta %v", r.seqs("alpha"), r.seqs("beta"))
		}
		if r.attempts < 8 {
			t.Errorf("%d attempts: the failures were not exercised", r.attempts)
		}

		// A restart: a new forwarder on the same cursor sends only what is new.
		appendEvents(t, st, "alpha", 3)
		r2 := &recorder{}
		if err := newForwarder(t, st, r2, cursor).Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r2.seqs("alpha"); !slices.Equal(got, []int64{31, 32, 33}) || len(r2.seqs("beta")) != 0 {
			t.Fatalf("after restart: alpha %v, beta %v", got, r2.seqs("beta"))
		}

		// A tenant deleted and created again has a new chain, delivered from
		// its start (the cursor's hash at seq 5 no longer matches).
		if err := st.Tenants().Delete(ctx, "beta"); err != nil {
			t.Fatal(err)
		}
		createTenant(t, st, "beta")
		appendEvents(t, st, "beta", 6)
		r3 := &recorder{}
		if err := newForwarder(t, st, r3, cursor).Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r3.seqs("beta"); !slices.Equal(got, upTo(6)) {
			t.Fatalf("recreated tenant: %v", got)
		}
		// Created again with a shorter chain than the cursor: the event at
		// the cursor is gone and no checkpoint covers it.
		if err := st.Tenants().Delete(ctx, "beta"); err != nil {
			t.Fatal(err)
		}
		createTenant(t, st, "beta")
		appendEvents(t, st, "beta", 2)
		r4 := &recorder{}
		if err := newForwarder(t, st, r4, cursor).Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r4.seqs("beta"); !slices.Equal(got, upTo(2)) {
			t.Fatalf("recreated tenant, shorter chain: %v", got)
		}
	})
}

// TestForwarderPruned: events retention pruned after their delivery do
// not restart the chain; the rest goes on from the cursor.
func TestForwarderPruned(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		createTenant(t, st, "gamma")
		appendEvents(t, st, "gamma", 10)
		cursor := filepath.Join(t.TempDir(), "cursor.json")
		r := &recorder{}
		f := newForwarder(t, st, r, cursor)
		for len(r.seqs("gamma")) < 10 {
			if err := f.Pass(ctx); err != nil {
				t.Fatal(err)
			}
		}
		sign := func(last store.AuditEvent) store.AuditCheckpoint {
			return store.AuditCheckpoint{Tenant: last.Tenant, Seq: last.Seq, Hash: last.Hash, EventTime: last.Time, PrunedAt: time.Now(), Sig: []byte{1}}
		}
		if n, err := st.Audit().Prune(ctx, "gamma", time.Now().Add(time.Hour), 1000, sign); err != nil || n != 10 {
			t.Fatalf("Prune = %d, %v", n, err)
		}
		appendEvents(t, st, "gamma", 2)
		if err := f.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r.seqs("gamma"); !slices.Equal(got, upTo(12)) {
			t.Fatalf("delivered %v", got)
		}
	})
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	if _, err := auditsink.New(auditsink.Options{}); err == nil {
		t.Error("New without store, sink and cursor succeeded")
	}
}
