package authn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/reqctx"
	"github.com/tokend/tokend/internal/store"
)

// DefaultClientThrottle allows 5 failed client authentications per client
// and address and 20 per address, then blocks for 1 s, doubling up to 15
// minutes.
func DefaultClientThrottle() *Throttle {
	return &Throttle{Free: 5, AddrFree: 20, Base: time.Second, Max: 15 * time.Minute}
}

// clientName is the client id as throttles and failure events record it:
// an id no client can have (ValidID refuses it) is recorded by its digest,
// so a caller cannot store arbitrary text through it.
func clientName(id string) string {
	if principal.ValidID(id) == nil {
		return id
	}
	return digest(id)
}

// digest names a value the caller chose freely by a short hash of it.
func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return "~" + hex.EncodeToString(h[:8])
}

// clientKeys are the throttle keys of a client authentication: the client
// from this address, and the address, both within the tenant. There is no
// key for the client alone: a caller who knows a client id must not be
// able to lock the client out from its own addresses (RFC 6749 §2.3.1
// asks for brute-force protection, not a lock-out).
func clientKeys(ctx context.Context, tenant, id string) []string {
	src := reqctx.Source(reqctx.From(ctx).RemoteAddr)
	if src == "" {
		return nil
	}
	return []string{"client\x1f" + tenant + "\x1f" + clientName(id) + "\x1f" + src, "caddr\x1f" + tenant + "\x1f" + src}
}

// clientThrottleCheck refuses a client authentication while the client is
// blocked from this address, or the address is.
//
// A successful authentication must not cost a database round trip, so the
// shared counters (in the database, so every replica counts the same
// failures) are read only for keys this replica has seen fail lately (see
// hints). A key that failed only on other replicas is therefore let
// through once on this one: that attempt's failure is counted in the
// shared row, whose answer then blocks the key here too. With R replicas a
// blocked key gets at most R-1 extra attempts, each counted.
func (a *Authenticator) clientThrottleCheck(ctx context.Context, tenant, id string) error {
	now := a.now()
	if a.hints.quiet(now) {
		return nil
	}
	for _, k := range clientKeys(ctx, tenant, id) {
		until, seen := a.hints.get(k, now)
		if !seen {
			continue
		}
		if !until.After(now) {
			// While the database cannot be read, the last known state
			// (this replica's own count) decides, as for cached clients.
			if err := a.shared(ctx, func(ctx context.Context) (err error) {
				_, until, err = a.st.Throttle().Get(ctx, k)
				return err
			}); err == nil {
				a.hints.learn(k, until, now)
			}
		}
		if until.After(now) {
			wait := until.Sub(now)
			return fault.RateLimited("too many failed client authentications; retry in %d s", int(math.Ceil(wait.Seconds()))).WithRetryAfter(wait).WithCause(fault.ErrClientThrottled)
		}
	}
	return nil
}

// shared runs a read or write of the shared throttle rows, bounded like
// the probe of a stale cache entry (staleProbe) and skipped while the
// database is known to be down, so that an outage costs a throttled key
// no wait.
func (a *Authenticator) shared(ctx context.Context, f func(context.Context) error) error {
	a.cache.mu.Lock()
	down := time.Now().Before(a.cache.downUntil)
	a.cache.mu.Unlock()
	if down {
		return store.ErrUnavailable
	}
	pctx, cancel := context.WithTimeout(ctx, staleProbe)
	defer cancel()
	err := f(pctx)
	if errors.Is(err, store.ErrUnavailable) && ctx.Err() == nil {
		a.cache.mu.Lock()
		a.cache.downUntil = time.Now().Add(staleRetry)
		a.cache.mu.Unlock()
	}
	return err
}

