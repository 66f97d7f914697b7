// Package ledger group-commits the hot-path writes: ledger rows of issued
// tokens and audit events. Concurrent requests hand their rows to one
// committer, which writes everything queued in one transaction and then
// answers each request. A request is answered only after its rows are
// durable, yet a burst of N requests costs one commit (one fsync on
// SQLite) instead of N. Under steady load a commit also waits briefly for
// as many requests as recent commits held (see MaxLinger). Apply brings a
// read-decide-write (a refresh token's rotation) into the same commits.
//
// A request's context bounds its wait: a request whose context ends while
// it is queued or its commit is in flight gets the context's error, never
// success, whatever becomes of its rows (a request that left before its
// commit began is not written at all; one that left during the commit may
// still be). A commit runs until the last deadline of the requests it
// holds, so a hung database fails the commit instead of holding every
// later request.
package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tracing"
)

// MaxBatch bounds the rows of one group commit.
const MaxBatch = 256

// A group commit waits, up to MaxLinger, until it holds as many requests
// as the largest of the last lingerWindow commits. Under steady load from C
// concurrent callers, commits then carry close to C requests each and the
// per-commit cost (on SQLite the WAL frames and their sync) is shared by
// more rows. A commit that already holds that many goes at once: a lone
// caller's requests, one per commit, never wait. After a burst, the next
// lingerWindow commits wait at most MaxLinger each.
const (
	MaxLinger    = 2 * time.Millisecond
	lingerWindow = 32
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("ledger: writer closed")

// Writer is the group committer. Safe for concurrent use.
type Writer struct {
	st      store.Store
	seal    store.SealFunc
	log     *slog.Logger
	observe func(Commit)
	timeout time.Duration
	reqs    chan *request
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

type request struct {
	ctx    context.Context
	tokens []store.Token
	events []store.AuditEvent
	// apply, when set, runs in the commit's transaction (see Apply);
	// applied and appliedEvents are what it returned in the last
	// transaction that ran it.
	apply         ApplyFunc
	applied       error
	appliedEvents []store.AuditEvent
	err           chan error
}

// applyRows is what one Apply counts for in a batch's MaxBatch rows: a
// refresh rotation reads and writes a few rows.
const applyRows = 4

func (r *request) rows() int {
	n := len(r.tokens) + len(r.events)
	if r.apply != nil {
		n += applyRows
	}
	return n
}

// Options configure a Writer. Store and Seal are required.
type Options struct {
	Store store.Store
	// Seal completes audit events (see store.Audit.Append).
	Seal store.SealFunc
	Log  *slog.Logger
	// Observe, when set, is called by the committer after every commit
	// (for metrics); it must not block.
	Observe func(Commit)
	// Timeout bounds a commit holding a request whose context has no
	// deadline (default DefaultTimeout).
	Timeout time.Duration
}

// DefaultTimeout is the default Options.Timeout.
const DefaultTimeout = 10 * time.Second

// Commit describes one group commit to Options.Observe.
type Commit struct {
	// Requests is how many Write and Apply calls it held.
	Requests int
	// Duration is the transaction's run time, its sync included.
	Duration time.Duration
	// Err is nil if the transaction committed. A failed commit of several
	// requests is followed by one commit per request.
	Err error
}

// New starts a Writer.
func New(o Options) *Writer {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Observe == nil {
		o.Observe = func(Commit) {}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	w := &Writer{st: o.Store, seal: o.Seal, log: o.Log, observe: o.Observe, timeout: o.Timeout,
		reqs: make(chan *request, MaxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// Write makes tokens and events durable, together with whatever other
// requests are queued, and returns once they are committed. The rows of
// one call commit atomically.
func (w *Writer) Write(ctx context.Context, tokens []store.Token, events []store.AuditEvent) error {
	if tracing.Enabled() {
		var span trace.Span
		ctx, span = tracing.Child(ctx, "ledger.write", attribute.Int("tokend.tokens", len(tokens)), attribute.Int("tokend.events", len(events)))
		defer span.End()
	}
	return w.send(ctx, &request{ctx: ctx, tokens: tokens, events: events, err: make(chan error, 1)})
}

// An ApplyFunc is a read-decide-write run by Apply. It must use the
// context and Store it is given, and must not call Write or Apply (it
// runs on the committer, which would wait for itself). The audit events
// it returns are appended with the commit's other events, after its own
// writes.
type ApplyFunc func(ctx context.Context, tx store.Store) ([]store.AuditEvent, error)

// Apply runs fn in the transaction of a group commit, under a savepoint,
// and returns once that transaction has committed: fn's writes and events
// are then durable, at the cost of a share of one commit. If fn returns
// an error, its writes are undone and its events dropped, the rest of the
// commit goes on, and Apply returns that error. Commits run one at a time
// and fn runs in one, so its reads see every earlier Write and Apply. fn
// may run more than once: if the shared commit fails, fn runs again in a
// transaction of its own, so whatever it reports to its caller must be
// set afresh on every run.
func (w *Writer) Apply(ctx context.Context, fn ApplyFunc) error {
	return w.send(ctx, &request{ctx: ctx, apply: fn, err: make(chan error, 1)})
}

func (w *Writer) send(ctx context.Context, r *request) error {
	select {
	case <-w.stop:
		return ErrClosed
	default:
	}
	select {
	case w.reqs <- r:
	case <-w.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.err:
		if err == nil && ctx.Err() != nil {
			// Committed, but the caller is out of time: it must answer
			// as if it had not been, so it hands nothing out.
			return ctx.Err()
		}
		return err
	case <-w.done:
		// Queued as the committer stopped: committed if it was drained.
		select {
		case err := <-r.err:
			return err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		// The rows may still commit; the caller has gone either way.
		return ctx.Err()
	}
}

// expired answers r if its caller is out of time, so that it is not
// written.
func expired(r *request) bool {
	if err := r.ctx.Err(); err != nil {
		r.err <- err
		return true
	}
	return false
}

// Close commits what is queued and stops the committer.
func (w *Writer) Close() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]*request, 0, MaxBatch)
	var recent recentSizes
	for {
		select {
		case r := <-w.reqs:
			if expired(r) {
				continue
			}
			batch = append(batch[:0], r)
		case <-w.stop:
			for { // drain what was queued before Close
				select {
				case r := <-w.reqs:
					if !expired(r) {
						w.commit([]*request{r})
					}
				default:
					return
				}
			}
		}
		rows := batch[0].rows()
	fill:
		for rows < MaxBatch {
			select {
			case r := <-w.reqs:
				if !expired(r) {
					batch = append(batch, r)
					rows += r.rows()
				}
			default:
				break fill
			}
		}
		if target := recent.max(); len(batch) < target && rows < MaxBatch {
			t := time.NewTimer(MaxLinger)
		linger:
			for len(batch) < target && rows < MaxBatch {
				select {
				case r := <-w.reqs:
					if !expired(r) {
						batch = append(batch, r)
						rows += r.rows()
					}
				case <-t.C:
					break linger
				}
			}
			t.Stop()
		}
		recent.add(len(batch))
		w.commit(batch)
	}
}

// recentSizes are the sizes of the last lingerWindow commits.
type recentSizes struct {
	n    [lingerWindow]int
	next int
}

func (r *recentSizes) add(n int) {
	r.n[r.next] = n
	r.next = (r.next + 1) % lingerWindow
}

func (r *recentSizes) max() int { return slices.Max(r.n[:]) }

// commit writes a batch in one transaction. If it fails and holds more
// than one request, each request is retried alone, so one bad row (say a
// duplicate id) fails only its own request; but a database that is
// unavailable, or did not answer in time, fails them all at once: retried
// one by one, each would wait as long again.
func (w *Writer) commit(batch []*request) {
	err := w.write(batch)
	if err != nil && len(batch) > 1 && !unavailable(err) {
		for _, r := range batch {
			if !expired(r) {
				r.err <- cmp.Or(w.write([]*request{r}), r.applied)
			}
		}
		return
	}
	if err != nil {
		w.log.Error("ledger commit failed", "error", err)
	}
	for _, r := range batch {
		r.err <- cmp.Or(err, r.applied)
	}
}

// unavailable reports an error of the database rather than of a row.
func unavailable(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

func (w *Writer) write(batch []*request) error {
	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), w.deadline(batch, start))
	err := w.writeTx(ctx, batch)
	cancel()
	w.observe(Commit{Requests: len(batch), Duration: time.Since(start), Err: err})
	return err
}

// deadline is the last deadline of batch's requests: the commit is of no
// use to anyone after it.
func (w *Writer) deadline(batch []*request, now time.Time) time.Time {
	var last time.Time
	for _, r := range batch {
		d, ok := r.ctx.Deadline()
		if !ok {
			return now.Add(w.timeout)
		}
		if d.After(last) {
			last = d
		}
	}
	return last
}

func (w *Writer) writeTx(ctx context.Context, batch []*request) error {
	nt, ne := 0, 0
	for _, r := range batch {
		nt, ne = nt+len(r.tokens), ne+len(r.events)
	}
	tokens := make([]store.Token, 0, nt)
	events := make([]store.AuditEvent, 0, ne)
	for _, r := range batch {
		tokens = append(tokens, r.tokens...)
		events = append(events, r.events...)
	}
	b, batched := w.st.(batchWriter)
	if batched && !slices.ContainsFunc(batch, func(r *request) bool { return r.apply != nil }) {
		// Nothing to run in the transaction first: the store may write
		// the rows in fewer round trips (one statement on PostgreSQL
		// when it knows the heads).
		return b.InsertTokensAndAppend(ctx, w.seal, tokens, events)
	}
	return w.st.Tx(ctx, func(tx store.Store) error {
		// Applied functions first and the audit chain's head last: rows
		// are locked before the head, the order revoke.Service keeps
		// (only a function that records an event itself, a revocation,
		// takes the head earlier; on PostgreSQL a deadlock with another
		// replica then fails the batch, which is retried request by
		// request).
		for _, r := range batch {
			if r.apply == nil {
				continue
			}
			r.appliedEvents = nil
			r.applied = tx.Tx(ctx, func(sp store.Store) error { return w.runApply(ctx, sp, r) })
			if r.applied == nil {
				events = append(events, r.appliedEvents...)
			}
		}
		if b, ok := tx.(batchWriter); ok {
			return b.InsertTokensAndAppend(ctx, w.seal, tokens, events)
		}
		if err := tx.Tokens().Insert(ctx, tokens...); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, w.seal, events...)
	})
}

// batchWriter is a store that writes a batch's tokens and audit events,
// all or none, in fewer statements than Tokens().Insert followed by
// Audit().Append in a transaction, with the same rows (sqldb).
type batchWriter interface {
	InsertTokensAndAppend(ctx context.Context, seal store.SealFunc, ts []store.Token, events []store.AuditEvent) error
}

// runApply runs r's function. A panic in it fails that request alone (its
// savepoint is rolled back) instead of the committer and every request
// waiting on it.
func (w *Writer) runApply(ctx context.Context, tx store.Store, r *request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("ledger: applied function panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("ledger: applied function panicked: %v", p)
		}
	}()
	r.appliedEvents, err = r.apply(ctx, tx)
	return err
}
