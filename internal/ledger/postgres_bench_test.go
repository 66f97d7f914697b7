package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ledger"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/postgres"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// BenchmarkWriterPostgres is BenchmarkWriter on PostgreSQL (a fresh
// database on TOKEND_TEST_POSTGRES), with the server's CPU per Write
// beside the process's: pg-cpu-ns/op is the CPU time of the database's
// server processes (every postgres process on this machine, read from
// /proc, so run it on an otherwise idle server). The variants drop parts
// of the schema to show what each costs the server; the store's queries
// and its tenant deletion need every one of them (docs/ledger.md).
func BenchmarkWriterPostgres(b *testing.B) {
	for _, c := range []struct {
		name string
		drop []string
	}{
		{"as-is", nil},
		{"without-foreign-keys", []string{
			"ALTER TABLE tokens DROP CONSTRAINT tokens_tenant_fkey",
			"ALTER TABLE audit_events DROP CONSTRAINT audit_events_tenant_fkey",
		}},
		{"without-secondary-indexes", []string{
			"DROP INDEX tokens_hash", "DROP INDEX tokens_subject", "DROP INDEX tokens_client",
			"DROP INDEX tokens_expires", "DROP INDEX tokens_session", "DROP INDEX audit_events_time",
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			url := pgtest.NewDatabase(b)
			db, err := postgres.Open(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			if err := db.Tenants().Create(ctx, store.Tenant{ID: "t0", CreatedAt: now, UpdatedAt: now}); err != nil {
				b.Fatal(err)
			}
			if len(c.drop) > 0 {
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					b.Fatal(err)
				}
				for _, q := range c.drop {
					if _, err := conn.Exec(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
				conn.Close(ctx)
			}
			var commits, held, busy atomic.Int64
			w := ledger.New(ledger.Options{Store: db, Seal: audit.Seal, Observe: func(c ledger.Commit) {
				commits.Add(1)
				held.Add(int64(c.Requests))
				busy.Add(int64(c.Duration))
			}})
			defer w.Close()
			cpu0, pg0 := cpuTime(), postgresCPU(b)
			b.ResetTimer()
			writeParallel(ctx, b, w)
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(postgresCPU(b)-pg0)/float64(b.N), "pg-cpu-ns/op")
			if n := commits.Load(); n > 0 {
				b.ReportMetric(float64(held.Load())/float64(n), "writes/commit")
				b.ReportMetric(float64(busy.Load())/float64(n)/1e3, "µs/commit")
			}
		})
	}
}

// postgresCPU sums the user and system time of every process named
// postgres on this machine.
func postgresCPU(b *testing.B) time.Duration {
	b.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		b.Fatal(err)
	}
	var ticks int64
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended
		}
		s := string(raw)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open || s[open+1:close] != "postgres" {
			continue
		}
		f := strings.Fields(s[close+1:])
		// After the command: state is field 3 of stat(5), utime 14, stime 15.
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * 10 * time.Millisecond // CLK_TCK is 100 on Linux
}