// clientThrottleFail counts a failed client authentication.
func (a *Authenticator) clientThrottleFail(ctx context.Context, tenant, id string) {
	now := a.now()
	for i, k := range clientKeys(ctx, tenant, id) {
		free := a.clientThrottle.Free
		if i == 1 {
			free = a.clientThrottle.AddrFree
		}
		backoff := a.clientThrottle.backoff(free)
		var n int
		err := a.shared(ctx, func(ctx context.Context) (err error) {
			n, err = a.st.Throttle().Fail(ctx, k, now, backoff)
			return err
		})
		if err != nil {
			// Not shared: count it here, so that an outage does not lift
			// the throttle on this replica.
			a.log.WarnContext(ctx, "client throttle not updated", "error", err)
			n = a.hints.fails(k, now) + 1
		}
		a.hints.put(k, n, now.Add(backoff(n)), now)
	}
}

// clientThrottleReset forgets the client's failures from this address
// after it authenticated (the address's count stays: one good client must
// not clear an address guessing at others). It costs nothing unless this
// replica saw the key fail.
func (a *Authenticator) clientThrottleReset(ctx context.Context, tenant, id string) {
	if a.hints.quiet(a.now()) {
		return
	}
	keys := clientKeys(ctx, tenant, id)
	if len(keys) == 0 || !a.hints.forget(keys[0], a.now()) {
		return
	}
	if err := a.st.Throttle().Reset(ctx, keys[0]); err != nil {
		a.log.WarnContext(ctx, "client throttle not reset", "error", err)
	}
}

// hintTTL is how long a replica remembers a key it saw fail, past its
// block.
const hintTTL = 15 * time.Minute

// maxHints bounds the keys remembered.
const maxHints = 100000

// hints are the throttle keys this replica saw fail lately, with the end
// of their block as last known. A key absent from them had no failure
// here, so its shared row is not read. When more keys failed than can be
// remembered, every key is read from the database until the oldest hints
// expire (overflow), so forgetting never lets a blocked key through.
type hints struct {
	mu       sync.Mutex
	m        map[string]hint
	overflow time.Time
	// busyUntil (unix nanoseconds) is the latest expiry of any hint put,
	// overflow included: past it no hint can be live, and the successful
	// authentications of a replica that saw no failure lately take no lock
	// and build no key.
	busyUntil atomic.Int64
}

// quiet reports that no hint can be live at now.
func (h *hints) quiet(now time.Time) bool { return now.UnixNano() > h.busyUntil.Load() }

type hint struct {
	until, expires time.Time
	// n is the failure count last known (the shared one, or this
	// replica's own while the database cannot be written).
	n int
}

func newHints() *hints { return &hints{m: map[string]hint{}} }

// get returns the last known end of k's block, and whether the shared row
// must be consulted at all.
func (h *hints) get(k string, now time.Time) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x, ok := h.m[k]
	if ok && now.After(x.expires) {
		delete(h.m, k)
		ok = false
	}
	if !ok {
		return time.Time{}, now.Before(h.overflow)
	}
	return x.until, true
}

// fails returns the failure count last known for k.
func (h *hints) fails(k string, now time.Time) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if x, ok := h.m[k]; ok && !now.After(x.expires) {
		return x.n
	}
	return 0
}

// learn records the block of k read from the shared row at now.
func (h *hints) learn(k string, until, now time.Time) {
	h.put(k, h.fails(k, now), until, now)
}

// put remembers that k failed at now, its count n, blocked until until.
func (h *hints) put(k string, n int, until, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	expires := now.Add(hintTTL)
	if until.After(now) {
		expires = until.Add(hintTTL)
	}
	if e := expires.UnixNano(); e > h.busyUntil.Load() {
		h.busyUntil.Store(e) // under mu: stores are ordered
	}
	if _, ok := h.m[k]; !ok && len(h.m) >= maxHints {
		for key, x := range h.m {
			if now.After(x.expires) {
				delete(h.m, key)
			}
		}
		if len(h.m) >= maxHints {
			h.overflow = expires
			return
		}
	}
	h.m[k] = hint{until: until, expires: expires, n: n}
}

// forget drops k and reports whether it was remembered (or might have
// been, in overflow).
func (h *hints) forget(k string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.m[k]
	delete(h.m, k)
	return ok || now.Before(h.overflow)
}
