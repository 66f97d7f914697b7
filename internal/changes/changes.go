// Package changes follows the store's ordered change log so that every
// replica learns, in order and within one poll interval, what another
// replica changed, and drops what it had cached. A backend that can push
// (PostgreSQL LISTEN/NOTIFY) wakes the follower early.
package changes

import (
	"context"
	"log/slog"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// Follower polls the change log from the position it started at.
type Follower struct {
	st       store.Store
	log      *slog.Logger
	interval time.Duration
	apply    func(store.Change)
	wake     chan struct{}
	cursor   int64
}

// New returns a Follower that calls apply for every change after the
// current end of the log, polling every interval.
func New(ctx context.Context, st store.Store, interval time.Duration, log *slog.Logger, apply func(store.Change)) (*Follower, error) {
	last, err := st.Changes().Last(ctx)
	if err != nil {
		return nil, err
	}
	return &Follower{st: st, log: log, interval: interval, apply: apply, wake: make(chan struct{}, 1), cursor: last}, nil
}

// Wake makes the follower poll now; it never blocks.
func (f *Follower) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

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
		if err := f.Poll(ctx); err != nil && ctx.Err() == nil {
			f.log.WarnContext(ctx, "change log poll failed", "error", err)
		}
	}
}

// Poll applies every change after the cursor.
func (f *Follower) Poll(ctx context.Context) error {
	for {
		cs, err := f.st.Changes().After(ctx, f.cursor, 500)
		if err != nil {
			return err
		}
		for _, c := range cs {
			f.apply(c)
			f.cursor = c.Seq
		}
		if len(cs) < 500 {
			return nil
		}
	}
}
