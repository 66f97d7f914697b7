package audit

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/reqctx"
	"github.com/tokend/tokend/internal/store"
)

// FailureWindow is how long repeated failed authentications of one key are
// counted in memory before their count is written.
const FailureWindow = time.Minute

// maxFailureWindows bounds the windows open at once; past it every window
// is closed (its count written) to make room.
const maxFailureWindows = 10000

// Throttled is the reason of a failure refused by a throttle before any
// credential was checked. Its windows are keyed without the subject and
// client the caller named, which an attacker chooses freely.
const Throttled = "throttled"

// failureKey is what repeated failures share to be counted together.
type failureKey struct {
	tenant, action, subject, clientID, source, reason string
}

type failureWindow struct {
	start, last time.Time
	// more counts the failures after the first, which was written when the
	// window opened.
	more int
}

// failures aggregates failed authentications, so that unauthenticated
// traffic cannot grow the audit log with every request: the first failure
// of a key (tenant, action, subject, client, source address, reason) is
// written at once with count 1, and the later ones of the same FailureWindow
// are counted in memory and written as one event carrying their count when
// the window closes. The counts of a key's events add up to its failures.
type failures struct {
	mu   sync.Mutex
	open map[failureKey]*failureWindow
}

// RecordFailure records a failed authentication (Outcome failure, the
// reason in Detail["reason"]) aggregated per key and FailureWindow; see
// FlushFailures. Every failure is observed (see SetObserver) at once.
func (r *Recorder) RecordFailure(ctx context.Context, e store.AuditEvent) {
	e.Outcome = Failure
	e = r.Prepare(ctx, e)
	k := failureKey{e.Tenant, e.Action, e.Subject, e.ClientID, reqctx.Source(e.RemoteAddr), e.Detail["reason"]}
	if k.reason == Throttled {
		k.subject, k.clientID = "", ""
	}
	now := r.now()
	var closed []store.AuditEvent
	r.fails.mu.Lock()
	w, ok := r.fails.open[k]
	if ok && now.Sub(w.start) >= FailureWindow {
		closed = append(closed, summary(k, w)...)
		delete(r.fails.open, k)
		ok = false
	}
	if ok {
		w.more++
		w.last = now
		r.fails.mu.Unlock()
		r.Observe(e)
		return
	}
	if len(r.fails.open) >= maxFailureWindows {
		for k, w := range r.fails.open {
			closed = append(closed, summary(k, w)...)
		}
		clear(r.fails.open)
	}
	r.fails.open[k] = &failureWindow{start: now, last: now}
	r.fails.mu.Unlock()
	_ = r.writeByTenant(ctx, closed)
	e.Detail = withCount(e.Detail, 1)
	if err := r.Record(ctx, nil, e); err != nil {
		// Not written: let the next failure of the key open the window again.
		r.fails.mu.Lock()
		if cur := r.fails.open[k]; cur != nil && cur.more == 0 {
			delete(r.fails.open, k)
		}
		r.fails.mu.Unlock()
	}
}

// FlushFailures writes the counts of the failure windows that have closed
// (all of them with all set, at shutdown) and forgets those windows.
func (r *Recorder) FlushFailures(ctx context.Context, all bool) error {
	return r.writeByTenant(ctx, r.takeWindows(r.now(), !all))
}

// writeByTenant writes events one tenant at a time, so that a tenant
// deleted meanwhile loses only its own.
func (r *Recorder) writeByTenant(ctx context.Context, events []store.AuditEvent) error {
	byTenant := map[string][]store.AuditEvent{}
	for _, e := range events {
		byTenant[e.Tenant] = append(byTenant[e.Tenant], e)
	}
	var first error
	for _, l := range byTenant {
		if err := r.write(ctx, nil, l...); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// takeWindows removes the windows older than FailureWindow (every window
// unless expiredOnly) and returns the events that carry their counts.
func (r *Recorder) takeWindows(now time.Time, expiredOnly bool) []store.AuditEvent {
	r.fails.mu.Lock()
	defer r.fails.mu.Unlock()
	var out []store.AuditEvent
	for k, w := range r.fails.open {
		if expiredOnly && now.Sub(w.start) < FailureWindow {
			continue
		}
		out = append(out, summary(k, w)...)
		delete(r.fails.open, k)
	}
	return out
}

// summary is the event closing a window: the failures after the first,
// between Detail["since"] and Detail["until"]; none when there were none.
func summary(k failureKey, w *failureWindow) []store.AuditEvent {
	if w.more == 0 {
		return nil
	}
	return []store.AuditEvent{{
		Tenant: k.tenant, Action: k.action, Outcome: Failure, Actor: k.subject, Subject: k.subject,
		ClientID: k.clientID, RemoteAddr: k.source, Time: w.last.UTC().Truncate(time.Microsecond),
		Detail: withCount(map[string]string{"reason": k.reason,
			"since": w.start.UTC().Format(time.RFC3339Nano), "until": w.last.UTC().Format(time.RFC3339Nano)}, w.more),
	}}
}

func withCount(d map[string]string, n int) map[string]string {
	out := make(map[string]string, len(d)+1)
	for k, v := range d {
		out[k] = v
	}
	out["count"] = strconv.Itoa(n)
	return out
}
