package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tokend/tokend/internal/store"
)

// BatchWriter is a store that writes a group commit's tokens and audit
// events together, all or none (the ledger's committer uses it).
type BatchWriter interface {
	store.Store
	InsertTokensAndAppend(ctx context.Context, seal store.SealFunc, ts []store.Token, events []store.AuditEvent) error
}

// RunBatchWriters checks InsertTokensAndAppend with two writers a and b on
// one migrated database (two replicas): batches commit whole and chain to
// the head however the other writer, or a rolled-back transaction, moved
// it in between, and concurrent batches of both never fork the chain.
func RunBatchWriters(t *testing.T, a, b BatchWriter) {
	ten := uniq("t")
	n := now()
	must(t, a.Tenants().Create(ctx, store.Tenant{ID: ten, DisplayName: "Test", CreatedAt: n, UpdatedAt: n}))
	var ids []string
	batch := func(w BatchWriter, tag string, size int) error {
		var ts []store.Token
		var evs []store.AuditEvent
		for i := range size {
			id := uniq(tag)
			ts = append(ts, store.Token{Tenant: ten, ID: id, Kind: "access", Format: store.FormatJWT, Subject: "s", ClientID: "web", IssuedAt: n})
			evs = append(evs, store.AuditEvent{Tenant: ten, Time: n, Action: fmt.Sprintf("%s.%d", tag, i), Outcome: "success",
				Detail: map[string]string{"jti": id}})
		}
		if err := w.InsertTokensAndAppend(ctx, seal, ts, evs); err != nil {
			return err
		}
		for _, tk := range ts {
			ids = append(ids, tk.ID)
		}
		return nil
	}
	t.Run("HeadMovedBetweenBatches", func(t *testing.T) {
		must(t, batch(a, "a1", 3)) // reads the head
		must(t, batch(a, "a2", 2)) // knows it
		must(t, b.Audit().Append(ctx, seal, store.AuditEvent{Tenant: ten, Time: n, Action: "b.append", Outcome: "success"}))
		must(t, batch(a, "a3", 4)) // the head moved: still one unbroken chain
		must(t, batch(b, "b1", 2))
		must(t, batch(a, "a4", 1))
		checkChain(t, a, ten, 3+2+1+4+2+1)
	})
	t.Run("RolledBack", func(t *testing.T) {
		// A transaction that appended and rolled back leaves the head
		// where it was.
		boom := errors.New("boom")
		wantErr(t, a.Tx(ctx, func(tx store.Store) error {
			must(t, tx.Audit().Append(ctx, seal, store.AuditEvent{Tenant: ten, Time: n, Action: "undone", Outcome: "success"}))
			return boom
		}), boom)
		wantErr(t, a.Tx(ctx, func(tx store.Store) error {
			if bw, ok := tx.(BatchWriter); ok {
				must(t, bw.InsertTokensAndAppend(ctx, seal, []store.Token{{Tenant: ten, ID: uniq("undone"), Kind: "access", Format: store.FormatJWT, IssuedAt: n}},
					[]store.AuditEvent{{Tenant: ten, Time: n, Action: "undone", Outcome: "success"}}))
			}
			return boom
		}), boom)
		must(t, batch(a, "a5", 2))
		checkChain(t, a, ten, 13+2)
	})
	t.Run("Atomic", func(t *testing.T) {
		// A duplicate token fails the whole batch: no token and no
		// event of it is written, and the chain goes on.
		before := len(ids)
		dup := []store.Token{{Tenant: ten, ID: uniq("new"), Kind: "access", Format: store.FormatJWT, IssuedAt: n},
			{Tenant: ten, ID: ids[0], Kind: "access", Format: store.FormatJWT, IssuedAt: n}}
		evs := []store.AuditEvent{{Tenant: ten, Time: n, Action: "dup.0", Outcome: "success"}, {Tenant: ten, Time: n, Action: "dup.1", Outcome: "success"}}
		wantErr(t, a.InsertTokensAndAppend(ctx, seal, dup, evs), store.ErrConflict)
		_, err := a.Tokens().Get(ctx, ten, dup[0].ID)
		wantErr(t, err, store.ErrNotFound)
		must(t, batch(a, "a6", 1))
		checkChain(t, a, ten, 15+1)
		if len(ids) != before+1 {
			t.Fatalf("%d tokens, want %d", len(ids), before+1)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		const rounds = 25
		var wg sync.WaitGroup
		var mu sync.Mutex
		errs := make(chan error, 2*rounds)
		for i, w := range []BatchWriter{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					// Each batch as ledger builds it, apart from the
					// shared ids list.
					var ts []store.Token
					var evs []store.AuditEvent
					for k := range 3 {
						id := uniq(fmt.Sprintf("w%d", i))
						ts = append(ts, store.Token{Tenant: ten, ID: id, Kind: "access", Format: store.FormatJWT, IssuedAt: n})
						evs = append(evs, store.AuditEvent{Tenant: ten, Time: n, Action: fmt.Sprintf("w%d.%d.%d", i, r, k), Outcome: "success"})
					}
					if err := w.InsertTokensAndAppend(ctx, seal, ts, evs); err != nil {
						errs <- err
						continue
					}
					mu.Lock()
					for _, tk := range ts {
						ids = append(ids, tk.ID)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			// Only a deadlock between the two writers may fail a
			// batch; the chain must hold regardless.
			t.Logf("concurrent batch failed: %v", err)
		}
		l := checkChain(t, a, ten, -1)
		tokens, err := a.Tokens().List(ctx, ten, store.TokenFilter{Page: store.Page{Limit: 1000}})
		must(t, err)
		// Every committed batch wrote 3 tokens and 3 events; the
		// events before this sub-test were 16, the tokens 15.
		if len(tokens) != len(ids) || len(l)-16 != len(ids)-15 {
			t.Fatalf("%d tokens (want %d), %d events (want %d)", len(tokens), len(ids), len(l), 16+len(ids)-15)
		}
		if len(ids) < 15+3*rounds {
			t.Fatalf("only %d of %d concurrent batches committed", (len(ids)-15)/3, 2*rounds)
		}
	})
}

// checkChain checks that ten's events form one chain (seq 1, 2, ...; each
// PrevHash the previous Hash; each Hash the seal of its event) of want
// events (any number if want < 0) and returns them.
func checkChain(t *testing.T, st store.Store, ten string, want int) []store.AuditEvent {
	t.Helper()
	var l []store.AuditEvent
	for {
		page, err := st.Audit().List(ctx, ten, store.AuditFilter{AfterSeq: int64(len(l)), Limit: 1000})
		must(t, err)
		l = append(l, page...)
		if len(page) < 1000 {
			break
		}
	}
	if want >= 0 && len(l) != want {
		t.Fatalf("%d events, want %d", len(l), want)
	}
	var prev []byte
	for i, e := range l {
		c := e
		c.Hash = nil
		seal(&c)
		if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(c.Hash, e.Hash) {
			t.Fatalf("event %d (%s, seq %d) breaks the chain", i, e.Action, e.Seq)
		}
		prev = e.Hash
	}
	return l
}
