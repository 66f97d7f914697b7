package revocation

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"
)

// benchIDs returns n token ids of the shape tokend makes (26 base32
// characters carrying a microsecond time and random bytes).
func benchIDs(n int) []string {
	ids := make([]string, n)
	var b [16]byte
	for i := range ids {
		binary.BigEndian.PutUint64(b[:8], uint64(1767225600000000+i))
		binary.BigEndian.PutUint64(b[8:], uint64(i)*0x9e3779b97f4a7c15)
		ids[i] = idEncoding.EncodeToString(b[:])
	}
	return ids
}

// BenchmarkDenyListMillion loads 1M token revocations (each with an
// Until, as tokend logs them) and reports the heap bytes the list holds
// per entry and the time of a full garbage collection with the list live
// (the mark work the list adds to every GC cycle), against the same
// collection without it:
//
//	go test -run '^$' -bench DenyListMillion -benchtime 1x ./revocation/
func BenchmarkDenyListMillion(b *testing.B) {
	const n = 1_000_000
	ids := benchIDs(n)
	now := time.Now()
	until := now.Add(time.Hour)
	entries := make([]Entry, 1000)
	gcTime := func() time.Duration {
		best := time.Duration(1 << 62)
		for range 3 {
			t0 := time.Now()
			runtime.GC()
			best = min(best, time.Since(t0))
		}
		return best
	}
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		empty := gcTime()
		runtime.ReadMemStats(&before)
		d := NewDenyList()
		for i := 0; i < n; i += len(entries) {
			for j := range entries {
				entries[j] = Entry{Seq: int64(i + j + 1), Tenant: "demo", Scope: Token, Key: ids[i+j], Cutoff: now, Until: &until}
			}
			d.Apply(entries...)
		}
		loaded := gcTime()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "B/entry")
		b.ReportMetric(float64(loaded.Microseconds()), "gc-µs-loaded")
		b.ReportMetric(float64(empty.Microseconds()), "gc-µs-empty")
		if d.Size() != n || d.Reason(Presented{Tenant: "demo", ID: ids[n/2]}) == "" {
			b.Fatal("the list lost entries")
		}
		runtime.KeepAlive(d)
	}
}

// BenchmarkDenyListReason is the lookup of a token that is not revoked in
// a list holding 1M token revocations.
func BenchmarkDenyListReason(b *testing.B) {
	const n = 1_000_000
	ids := benchIDs(n + 1)
	now := time.Now()
	d := NewDenyList()
	for i := range n {
		d.Apply(Entry{Tenant: "demo", Scope: Token, Key: ids[i], Cutoff: now})
	}
	tok := Presented{Tenant: "demo", ID: ids[n], IssuedAt: now, Subject: "alice", SessionID: "s1", ClientID: "c1"}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if d.Reason(tok) != "" {
			b.Fatal("revoked")
		}
	}
}
