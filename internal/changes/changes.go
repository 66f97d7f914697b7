// Package changes follows the store's ordered change log so that every
// replica learns, in order and within one poll interval, what another
// replica changed, and drops what it had cached. A backend that can push
// (PostgreSQL LISTEN/NOTIFY) wakes the follower early.
package changes

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// PollTimeout bounds one poll, so that a database that stopped answering
// shows as a failed poll instead of a follower stuck in it.
const PollTimeout = 5 * time.Second

// Follower polls the change log from the position it started at.
type Follower struct {
	st       store.Store
	log      *slog.Logger
	interval time.Duration
	apply    func(context.Context, store.Change) error
	wake     chan struct{}
	cursor   int64
	// synced is when the last complete poll started (Unix nanoseconds).
	synced atomic.Int64
	// checked is when the end of the log was last compared with the
	// cursor; failed says the last poll failed (see Poll).
	checked time.Time
	failed  bool
	// OnRewind, when set, is called when the log ends before the cursor
	// (see Poll); set it before Run.
	OnRewind func(ctx context.Context, cursor, last int64)
}

// RewindCheck is how often, at most, a follower whose polls succeed
// compares the end of the log with its cursor; after a failed poll it does
// at the next one.
const RewindCheck = time.Second

// New returns a Follower that calls apply for every change after the
// current end of the log, polling every interval. A change whose apply
// fails is applied again at the next poll, with those after it.
func New(ctx context.Context, st store.Store, interval time.Duration, log *slog.Logger, apply func(context.Context, store.Change) error) (*Follower, error) {
	start := time.Now()
	last, err := st.Changes().Last(ctx)
	if err != nil {
		return nil, err
	}
	f := &Follower{st: st, log: log, interval: interval, apply: apply, wake: make(chan struct{}, 1), cursor: last}
	f.synced.Store(start.UnixNano())
	return f, nil
}

// Wake makes the follower poll now; it never blocks.
func (f *Follower) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Synced returns when the last complete poll started: every change
// committed before then has been applied.
func (f *Follower) Synced() time.Time { return time.Unix(0, f.synced.Load()) }

// Run polls until ctx is done.
func (f *Follower) Run(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.wake:
		}
		pctx, cancel := context.WithTimeout(ctx, PollTimeout)
		err := f.Poll(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			f.log.WarnContext(ctx, "change log poll failed", "error", err)
		}
	}
}

// Poll applies every change after the cursor.
//
// A log that ends before the cursor went back: the database failed over
// to a copy that misses the last changes (asynchronous replication), and
// its next changes reuse the missing numbers. Poll then reads the whole log
// again (applying a change twice only drops a cache again), so that
// changes made since the failover under those numbers are applied too, and
// calls OnRewind. It checks after every failed poll (a failover fails
// them) and at most every RewindCheck otherwise.
func (f *Follower) Poll(ctx context.Context) (err error) {
	start := time.Now()
	defer func() { f.failed = err != nil }()
	if f.failed || start.Sub(f.checked) >= RewindCheck {
		last, err := f.st.Changes().Last(ctx)
		if err != nil {
			return err
		}
		f.checked = start
		if last < f.cursor {
			f.log.ErrorContext(ctx, "change log went back: changes were lost at a failover", "cursor", f.cursor, "last", last)
			cursor := f.cursor
			f.cursor = 0
			if f.OnRewind != nil {
				f.OnRewind(ctx, cursor, last)
			}
		}
	}
	for {
		cs, err := f.st.Changes().After(ctx, f.cursor, 500)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := f.apply(ctx, c); err != nil {
				return err
			}
			f.cursor = c.Seq
		}
		if len(cs) < 500 {
			f.synced.Store(start.UnixNano())
			return nil
		}
	}
}
