package logsink

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the sink's goroutine and the
// test's.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestInfoIsBatchedWarnIsNot(t *testing.T) {
	var out syncBuffer
	s := New(&out)
	defer s.Close()
	log := slog.New(s.Handler(slog.NewTextHandler(s, nil)))
	for i := range 100 {
		log.Info("request", "n", i)
	}
	if got := out.String(); got != "" {
		t.Fatalf("info records written at once: %q", got)
	}
	log.Warn("disk almost full")
	got := out.String()
	if !strings.Contains(got, "disk almost full") || strings.Count(got, "msg=request") != 100 {
		t.Fatalf("a warning must write it and everything before it at once:\n%s", got)
	}
	if out.writes != 1 {
		t.Errorf("%d writes, want 1 for the batch", out.writes)
	}
	// Info alone reaches the output within the flush interval.
	log.Info("later")
	deadline := time.Now().Add(10 * FlushInterval)
	for !strings.Contains(out.String(), "later") {
		if time.Now().After(deadline) {
			t.Fatal("a buffered record was not written within the flush interval")
		}
		time.Sleep(FlushInterval / 10)
	}
	// WithAttrs and WithGroup keep flushing on warnings.
	log.With("k", "v").WithGroup("g").Error("boom", "x", 1)
	if !strings.Contains(out.String(), "g.x=1") {
		t.Fatalf("derived logger's error not written at once:\n%s", out.String())
	}
}

func TestFullBufferAndClose(t *testing.T) {
	var out syncBuffer
	s := New(&out)
	line := strings.Repeat("x", 1000) + "\n"
	for range bufferSize/len(line) + 1 {
		s.Write([]byte(line))
	}
	if out.String() == "" {
		t.Fatal("a full buffer was not written at once")
	}
	s.Write([]byte("tail\n"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "tail\n") {
		t.Fatal("Close did not write the rest")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestWriteErrorIsReported(t *testing.T) {
	s := New(failing{})
	s.Write([]byte("x\n"))
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("Close = %v, want the write error", err)
	}
}

// TestRepeatedErrorsCollapse: a burst of identical errors is written as its
// first record and then at most one line per CollapseEvery counting the
// ones not written; nothing is lost from the count, distinct errors and
// info records are written as they come.
func TestRepeatedErrorsCollapse(t *testing.T) {
	var out syncBuffer
	s := New(&out)
	log := slog.New(s.Handler(slog.NewJSONHandler(s, nil)))
	const n = 1000
	start := time.Now()
	for i := range n {
		log.Error("request failed", "error", "database unreachable", "request_id", i)
		log.Info("request", "status", 503)
	}
	log.Error("request failed", "error", "another error")
	elapsed := time.Since(start)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var collapsed, represented, infos, other int
	for _, l := range lines {
		var rec struct {
			Msg        string
			Error      string
			Suppressed int
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		switch {
		case rec.Msg == "request":
			infos++
		case rec.Error == "database unreachable":
			collapsed++
			represented += 1 + rec.Suppressed
		case rec.Error == "another error":
			other++
		}
	}
	if infos != n || other != 1 {
		t.Errorf("%d info lines and %d of the other error, want %d and 1", infos, other, n)
	}
	if represented != n {
		t.Errorf("the collapsed lines stand for %d records, want %d", represented, n)
	}
	// One line at once, then at most one per window (plus the final count).
	if limit := 2 + int(elapsed/CollapseEvery); collapsed < 2 || collapsed > limit {
		t.Errorf("%d lines for %d identical errors in %s, want 2 to %d:\n%s", collapsed, n, elapsed, limit, out.String())
	}
}
