package logsink

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// CollapseEvery is the window in which identical warnings and errors (the
// same level, message and "error" attribute, but for the numbers in it:
// addresses, ports, durations) are written once: the first
// at once, then at most one line per window, the last of them, with
// "suppressed": how many identical records were not written since the
// previous line. An outage that fails every request then costs a line a
// second per distinct error instead of one per request.
const CollapseEvery = time.Second

// maxCollapseKeys bounds the distinct errors tracked; past it, records are
// written as they come.
const maxCollapseKeys = 1024

type collapser struct {
	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	start      time.Time
	suppressed int
	last       slog.Record // the last record suppressed
	h          slog.Handler
}

func newCollapser() *collapser { return &collapser{keys: map[string]*window{}} }

func collapseKey(r slog.Record) string {
	b := make([]byte, 0, 128)
	b = append(b, r.Level.String()...)
	b = append(b, 0)
	b = append(b, r.Message...)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "error" {
			return true
		}
		b = append(b, 0)
		digits := false
		for _, c := range []byte(a.Value.String()) {
			isDigit := c >= '0' && c <= '9'
			if !isDigit {
				b = append(b, c)
			} else if !digits {
				b = append(b, '#')
			}
			digits = isDigit
		}
		return false
	})
	return string(b)
}

// handle writes r through h unless an identical record was written within
// CollapseEvery.
func (c *collapser) handle(ctx context.Context, h slog.Handler, r slog.Record) error {
	key := collapseKey(r)
	now := time.Now()
	c.mu.Lock()
	w := c.keys[key]
	if w != nil && now.Sub(w.start) < CollapseEvery {
		w.suppressed++
		w.last, w.h = r.Clone(), h
		c.mu.Unlock()
		return nil
	}
	n := 0
	if w != nil {
		n = w.suppressed
	}
	if w != nil || len(c.keys) < maxCollapseKeys {
		c.keys[key] = &window{start: now}
	}
	c.mu.Unlock()
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", n))
	}
	return h.Handle(ctx, r)
}

// sweep writes, for every window that ended (every window when all is
// set), the last record it suppressed with their count, and forgets the
// windows that suppressed nothing.
func (c *collapser) sweep(all bool) {
	type pending struct {
		h slog.Handler
		r slog.Record
	}
	var out []pending
	now := time.Now()
	c.mu.Lock()
	for k, w := range c.keys {
		if !all && now.Sub(w.start) < CollapseEvery {
			continue
		}
		if w.suppressed == 0 {
			delete(c.keys, k)
			continue
		}
		r := w.last // written now, so not counted
		if w.suppressed > 1 {
			r.AddAttrs(slog.Int("suppressed", w.suppressed-1))
		}
		out = append(out, pending{w.h, r})
		// The summary opens a new window: one line per window at most.
		c.keys[k] = &window{start: now}
	}
	c.mu.Unlock()
	for _, p := range out {
		_ = p.h.Handle(context.Background(), p.r)
	}
}

// collapsing is the slog.Handler that collapses repeated warnings and
// errors before next.
type collapsing struct {
	next slog.Handler
	c    *collapser
}

func (h collapsing) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h collapsing) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	return h.c.handle(ctx, h.next, r)
}

func (h collapsing) WithAttrs(as []slog.Attr) slog.Handler {
	return collapsing{h.next.WithAttrs(as), h.c}
}

func (h collapsing) WithGroup(name string) slog.Handler {
	return collapsing{h.next.WithGroup(name), h.c}
}
