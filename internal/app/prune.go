package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
)

// Batches of pruning: each statement deletes at most pruneBatch rows in
// its own short write transaction, and the pruner then pauses pruneRest
// times as long as the batch took (at least prunePause), so issuance (the
// group committer on SQLite, row locks on PostgreSQL) waits at most one
// batch and pruning takes at most a fifth of the database's write time.
// Every replica prunes; the deletes are idempotent, so two replicas
// pruning at once only share the work.
const (
	pruneBatch = 1000
	prunePause = 10 * time.Millisecond
	pruneRest  = 4
)

// pruner deletes rows nothing needs any more (see run).
type pruner struct {
	st     store.Store
	revoke *revoke.Service
	// checkpoints signs what audit retention leaves of a pruned chain.
	checkpoints audit.Checkpoints
	log         *slog.Logger
	after       time.Duration // ledger retention past expiry and lifetime
	batch       int
	pause       time.Duration
	rows        *prometheus.CounterVec
}

func newPruner(st store.Store, rv *revoke.Service, cps audit.Checkpoints, log *slog.Logger, after time.Duration, reg prometheus.Registerer) *pruner {
	rows := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_pruned_rows_total", Help: "Rows deleted by pruning, by table.",
	}, []string{"table"})
	if reg != nil {
		reg.MustRegister(rows)
	}
	return &pruner{st: st, revoke: rv, checkpoints: cps, log: log, after: after, batch: pruneBatch, pause: prunePause, rows: rows}
}

// run prunes once, as of now, and returns the rows deleted by table:
//   - tokens: ledger rows whose expiry and lifetime both ended more than
//     the retention ago (spent refresh tokens included); never eternal ones;
//   - nonces: signed-request signatures and client assertion ids whose
//     accepted window is over;
//   - throttle: failed-login counters whose last failure and block ended
//     more than pruneGrace ago;
//   - revocations: entries every token they match has expired under
//     (revoke.Service.Prune), from the table and the deny-list;
//   - assertion_jtis: jwt-bearer jtis whose assertion has expired;
//   - changes: change-log entries older than pruneGrace (never the newest);
//   - audit: the audit events of each tenant with an audit_retention that
//     are older than it, oldest first, leaving a signed checkpoint.
//
// A failing table is logged and skipped until the next run.
func (p *pruner) run(ctx context.Context, now time.Time) map[string]int {
	steps := []struct {
		table string
		del   func(limit int) (int, error)
	}{
		{"tokens", func(l int) (int, error) { return p.st.Tokens().DeleteExpired(ctx, now.Add(-p.after), l) }},
		{"nonces", func(l int) (int, error) { return p.st.Nonces().DeleteExpired(ctx, now, l) }},
		{"assertion_jtis", func(l int) (int, error) { return p.st.TrustedIssuers().DeleteExpiredJTIs(ctx, now, l) }},
		{"throttle", func(l int) (int, error) { return p.st.Throttle().DeleteBefore(ctx, now.Add(-pruneGrace), l) }},
		{"revocations", func(l int) (int, error) { return p.revoke.Prune(ctx, l) }},
		{"changes", func(l int) (int, error) { return p.st.Changes().DeleteBefore(ctx, now.Add(-pruneGrace), l) }},
	}
	out := make(map[string]int, len(steps))
	for _, s := range steps {
		for ctx.Err() == nil {
			began := time.Now()
			n, err := s.del(p.batch)
			out[s.table] += n
			p.rows.WithLabelValues(s.table).Add(float64(n))
			if err != nil {
				p.log.Warn("pruning failed", "table", s.table, "error", err)
				break
			}
			if n < p.batch {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(max(p.pause, pruneRest*time.Since(began))):
			}
		}
	}
	if n, err := p.pruneAudit(ctx, now); err != nil {
		p.log.Warn("pruning failed", "table", "audit", "error", err)
		out["audit"] = n
	} else {
		out["audit"] = n
	}
	return out
}

// pruneAudit applies every tenant's audit_retention.
func (p *pruner) pruneAudit(ctx context.Context, now time.Time) (int, error) {
	total := 0
	pg := store.Page{Limit: 500}
	for ctx.Err() == nil {
		l, err := p.st.Tenants().List(ctx, pg)
		if err != nil {
			return total, err
		}
		for _, t := range l {
			if t.Policy.AuditRetention <= 0 {
				continue
			}
			before := now.Add(-time.Duration(t.Policy.AuditRetention) * time.Second)
			n, err := p.checkpoints.Prune(ctx, p.st, t.ID, before, p.batch, p.pause)
			total += n
			p.rows.WithLabelValues("audit").Add(float64(n))
			if err != nil {
				p.log.Warn("pruning failed", "table", "audit", "tenant", t.ID, "error", err)
			}
		}
		if len(l) < pg.Limit {
			break
		}
		pg.After = l[len(l)-1].ID
	}
	return total, ctx.Err()
}
