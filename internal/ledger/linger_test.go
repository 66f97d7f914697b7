package ledger

import "testing"

// TestLingerTarget: a commit waits for as many requests as the largest of
// the last lingerWindow commits: never for a steady lone caller, and a
// burst stops counting once lingerWindow commits have passed.
func TestLingerTarget(t *testing.T) {
	var r recentSizes
	if got := r.max(); got != 0 {
		t.Fatalf("no commits yet: target %d, want 0", got)
	}
	for range 100 {
		r.add(1)
	}
	if got := r.max(); got != 1 {
		t.Fatalf("lone caller: target %d, want 1", got)
	}
	r.add(48)
	for i := range lingerWindow - 1 {
		r.add(2)
		if got := r.max(); got != 48 {
			t.Fatalf("%d commits after a burst of 48: target %d", i+1, got)
		}
	}
	r.add(2)
	if got := r.max(); got != 2 {
		t.Fatalf("%d commits after the burst: target %d, want 2", lingerWindow, got)
	}
}
