package ledger_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ledger"
	"github.com/tokend/tokend/internal/store"
)

// BenchmarkWriter measures the group committer on SQLite as the issue
// path uses it: one ledger row and one audit event per Write, from many
// goroutines. cpu-ns/op is the process's CPU time per Write.
func BenchmarkWriter(b *testing.B) {
	ctx := context.Background()
	db := openDB(b)
	w := ledger.New(ledger.Options{Store: db, Seal: audit.Seal})
	defer w.Close()
	cpu0 := cpuTime()
	b.ResetTimer()
	writeParallel(ctx, b, w)
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// writeParallel makes b.N Writes of one ledger row and one audit event
// each from 32 goroutines per CPU.
func writeParallel(ctx context.Context, b *testing.B, w *ledger.Writer) {
	var n atomic.Int64
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := strconv.FormatInt(n.Add(1), 36) + "-abcdefghijklmnop"
			if err := w.Write(ctx, []store.Token{row(id)}, []store.AuditEvent{event(id)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriterParts splits BenchmarkWriter's cost: a Write of one
// ledger row and one audit event, of the row alone, of the event alone,
// and of the row alone on a table without its secondary indexes (what
// they cost; the store's queries need each of them, see docs/ledger.md).
func BenchmarkWriterParts(b *testing.B) {
	indexes := []string{"tokens_hash", "tokens_subject", "tokens_client", "tokens_expires", "tokens_session"}
	for _, c := range []struct {
		name        string
		row, event  bool
		dropIndexes bool
	}{
		{"row+event", true, true, false},
		{"row", true, false, false},
		{"event", false, true, false},
		{"row-without-secondary-indexes", true, false, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			db := openDB(b)
			if c.dropIndexes {
				for _, ix := range indexes {
					if _, err := db.Writer().ExecContext(ctx, "DROP INDEX "+ix); err != nil {
						b.Fatal(err)
					}
				}
			}
			w := ledger.New(ledger.Options{Store: db, Seal: audit.Seal})
			defer w.Close()
			var n atomic.Int64
			cpu0 := cpuTime()
			b.ResetTimer()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := strconv.FormatInt(n.Add(1), 36) + "-abcdefghijklmnop"
					var rows []store.Token
					var events []store.AuditEvent
					if c.row {
						rows = []store.Token{row(id)}
					}
					if c.event {
						events = []store.AuditEvent{event(id)}
					}
					if err := w.Write(ctx, rows, events); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
