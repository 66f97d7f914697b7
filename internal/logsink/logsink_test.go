package logsink

import (
	"bytes"
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
