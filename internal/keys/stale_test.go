package keys_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/faulttest"
	"github.com/tokend/tokend/internal/keys"
	"github.com/tokend/tokend/internal/store/postgres"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestStaleKeysWhileDatabaseUnavailable: with the connection to PostgreSQL
// cut, a tenant's keys loaded before are used past their TTL for StaleFor
// more, not after; they reload once the database is back.
func TestStaleKeysWhileDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, proxied := faulttest.StartFor(t, pgtest.NewDatabase(t))
	db, err := postgres.Open(ctx, proxied)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	addTenant(t, db, "acme")
	clk := &clock{t: time.Now()}
	mgr, err := keys.New(keys.Options{Store: db, Master: master(t), Issuer: issuerOf, Now: clk.now,
		TTL: 5 * time.Minute, StaleFor: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Ensure(ctx, "acme", keys.ES256); err != nil {
		t.Fatal(err)
	}
	c := claimsFor("acme", time.Hour)
	c.IssuedAt, c.ExpiresAt = clk.now().Unix(), clk.now().Add(time.Hour).Unix()
	raw, err := mgr.Sign(ctx, "acme", c)
	if err != nil {
		t.Fatal(err)
	}

	p.Cut()
	clk.add(6 * time.Minute) // past TTL, within the stale window
	if _, err := mgr.Verify(ctx, "acme", raw); err != nil {
		t.Fatalf("verify with the database cut, within the stale window: %v", err)
	}
	if _, err := mgr.Sign(ctx, "acme", c); err != nil {
		t.Fatalf("sign with the database cut, within the stale window: %v", err)
	}
	clk.add(3 * time.Minute) // past TTL and the stale window
	if _, err := mgr.Verify(ctx, "acme", raw); err == nil {
		t.Fatal("keys used past the stale window")
	} else if f := fault.As(err); f != nil && f.Code != fault.CodeUnavailable {
		t.Fatalf("verify past the stale window: %v, want the database's error", err)
	}
	p.Resume()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := mgr.Verify(ctx, "acme", raw)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify after the database is back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
