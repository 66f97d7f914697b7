package app

import (
	"context"
	"time"

	"github.com/tokend/tokend/internal/changes"
	"github.com/tokend/tokend/internal/store"
)

// Intervals of the background work.
const (
	changePoll    = 250 * time.Millisecond
	pruneInterval = 10 * time.Minute
	// pruneGrace keeps expired ledger rows a while for audit and listing.
	pruneGrace = 24 * time.Hour
)

// startBackground starts the change-log follower and the pruner.
func (a *App) startBackground(ctx context.Context) {
	f, err := changes.New(ctx, a.st, changePoll, a.log, a.applyChange)
	if err != nil {
		a.log.Error("change log follower not started", "error", err)
	} else {
		go f.Run(ctx)
		if a.pg != nil {
			go func() { _ = a.pg.Listen(ctx, f.Wake) }()
		}
	}
	go a.prune(ctx)
}

// applyChange drops caches another replica made stale and applies new
// revocations to the deny-list.
func (a *App) applyChange(c store.Change) {
	a.engine.Invalidate(c)
	switch c.Entity {
	case store.EntityKey, store.EntityTenant:
		a.keys.Invalidate(c.Tenant)
		a.verifier.Invalidate(c.Tenant)
	case store.EntityRevocation:
		if err := a.revoke.Sync(context.Background()); err != nil {
			a.log.Warn("revocation sync failed", "error", err)
		}
	}
}

// prune deletes expired ledger rows and old change-log entries.
func (a *App) prune(ctx context.Context) {
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
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
}
