package ledger_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ledger"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite"
)

func BenchmarkWriter(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "t.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := db.Tenants().Create(ctx, store.Tenant{ID: "t0", CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	w := ledger.New(db, audit.Seal, nil)
	defer w.Close()
	var n atomic.Int64
	cpu0 := cpuTime()
	b.ResetTimer()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := time.Now().UTC()
			exp := now.Add(time.Hour)
			id := strconv.FormatInt(n.Add(1), 36) + "-abcdefghijklmnop"
			row := store.Token{Tenant: "t0", ID: id, Kind: "access", Format: "jwt", SubjectType: "client", Subject: "svc", ClientID: "svc",
				Audience: []string{"api"}, Scope: []string{"read"}, Origins: []string{}, Channels: []string{}, IssuedAt: now, ExpiresAt: &exp}
			ev := store.AuditEvent{Tenant: "t0", Action: "token.issue", Outcome: "success", Actor: "client:svc", Subject: "svc", ClientID: "svc",
				RemoteAddr: "127.0.0.1", UserAgent: "Go-http-client/1.1", RequestID: "0123456789abcdef01234567", Time: now,
				Detail: map[string]string{"jti": id, "kind": "access", "format": "jwt", "scope": "read"}}
			if err := w.Write(ctx, []store.Token{row}, []store.AuditEvent{ev}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
