package authn

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// cacheTTL bounds how long a cached tenant or client is trusted without a
// change notice; Invalidate drops entries as soon as the change log says
// they changed.
const cacheTTL = 2 * time.Second

// cacheSize bounds each cache; when full, an arbitrary entry goes.
const cacheSize = 10000

// While the database is unavailable, an entry past cacheTTL is served for
// up to Options.StaleFor more (the last known state). The read that would
// refresh it is then bounded by staleProbe, and after one fails, such
// entries are served for staleRetry without asking the database again, so
// that a hung database does not cost every request a probe.
const (
	staleProbe = time.Second
	staleRetry = time.Second
)

type cached[T any] struct {
	v  T
	at time.Time
}

// cacheState is what the caches of one store share: their lock, their
// stale window, the database's unavailability and the invalidations.
type cacheState struct {
	staleFor time.Duration
	mu       sync.Mutex
	// downUntil is when the database may be asked again after a read
	// that failed for unavailability.
	downUntil time.Time
	// gen counts invalidations: a read that an invalidation overtook
	// (one started before it and ended after) is returned but not cached,
	// so that a record changed meanwhile is not kept for a whole TTL.
	gen uint64
}

// readCache keeps tenants and clients the token endpoint reads on every
// request, so the hot path does not query the database for them.
type readCache struct {
	cacheState
	tenants map[string]cached[store.Tenant]
	clients map[[2]string]cached[store.Client]
}

func newReadCache(staleFor time.Duration) *readCache {
	return &readCache{cacheState: cacheState{staleFor: staleFor}, tenants: map[string]cached[store.Tenant]{}, clients: map[[2]string]cached[store.Client]{}}
}

// lookup returns m[k] when fresh (and fresh is false), else reads it and
// caches what it read. If the read fails because the database is
// unavailable (never because it answered "not found"), an entry no older
// than cacheTTL plus the stale window is returned instead. cachedAt is
// zero when the record was just read.
func lookup[K comparable, T any](ctx context.Context, c *cacheState, m map[K]cached[T], k K, reread bool,
	read func(context.Context) (T, error)) (v T, cachedAt time.Time, err error) {
	now := time.Now()
	c.mu.Lock()
	gen := c.gen
	e, ok := m[k]
	age := now.Sub(e.at)
	switch {
	case ok && !reread && age <= cacheTTL:
		c.mu.Unlock()
		return e.v, now, nil
	case ok && age > cacheTTL+c.staleFor:
		ok = false
	case ok && now.Before(c.downUntil):
		c.mu.Unlock()
		return e.v, now, nil
	}
	c.mu.Unlock()
	rctx := ctx
	if ok {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, staleProbe)
		defer cancel()
	}
	v, err = read(rctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil && c.gen != gen:
		return v, time.Time{}, nil
	case err == nil:
		if len(m) >= cacheSize {
			for old := range m {
				delete(m, old)
				break
			}
		}
		m[k] = cached[T]{v, now}
		return v, time.Time{}, nil
	case errors.Is(err, store.ErrNotFound):
		delete(m, k)
	case ok && errors.Is(err, store.ErrUnavailable) && ctx.Err() == nil:
		c.downUntil = time.Now().Add(staleRetry)
		return e.v, now, nil
	}
	return v, time.Time{}, err
}

// Tenant returns a tenant, from the cache when fresh.
func (a *Authenticator) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	t, _, err := lookup(ctx, &a.cache.cacheState, a.cache.tenants, id, false, func(ctx context.Context) (store.Tenant, error) {
		return a.st.Tenants().Get(ctx, id)
	})
	return t, err
}

// client returns a client, from the cache when fresh; cachedAt is zero
// when it was read from the store.
func (a *Authenticator) client(ctx context.Context, tenant, id string) (store.Client, time.Time, error) {
	return a.lookupClient(ctx, tenant, id, false)
}

// KnownClient returns client id of tenant as the cache holds it (read
// through on a miss, dropped on change like every cached client), without
// authenticating anything: for a caller that has already authenticated
// the client by other means (its own token).
func (a *Authenticator) KnownClient(ctx context.Context, tenant, id string) (store.Client, error) {
	c, _, err := a.client(ctx, tenant, id)
	return c, err
}

// clientFresh reads a client from the store and caches it (the last known
// record while the database is unavailable).
func (a *Authenticator) clientFresh(ctx context.Context, tenant, id string) (store.Client, time.Time, error) {
	return a.lookupClient(ctx, tenant, id, true)
}

func (a *Authenticator) lookupClient(ctx context.Context, tenant, id string, reread bool) (store.Client, time.Time, error) {
	return lookup(ctx, &a.cache.cacheState, a.cache.clients, [2]string{tenant, id}, reread, func(ctx context.Context) (store.Client, error) {
		return a.st.Clients().Get(ctx, tenant, id)
	})
}

// Invalidate drops cached records a change-log entry names.
func (a *Authenticator) Invalidate(ch store.Change) {
	a.dir.Invalidate(ch)
	if ch.Entity != store.EntityTenant && ch.Entity != store.EntityClient {
		return
	}
	a.cache.mu.Lock()
	defer a.cache.mu.Unlock()
	a.cache.gen++
	switch ch.Entity {
	case store.EntityTenant:
		delete(a.cache.tenants, ch.Tenant)
		for k := range a.cache.clients {
			if k[0] == ch.Tenant {
				delete(a.cache.clients, k)
			}
		}
	case store.EntityClient:
		delete(a.cache.clients, [2]string{ch.Tenant, ch.Key})
	}
}
