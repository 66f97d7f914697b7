package auditsink

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// Sink is where a [Forwarder] delivers events.
type Sink interface {
	// Name names the sink in logs and metrics ("webhook", "syslog").
	Name() string
	// Send delivers events, all of tenant and consecutive in its chain.
	// An error means that the batch may not have arrived: it is sent
	// again, whole.
	Send(ctx context.Context, tenant string, events []store.AuditEvent) error
	// Close releases the sink's connections; Run calls it when it ends.
	Close()
}

// Defaults of [Options].
const (
	DefaultBatch      = 100
	DefaultAttempts   = 5
	DefaultBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff = time.Minute
	// MaxBatch is the largest batch: the audit listing returns at most
	// 1000 events, one of them the last one delivered.
	MaxBatch = 999
)

// Options configure a [Forwarder].
type Options struct {
	Store store.Store
	Sink  Sink
	// Cursor is the file the last delivered event of each tenant is kept
	// in; a missing file delivers every tenant's chain from its start.
	Cursor string
	Log    *slog.Logger
	// Interval is how often every tenant's chain is read for new events
	// when nothing wakes the forwarder sooner.
	Interval time.Duration
	// Batch is the most events sent at once (DefaultBatch when 0).
	Batch int
	// Attempts bounds how often a batch is sent before the pass gives up
	// (DefaultAttempts when 0); the next pass, after a back-off that
	// doubles from Backoff up to MaxBackoff, sends it again.
	Attempts            int
	Backoff, MaxBackoff time.Duration
	// Delivered, when set, is told how many events each delivered batch
	// held; Failed of each failed attempt.
	Delivered func(n int)
	Failed    func()
}

// Forwarder delivers every tenant's audit events to a sink, at least
// once and in chain order per tenant. Its Run is its only goroutine.
type Forwarder struct {
	o    Options
	cur  *cursorFile
	wake chan struct{}
}

// New loads the cursor and returns a forwarder; Run starts it.
func New(o Options) (*Forwarder, error) {
	if o.Store == nil || o.Sink == nil || o.Cursor == "" {
		return nil, errors.New("auditsink: Store, Sink and Cursor are required")
	}
	if o.Interval <= 0 {
		return nil, errors.New("auditsink: Interval must be positive")
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	if o.Batch < 1 || o.Batch > MaxBatch {
		return nil, fmt.Errorf("auditsink: Batch must be 1..%d, got %d", MaxBatch, o.Batch)
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Delivered == nil {
		o.Delivered = func(int) {}
	}
	if o.Failed == nil {
		o.Failed = func() {}
	}
	cur, err := loadCursor(o.Cursor)
	if err != nil {
		return nil, err
	}
	o.Log = o.Log.With("sink", o.Sink.Name())
	return &Forwarder{o: o, cur: cur, wake: make(chan struct{}, 1)}, nil
}

// Wake makes a waiting forwarder read the chains now (an event was
// recorded). It never blocks; a forwarder backing off after a failure
// waits its back-off out.
func (f *Forwarder) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done: a pass over every tenant, then a wait
// of Interval (or until Wake), or after a failed pass a back-off.
func (f *Forwarder) Run(ctx context.Context) {
	defer f.o.Sink.Close()
	fails := 0
	for ctx.Err() == nil {
		err := f.Pass(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fails++
			wait := f.backoff(fails + f.o.Attempts - 1)
			f.o.Log.Warn("audit events not delivered; trying again", "error", err, "retry_in", wait.String())
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			continue
		}
		fails = 0
		select {
		case <-ctx.Done():
		case <-f.wake:
		case <-time.After(f.o.Interval):
		}
	}
}

// backoff is the wait after the n-th consecutive failed attempt.
func (f *Forwarder) backoff(n int) time.Duration {
	d := f.o.Backoff
	for i := 1; i < n && d < f.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, f.o.MaxBackoff)
}

// Pass delivers every tenant's events recorded since the last delivered
// one. It stops at the first batch it could not deliver.
func (f *Forwarder) Pass(ctx context.Context) error {
	pg := store.Page{Limit: 500}
	for {
		l, err := f.o.Store.Tenants().List(ctx, pg)
		if err != nil {
			return fmt.Errorf("list tenants: %w", err)
		}
		for _, t := range l {
			if err := f.tenant(ctx, t.ID); err != nil {
				return err
			}
		}
		if len(l) < pg.Limit {
			return nil
		}
		pg.After = l[len(l)-1].ID
	}
}

// tenant delivers one tenant's new events. It reads from the last
// delivered event on, to check that it is still the one delivered: a
// chain whose event at the cursor has another hash (or is gone while no
// checkpoint covers it) was replaced, by a tenant deleted and created
// again, and is delivered from its start.
func (f *Forwarder) tenant(ctx context.Context, ten string) error {
	for ctx.Err() == nil {
		pos := f.cur.at[ten]
		l, err := f.o.Store.Audit().List(ctx, ten, store.AuditFilter{AfterSeq: max(pos.Seq-1, 0), Limit: f.o.Batch + 1})
		if err != nil {
			return fmt.Errorf("read audit events of %s: %w", ten, err)
		}
		if pos.Seq > 0 {
			if len(l) > 0 && l[0].Seq == pos.Seq {
				if hex.EncodeToString(l[0].Hash) != pos.Hash {
					f.replaced(ten, pos)
					continue
				}
				l = l[1:]
			} else {
				// The last delivered event is gone: pruned, or its chain replaced.
				cp, err := f.o.Store.Audit().Checkpoint(ctx, ten)
				switch {
				case errors.Is(err, store.ErrNotFound) || (err == nil && cp.Seq < pos.Seq):
					f.replaced(ten, pos)
					continue
				case err != nil:
					return fmt.Errorf("read audit checkpoint of %s: %w", ten, err)
				}
			}
		}
		if len(l) == 0 {
			return nil
		}
		more := len(l) >= f.o.Batch
		if len(l) > f.o.Batch {
			l = l[:f.o.Batch]
		}
		if first := l[0].Seq; first != pos.Seq+1 {
			f.o.Log.Warn("audit events pruned before they were delivered", "tenant", ten, "from_seq", pos.Seq+1, "to_seq", first-1)
		}
		if err := f.send(ctx, ten, l); err != nil {
			return err
		}
		last := l[len(l)-1]
		if err := f.cur.set(f.o.Sink.Name(), ten, position{Seq: last.Seq, Hash: hex.EncodeToString(last.Hash)}); err != nil {
			// Delivered but not recorded: sent again later, at least once.
			return err
		}
		f.o.Delivered(len(l))
		if !more {
			return nil
		}
	}
	return ctx.Err()
}

// replaced forgets a tenant's position in a chain that no longer exists.
func (f *Forwarder) replaced(ten string, pos position) {
	f.o.Log.Warn("audit chain replaced since its last delivered event (tenant deleted and created again); delivering it from its start",
		"tenant", ten, "seq", pos.Seq)
	delete(f.cur.at, ten)
}

// send delivers one batch, trying up to Attempts times with back-off.
func (f *Forwarder) send(ctx context.Context, ten string, l []store.AuditEvent) error {
	for attempt := 1; ; attempt++ {
		err := f.o.Sink.Send(ctx, ten, l)
		if err == nil {
			return nil
		}
		f.o.Failed()
		if attempt >= f.o.Attempts || ctx.Err() != nil {
			return fmt.Errorf("tenant %s, seq %d to %d, %d attempts: %w", ten, l[0].Seq, l[len(l)-1].Seq, attempt, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.backoff(attempt)):
		}
	}
}
