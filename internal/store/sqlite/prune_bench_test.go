package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite"
)

// BenchmarkPruneExpired deletes 100,000 expired ledger rows (beside 10,000
// live ones) in batches of 1,000, the way the server's pruner does, and
// reports the cost per pruned row and per batch.
func BenchmarkPruneExpired(b *testing.B) {
	const expired, live, batch = 100_000, 10_000, 1000
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "tokend.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := db.Tenants().Create(ctx, store.Tenant{ID: "acme", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	past, ahead := now.Add(-30*24*time.Hour), now.Add(time.Hour)
	seed := func(round int) {
		rows := make([]store.Token, 0, 5000)
		for i := range expired + live {
			exp := &past
			if i >= expired {
				exp = &ahead
			}
			rows = append(rows, store.Token{Tenant: "acme", ID: fmt.Sprintf("r%d-%06d", round, i), Kind: "access", Format: store.FormatJWT,
				SubjectType: "client", Subject: "svc", ClientID: "svc", IssuedAt: past, ExpiresAt: exp})
			if len(rows) == cap(rows) {
				if err := db.Tokens().Insert(ctx, rows...); err != nil {
					b.Fatal(err)
				}
				rows = rows[:0]
			}
		}
	}
	cutoff := now.Add(-7 * 24 * time.Hour)
	var batches int
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		seed(i)
		b.StartTimer()
		total := 0
		for {
			n, err := db.Tokens().DeleteExpired(ctx, cutoff, batch)
			if err != nil {
				b.Fatal(err)
			}
			total += n
			batches++
			if n < batch {
				break
			}
		}
		if total != expired {
			b.Fatalf("pruned %d rows, want %d", total, expired)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*expired), "ns/row")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(batches), "µs/batch")
}
