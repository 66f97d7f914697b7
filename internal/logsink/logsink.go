// Package logsink is the server's log output: records are buffered and
// written in batches, so an access log line per request does not cost a
// system call per request. Buffered records reach the output at most
// FlushInterval later, at once when the buffer fills, and at once after
// any record at level Warn or above; Close writes out the rest. Repeated
// identical warnings and errors are collapsed (see CollapseEvery).
package logsink

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

const (
	// FlushInterval is the longest a buffered record waits.
	FlushInterval = 100 * time.Millisecond
	// bufferSize is the buffered bytes that trigger a write at once.
	bufferSize = 64 << 10
)

// Sink buffers writes to an io.Writer. Safe for concurrent use.
type Sink struct {
	mu   sync.Mutex
	out  io.Writer
	buf  bytes.Buffer
	err  error
	stop chan struct{}
	done chan struct{}
	once sync.Once
	c    *collapser
}

// New returns a Sink writing to out, flushed every FlushInterval until
// Close.
func New(out io.Writer) *Sink {
	s := &Sink{out: out, stop: make(chan struct{}), done: make(chan struct{}), c: newCollapser()}
	go s.loop()
	return s
}

func (s *Sink) loop() {
	defer close(s.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.c.sweep(false)
			_ = s.Flush()
		case <-s.stop:
			return
		}
	}
}

// Write buffers p (one whole log record, as slog handlers write them).
func (s *Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	if s.buf.Len() >= bufferSize {
		s.flushLocked()
	}
	return len(p), nil
}

// Flush writes out what is buffered and returns the first write error
// seen so far.
func (s *Sink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	return s.err
}

func (s *Sink) flushLocked() {
	if s.buf.Len() == 0 {
		return
	}
	if _, err := s.out.Write(s.buf.Bytes()); err != nil && s.err == nil {
		s.err = err
	}
	s.buf.Reset()
}

// Close stops the periodic flush and writes out the rest, the counts of
// collapsed records included.
func (s *Sink) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	s.c.sweep(true)
	return s.Flush()
}

// Handler returns h made to collapse repeated warnings and errors (see
// CollapseEvery) and to flush s after every record at level Warn or above
// it writes, so that warnings and errors are never held back.
func (s *Sink) Handler(h slog.Handler) slog.Handler { return collapsing{flushing{h, s}, s.c} }

type flushing struct {
	slog.Handler
	s *Sink
}

func (f flushing) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = f.s.Flush()
	}
	return err
}

func (f flushing) WithAttrs(as []slog.Attr) slog.Handler {
	return flushing{f.Handler.WithAttrs(as), f.s}
}

func (f flushing) WithGroup(name string) slog.Handler {
	return flushing{f.Handler.WithGroup(name), f.s}
}
