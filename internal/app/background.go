package app

import (
	"context"
	"fmt"
	"time"

	"github.com/tokend/tokend/internal/changes"
	"github.com/tokend/tokend/internal/store"
)

// Intervals of the background work.
const (
	changePoll    = 250 * time.Millisecond
	pruneInterval = 10 * time.Minute
	// failureFlush is how often closed failure windows are written.
	failureFlush = 5 * time.Second
	// pruneGrace keeps expired ledger rows a while for audit and listing.
	pruneGrace = 24 * time.Hour
)

// revocationLag is how far behind the revocation log this replica may be
// before its revocation state counts as stale (see Config.StaleFor).
const revocationLag = 2 * time.Second

// startBackground starts the change-log follower and the pruner.
func (a *App) startBackground(ctx context.Context) {
	go a.follow(ctx)
	go every(ctx, pruneInterval, func() { a.prune(ctx) })
	// The counts of closed failed-authentication windows (see
	// audit.Recorder.RecordFailure); Close writes the rest. A failed write
	// is logged by the recorder.
	go every(ctx, failureFlush, func() { _ = a.audit.FlushFailures(ctx, false) })
}

// every runs f every d until ctx is done.
func every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// follow starts the change-log follower, trying again every second while
// the database cannot be read, and runs it until ctx is done.
func (a *App) follow(ctx context.Context) {
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, changes.PollTimeout)
		f, err := changes.New(pctx, a.st, changePoll, a.log, a.applyChange)
		if err == nil {
			// Revocations made since start-up, before the log was followed.
			err = a.revoke.Sync(pctx)
		}
		cancel()
		if err == nil {
			a.follower.Store(f)
			if a.pg != nil {
				go func() { _ = a.pg.Listen(ctx, f.Wake) }()
			}
			f.Run(ctx)
			return
		}
		a.log.Error("change log follower not started", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// applyChange drops caches another replica made stale and applies new
// revocations to the deny-list.
func (a *App) applyChange(ctx context.Context, c store.Change) error {
	a.engine.Invalidate(c)
	switch c.Entity {
	case store.EntityKey, store.EntityTenant:
		a.keys.Invalidate(c.Tenant)
		a.verifier.Invalidate(c.Tenant)
	case store.EntityRevocation:
		if err := a.revoke.Sync(ctx); err != nil {
			return fmt.Errorf("revocation sync: %w", err)
		}
	}
	return nil
}

// revocationsCurrent reports when the deny-list may be missing revocations
// for longer than the stale window allows: the revocation log has not been
// read since.
func (a *App) revocationsCurrent() error {
	synced := a.startSync
	if f := a.follower.Load(); f != nil {
		synced = f.Synced()
	}
	if lag := time.Since(synced); lag > revocationLag+a.cfg.StaleFor {
		return fmt.Errorf("revocation log not read for %s", lag.Round(time.Millisecond))
	}
	return nil
}

// prune deletes expired ledger rows, old change-log entries, expired
// revocations and old throttle counts, once.
func (a *App) prune(ctx context.Context) {
	now := time.Now()
	for {
		n, err := a.st.Tokens().DeleteExpired(ctx, now.Add(-pruneGrace), 5000)
		if err != nil {
			a.log.Warn("pruning tokens failed", "error", err)
			break
		}
		if n < 5000 {
			break
		}
	}
	if _, err := a.st.Changes().DeleteBefore(ctx, now.Add(-pruneGrace)); err != nil {
		a.log.Warn("pruning change log failed", "error", err)
	}
	if err := a.revoke.Prune(ctx); err != nil {
		a.log.Warn("pruning revocations failed", "error", err)
	}
	if _, err := a.st.Throttle().DeleteBefore(ctx, now.Add(-pruneGrace)); err != nil {
		a.log.Warn("pruning login throttle failed", "error", err)
	}
}
