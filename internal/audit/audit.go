// Package audit records what happened in a tenant as a tamper-evident log:
// each event carries the SHA-256 hash of its content and of the previous
// event of its tenant, so removing, reordering or editing an event breaks
// the chain, which Verify detects.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/tokend/tokend/internal/reqctx"
	"github.com/tokend/tokend/internal/store"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Recorder appends audit events.
type Recorder struct {
	st  store.Store
	log *slog.Logger
	now func() time.Time
	w   Writer
	// observe, when set, sees every event recorded.
	observe func(store.AuditEvent)
	fails   failures
}

// Writer group-commits audit events (and ledger rows); see package ledger.
type Writer interface {
	Write(ctx context.Context, tokens []store.Token, events []store.AuditEvent) error
}

// SetWriter makes Record group-commit the events it is not given a
// transaction for.
func (r *Recorder) SetWriter(w Writer) { r.w = w }

// SetObserver has f called with every event as it is recorded (for
// metrics: issuances, revocations, failed authentications).
func (r *Recorder) SetObserver(f func(store.AuditEvent)) { r.observe = f }

// New returns a Recorder writing to st.
func New(st store.Store, log *slog.Logger, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{st: st, log: log, now: now, fails: failures{open: map[failureKey]*failureWindow{}}}
}

// Record appends e through st (pass a transaction-bound store to make the
// event part of a change, nil to use the recorder's own). The request's
// remote address, user agent and id are filled from ctx.
func (r *Recorder) Record(ctx context.Context, st store.Store, e store.AuditEvent) error {
	e = r.Prepare(ctx, e)
	if err := r.write(ctx, st, e); err != nil {
		return err
	}
	r.Observe(e)
	return nil
}

// write appends prepared events through st, the writer or the recorder's
// store, in that order of preference.
func (r *Recorder) write(ctx context.Context, st store.Store, events ...store.AuditEvent) error {
	var err error
	switch {
	case st != nil:
		err = st.Audit().Append(ctx, Seal, events...)
	case r.w != nil:
		err = r.w.Write(ctx, nil, events)
	default:
		err = r.st.Audit().Append(ctx, Seal, events...)
	}
	if err != nil {
		r.log.ErrorContext(ctx, "audit append failed", "tenant", events[0].Tenant, "action", events[0].Action, "events", len(events), "error", err)
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Observe hands recorded events to the observer (see SetObserver). Record
// does it itself; whoever writes prepared events another way calls it
// once they are committed, so that an event whose write failed or was
// abandoned is never counted.
func (r *Recorder) Observe(events ...store.AuditEvent) {
	if r.observe == nil {
		return
	}
	for _, e := range events {
		r.observe(e)
	}
}

// Prepare fills an event's request details (remote address, user agent,
// request id and, in Detail["surface"], the compatible surface, from
// ctx), its time and its default outcome.
func (r *Recorder) Prepare(ctx context.Context, e store.AuditEvent) store.AuditEvent {
	info := reqctx.From(ctx)
	if e.RemoteAddr == "" {
		e.RemoteAddr = info.RemoteAddr
	}
	if e.UserAgent == "" {
		e.UserAgent = info.UserAgent
	}
	e.UserAgent = truncate(e.UserAgent, maxUserAgent)
	if e.RequestID == "" {
		e.RequestID = info.RequestID
	}
	if e.Time.IsZero() {
		e.Time = r.now().UTC().Truncate(time.Microsecond)
	}
	if e.Outcome == "" {
		e.Outcome = Success
	}
	if info.Surface != "" {
		// The event names the compatible surface the request came through.
		d := make(map[string]string, len(e.Detail)+1)
		for k, v := range e.Detail {
			d[k] = v
		}
		d["surface"] = info.Surface
		e.Detail = d
	}
	return e
}

// maxUserAgent bounds the user agent an event keeps: the caller chooses it.
const maxUserAgent = 256

// truncate cuts s to at most n bytes, at a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Seal sets e.Hash from e's content and e.PrevHash.
func Seal(e *store.AuditEvent) { e.Hash = Hash(e) }

// Hash is the chained hash of an event: SHA-256 over a length-prefixed
// encoding of every field but Hash itself.
func Hash(e *store.AuditEvent) []byte {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	str := func(s string) { put([]byte(s)) }
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.Time.UnixMicro()))
	h.Write(n[:])
	for _, s := range []string{e.Tenant, e.Action, e.Outcome, e.Actor, e.Subject, e.ClientID, e.RemoteAddr, e.UserAgent, e.RequestID} {
		str(s)
	}
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	binary.BigEndian.PutUint64(n[:], uint64(len(keys)))
	h.Write(n[:])
	for _, k := range keys {
		str(k)
		str(e.Detail[k])
	}
	put(e.PrevHash)
	return h.Sum(nil)
}

// Result is the outcome of verifying a tenant's chain.
type Result struct {
	OK     bool  `json:"ok"`
	Events int64 `json:"events"`
	// Pruned is how many of the chain's first events retention deleted;
	// the chain is verified from their signed checkpoint on.
	Pruned   int64  `json:"pruned,omitempty"`
	BrokenAt int64  `json:"broken_at,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Verify walks a tenant's whole audit log and checks every link, from the
// signed checkpoint of the events retention deleted, if any (cps holds
// its key).
func Verify(ctx context.Context, st store.Store, tenant string, cps Checkpoints) (Result, error) {
	for attempt := 0; ; attempt++ {
		res, err := verify(ctx, st, tenant, cps)
		// Pruning between reading the checkpoint and the first events
		// looks like missing events: read the checkpoint again, once.
		if err == nil && !res.OK && res.Events == 0 && attempt == 0 && res.Reason == missing(res.BrokenAt) {
			continue
		}
		return res, err
	}
}

func missing(seq int64) string { return fmt.Sprintf("event %d is missing", seq) }

func verify(ctx context.Context, st store.Store, tenant string, cps Checkpoints) (Result, error) {
	after, prev, broken, err := verifyFrom(ctx, st, tenant, cps)
	if err != nil || broken != nil {
		if broken != nil {
			return *broken, nil
		}
		return Result{}, err
	}
	res := Result{Pruned: after}
	for {
		evs, err := st.Audit().List(ctx, tenant, store.AuditFilter{AfterSeq: after, Limit: 1000})
		if err != nil {
			return res, err
		}
		for i := range evs {
			e := &evs[i]
			switch {
			case e.Seq != after+1:
				return Result{Events: res.Events, Pruned: res.Pruned, BrokenAt: after + 1, Reason: missing(after + 1)}, nil
			case string(e.PrevHash) != string(prev):
				return Result{Events: res.Events, Pruned: res.Pruned, BrokenAt: e.Seq, Reason: "previous-hash link does not match"}, nil
			case string(Hash(e)) != string(e.Hash):
				return Result{Events: res.Events, Pruned: res.Pruned, BrokenAt: e.Seq, Reason: "event content does not match its hash"}, nil
			}
			prev, after = e.Hash, e.Seq
			res.Events++
		}
		if len(evs) < 1000 {
			res.OK = true
			return res, nil
		}
	}
}
