package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/ledger"
	"github.com/tokend/tokend/internal/store"
)

// writeFailureWindow is how long after a failed write /readyz keeps
// answering 503, unless a write succeeds first.
const writeFailureWindow = 30 * time.Second

// writeHealth remembers whether the ledger's last commit failed for the
// storage's sake (unavailable, full, locked, or not answering in time),
// for /readyz. A failure of a row (a conflict) is not the storage's.
type writeHealth struct {
	mu       sync.Mutex
	failedAt time.Time // zero once a commit succeeds
	reason   string
}

func (h *writeHealth) observe(c ledger.Commit) {
	var reason string
	switch {
	case c.Err == nil:
	case errors.Is(c.Err, context.DeadlineExceeded):
		reason = "the database did not answer in time"
	case errors.Is(c.Err, store.ErrUnavailable):
		reason = "the database refused the write"
	default:
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if reason == "" {
		h.failedAt = time.Time{}
		return
	}
	h.failedAt, h.reason = time.Now(), reason
}

// problem describes a recent storage failure of writes, or is "".
func (h *writeHealth) problem() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ago := time.Since(h.failedAt)
	if h.failedAt.IsZero() || ago > writeFailureWindow {
		return ""
	}
	return fmt.Sprintf("writes are failing: %s %s ago", h.reason, ago.Round(time.Millisecond))
}
