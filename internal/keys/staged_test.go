package keys_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/keys"
	"github.com/tokend/tokend/internal/store"
)

// TestStagedRotation: a staged rotation publishes the next key at once
// and signs with it only from its activation time, on every replica,
// whether or not the replica reloaded its keys meanwhile; the retiring key
// stays published until every token it signed has expired; a second
// staged rotation is refused while one is pending; an emergency rotation
// replaces both at once.
func TestStagedRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	m := master(t)
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	one, err := keys.New(keys.Options{Store: st, Master: m, Issuer: issuerOf, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	// The other replica never reloads on its own within the test.
	two, err := keys.New(keys.Options{Store: st, Master: m, Issuer: issuerOf, Now: clock, TTL: time.Hour, ReloadEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	addTenant(t, st, "acme")
	if err := one.Ensure(ctx, "acme", keys.ES256); err != nil {
		t.Fatal(err)
	}
	kidOf := func(m *keys.Manager) string {
		t.Helper()
		raw, err := m.Sign(ctx, "acme", claimsFor("acme", time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return header(t, raw)["kid"]
	}
	first := kidOf(one)
	if kidOf(two) != first {
		t.Fatal("replicas sign with different keys")
	}

	const stage, publish = 10 * time.Minute, time.Hour
	next, err := one.Rotate(ctx, "acme", keys.ES256, publish, stage)
	if err != nil {
		t.Fatal(err)
	}
	if next.State != store.KeyNext || next.ActivateAt == nil || !next.ActivateAt.Equal(now.Add(stage)) {
		t.Fatalf("staged key %+v", next)
	}
	// Published at once, not signing yet.
	set, _, _ := one.JWKS(ctx, "acme")
	if !strings.Contains(string(set), next.ID) || !strings.Contains(string(set), first) {
		t.Fatalf("JWKS during the stage: %s", set)
	}
	if k := kidOf(one); k != first {
		t.Fatalf("signs with %s before the activation time", k)
	}
	// A second staged rotation is refused; the key list shows why.
	if _, err := one.Rotate(ctx, "acme", keys.ES256, publish, stage); fault.CodeOf(err) != fault.CodeConflict ||
		!strings.Contains(err.Error(), next.ID) {
		t.Fatalf("second staged rotation: %v", err)
	}
	byID := func() map[string]store.Key {
		l, err := one.Keys(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Key{}
		for _, k := range l {
			out[k.ID] = k
		}
		return out
	}
	l := byID()
	if len(l) != 2 || l[next.ID].State != store.KeyNext || l[first].State != store.KeyActive || l[first].RetiredAt == nil ||
		!l[first].RetiredAt.Equal(*next.ActivateAt) || l[first].PublishUntil == nil || !l[first].PublishUntil.Equal(next.ActivateAt.Add(publish)) {
		t.Fatalf("keys during the stage: %+v", l)
	}

	// Replica two, which loaded its keys before the rotation, learns of
	// the next key by a change notice.
	two.Invalidate("acme")
	if kidOf(two) != first {
		t.Fatal("replica two signs with the next key early")
	}
	// At the activation time both switch without reloading.
	advance(stage)
	if kidOf(one) != next.ID || kidOf(two) != next.ID {
		t.Fatal("the next key does not sign from its activation time on")
	}
	// Promotion records the switch; tokens of the first key still verify.
	old, _ := two.Sign(ctx, "acme", claimsFor("acme", time.Hour)) // signed by next now
	if n, err := one.PromoteDue(ctx, 100); err != nil || n != 1 {
		t.Fatalf("PromoteDue = %d, %v", n, err)
	}
	l = byID()
	if l[next.ID].State != store.KeyActive || l[first].State != store.KeyRetired {
		t.Fatalf("keys after promotion: %+v", l)
	}
	if n, _ := one.PromoteDue(ctx, 100); n != 0 {
		t.Fatalf("second PromoteDue = %d", n)
	}
	if _, err := one.Verify(ctx, "acme", old); err != nil {
		t.Fatal(err)
	}
	set, _, _ = one.JWKS(ctx, "acme")
	if !strings.Contains(string(set), first) {
		t.Fatal("the retired key left the JWKS before its tokens expired")
	}
	advance(publish + time.Second)
	one.Invalidate("acme")
	set, _, _ = one.JWKS(ctx, "acme")
	if strings.Contains(string(set), first) {
		t.Fatal("the retired key stays published past its window")
	}

	// A new staged rotation, then an emergency one: the pending key never
	// signs and leaves the JWKS; the emergency key signs at once.
	pending, err := one.Rotate(ctx, "acme", keys.ES256, publish, stage)
	if err != nil {
		t.Fatal(err)
	}
	urgent, err := one.Rotate(ctx, "acme", keys.ES256, publish, 0)
	if err != nil || urgent.State != store.KeyActive {
		t.Fatalf("emergency rotation: %+v %v", urgent, err)
	}
	if kidOf(one) != urgent.ID {
		t.Fatal("the emergency key does not sign at once")
	}
	set, _, _ = one.JWKS(ctx, "acme")
	if strings.Contains(string(set), pending.ID) || !strings.Contains(string(set), next.ID) {
		t.Fatalf("JWKS after the emergency rotation: %s", set)
	}
}
