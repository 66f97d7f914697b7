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
	changePoll = 250 * time.Millisecond
	// failureFlush is how often closed failure windows are written.
	failureFlush = 5 * time.Second
	// pruneGrace keeps old change-log entries and throttle counters a while.
	pruneGrace = 24 * time.Hour
)

// revocationLag is how far behind the revocation log this replica may be
// before its revocation state counts as stale (see Config.StaleFor).
const revocationLag = 2 * time.Second

// startBackground starts the change-log follower and, unless
// --prune-interval is 0, the pruner.
func (a *App) startBackground(ctx context.Context) {
	go a.follow(ctx)
	if a.cfg.RequireSynchronousStandby && a.pg != nil {
		go a.watchStandby(ctx)
	}
	a.runAuditSinks(ctx)
	if a.cfg.PruneInterval > 0 {
		go every(ctx, a.cfg.PruneInterval, func() { a.pruner.run(ctx, time.Now()) })
	}
	// The counts of closed failed-authentication windows (see
	// audit.Recorder.RecordFailure); Close writes the rest. A failed write
	// is logged by the recorder.
	go every(ctx, failureFlush, func() { _ = a.audit.FlushFailures(ctx, false) })
	go every(ctx, min(time.Minute, a.cfg.KeyRotationStage/4), func() { _, _ = a.RotateKeys(ctx, time.Now()) })
}

// RotateKeys records the staged key rotations due at now (signing has
// switched on its own at their time) and stages the scheduled ones
// (key_rotation_period) due at now; it returns the tenants whose rotation
// it staged. Every replica runs it; both steps are transactions that a
// concurrent run on another replica cannot do twice.
func (a *App) RotateKeys(ctx context.Context, now time.Time) ([]string, error) {
	if _, err := a.keys.PromoteDue(ctx, 1000); err != nil {
		a.log.ErrorContext(ctx, "key rotation not recorded", "error", err)
	}
	rotated, err := a.dir.RotateScheduled(ctx, now)
	if err != nil {
		a.log.ErrorContext(ctx, "scheduled key rotations not checked", "error", err)
	}
	for _, t := range rotated {
		a.log.InfoContext(ctx, "key rotation staged", "tenant", t)
	}
	return rotated, err
}

// standbyCheck is how often --require-synchronous-standby asks the server
// whether it has a synchronous standby.
const standbyCheck = 5 * time.Second

// watchStandby records for /readyz, at once and every standbyCheck, whether
// the PostgreSQL server has a synchronous standby that commits wait for
// (--require-synchronous-standby), logging each change.
func (a *App) watchStandby(ctx context.Context) {
	check := func() {
		cctx, cancel := context.WithTimeout(ctx, standbyCheck)
		defer cancel()
		p, err := a.pg.SynchronousStandby(cctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p = "synchronous standby not known: " + err.Error()
		}
		if old := a.replication.Swap(&p); old == nil || *old != p {
			if p == "" {
				a.log.Info("synchronous standby present")
			} else {
				a.log.Warn("not ready: no synchronous standby", "reason", p)
			}
		}
	}
	check()
	every(ctx, standbyCheck, check)
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
			f.OnRewind = a.rewound
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

// rewound handles a change log that went back at a failover (see
// changes.Follower.Poll): the revocation log, which went back too, is read
// again from its start and merged into the deny-list (so that revocations
// made since, which may reuse the numbers of lost ones, are not skipped,
// and those lost stay in force here). /readyz stays 503 from then on:
// writes this replica saw are gone from the database, and its caches
// (keys, clients) may hold them until it restarts.
func (a *App) rewound(ctx context.Context, cursor, last int64) {
	if err := a.revoke.Resync(ctx); err != nil {
		// The next revocation change syncs again; the cursor is rewound.
		a.log.ErrorContext(ctx, "revocation log not read again", "error", err)
	}
	p := fmt.Sprintf("the change log went back from %d to %d at a failover (changes lost: asynchronous replication, or writes that timed out waiting for a synchronous standby): restart this replica to reload its caches", cursor, last)
	a.rewind.Store(&p)
}

// applyChange drops caches another replica made stale and applies new
// revocations to the deny-list.
func (a *App) applyChange(ctx context.Context, c store.Change) error {
	a.authn.Invalidate(c)
	a.binding.Invalidate(c)
	a.xchg.Invalidate(c)
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

// Prune runs one pruning pass as of now (see pruner.run) and returns the
// rows deleted by table; the server runs it every --prune-interval.
func (a *App) Prune(ctx context.Context, now time.Time) map[string]int {
	return a.pruner.run(ctx, now)
}
