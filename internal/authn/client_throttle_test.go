package authn

import (
	"strconv"
	"testing"
	"time"
)

// TestHints: a key is read from the database only once this replica saw it
// fail; a block it learnt refuses without reading; when more keys failed
// than it can remember, every key is read until the oldest hints expire.
func TestHints(t *testing.T) {
	t.Parallel()
	now := time.Now()
	h := newHints()
	if _, seen := h.get("a", now); seen {
		t.Fatal("a key that never failed is read from the database")
	}
	h.put("a", 6, now.Add(time.Minute), now)
	if until, seen := h.get("a", now); !seen || !until.After(now) {
		t.Fatalf("a blocked key: %v %v", until, seen)
	}
	if _, seen := h.get("a", now.Add(time.Minute+hintTTL+time.Second)); seen {
		t.Fatal("a hint outlived its block by more than hintTTL")
	}
	if h.forget("b", now) {
		t.Fatal("forget of a key that never failed asks for a reset")
	}
	for i := range maxHints {
		h.put(strconv.Itoa(i), 1, time.Time{}, now)
	}
	h.put("one too many", 1, time.Time{}, now)
	if _, seen := h.get("never failed", now); !seen {
		t.Fatal("in overflow, a key without a hint is not read from the database")
	}
	if !h.forget("never failed", now) {
		t.Fatal("in overflow, a success does not reset the shared row")
	}
	later := now.Add(hintTTL + time.Second)
	h.put("new", 1, time.Time{}, later) // expired hints make room
	if _, seen := h.get("never failed", later); seen {
		t.Fatal("overflow outlived the hints that caused it")
	}
	if _, seen := h.get("new", later); !seen {
		t.Fatal("a new hint after the overflow was not kept")
	}
}

// TestClientName: an id no client can have is recorded by its digest.
func TestClientName(t *testing.T) {
	t.Parallel()
	if clientName("svc") != "svc" {
		t.Fatal("a valid id is renamed")
	}
	long := string(make([]byte, 1<<20))
	if n := clientName(long); len(n) != 17 || n != clientName(long) || n == clientName(long+"x") {
		t.Fatalf("clientName of a 1 MiB id: %q", n)
	}
}
