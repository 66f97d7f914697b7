package audit_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/reqctx"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite/sqlitetest"
)

// TestFailuresAreCounted: repeated failed authentications of one key are
// one event when the window opens and one carrying the rest of the count
// when it closes; the counts add up to the failures, whatever their number.
func TestFailuresAreCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqlitetest.New(t, "t")
	now := time.Now()
	rec := audit.New(db, nil, func() time.Time { return now })
	observed := 0
	rec.SetObserver(func(store.AuditEvent) { observed++ })
	from := func(addr string) context.Context {
		return reqctx.With(ctx, reqctx.Info{RemoteAddr: addr, UserAgent: string(make([]byte, 4096))})
	}
	fail := func(ctx context.Context, subject, reason string) {
		rec.RecordFailure(ctx, store.AuditEvent{Tenant: "t", Action: "auth.client", Subject: subject, ClientID: subject,
			Detail: map[string]string{"reason": reason}})
	}
	events := func() []store.AuditEvent {
		l, err := db.Audit().List(ctx, "t", store.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	count := func(l []store.AuditEvent) (sum int) {
		for _, e := range l {
			n, err := strconv.Atoi(e.Detail["count"])
			if err != nil || e.Outcome != audit.Failure {
				t.Fatalf("event %+v", e)
			}
			sum += n
		}
		return sum
	}

	const n = 1000
	for range n {
		fail(from("192.0.2.1"), "client:svc", "wrong secret")
	}
	for i := range n {
		// A throttled caller naming another client each time, from
		// addresses of one IPv6 /64: one key.
		fail(from(fmt.Sprintf("2001:db8:1:2::%x", i)), fmt.Sprintf("client:c%d", i), audit.Throttled)
	}
	if l := events(); len(l) != 2 || count(l) != 2 {
		t.Fatalf("while the windows are open: %d events counting %d, want 2 and 2", len(l), count(l))
	}
	if err := rec.FlushFailures(ctx, false); err != nil || len(events()) != 2 {
		t.Fatalf("flushing windows still open wrote events: %v", err)
	}
	now = now.Add(audit.FailureWindow)
	if err := rec.FlushFailures(ctx, false); err != nil {
		t.Fatal(err)
	}
	l := events()
	if len(l) != 4 || count(l) != 2*n {
		t.Fatalf("after the windows closed: %d events counting %d, want 4 and %d", len(l), count(l), 2*n)
	}
	for _, e := range l[2:] {
		if e.Detail["count"] != strconv.Itoa(n-1) || e.Detail["since"] == "" || e.Detail["until"] == "" {
			t.Errorf("closing event %+v", e)
		}
		if e.Detail["reason"] == audit.Throttled && (e.Subject != "" || e.RemoteAddr != "2001:db8:1:2::/64") {
			t.Errorf("throttled window keyed on the caller's choice: %+v", e)
		}
	}
	if len(l[0].UserAgent) > 256 {
		t.Errorf("an event keeps a %d-byte user agent", len(l[0].UserAgent))
	}

	// A new window opens with the next failure; a failure of the window
	// just closed does not join it. Shutdown writes open windows.
	fail(from("192.0.2.1"), "client:svc", "wrong secret")
	fail(from("192.0.2.1"), "client:svc", "wrong secret")
	fail(from("192.0.2.1"), "client:svc", "unknown client")
	if err := rec.FlushFailures(ctx, true); err != nil {
		t.Fatal(err)
	}
	if l := events(); len(l) != 7 || count(l) != 2*n+3 {
		t.Fatalf("after shutdown: %d events counting %d, want 7 and %d", len(l), count(l), 2*n+3)
	}
	if observed != 2*n+3 {
		t.Errorf("observed %d failures, want %d", observed, 2*n+3)
	}
	if res, err := audit.Verify(ctx, db, "t", audit.Checkpoints{}); err != nil || !res.OK {
		t.Fatalf("chain: %+v %v", res, err)
	}
}
