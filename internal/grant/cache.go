package grant

import (
	"context"
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

type cached[T any] struct {
	v  T
	at time.Time
}

// readCache keeps tenants and clients the token endpoint reads on every
// request, so the hot path does not query the database for them.
type readCache struct {
	mu      sync.Mutex
	tenants map[string]cached[store.Tenant]
	clients map[[2]string]cached[store.Client]
}

func newReadCache() *readCache {
	return &readCache{tenants: map[string]cached[store.Tenant]{}, clients: map[[2]string]cached[store.Client]{}}
}

func cacheGet[K comparable, T any](mu *sync.Mutex, m map[K]cached[T], k K, now time.Time) (T, bool) {
	mu.Lock()
	defer mu.Unlock()
	e, ok := m[k]
	if !ok || now.Sub(e.at) > cacheTTL {
		var zero T
		return zero, false
	}
	return e.v, true
}

func cachePut[K comparable, T any](mu *sync.Mutex, m map[K]cached[T], k K, v T, at time.Time) {
	mu.Lock()
	defer mu.Unlock()
	if len(m) >= cacheSize {
		for old := range m {
			delete(m, old)
			break
		}
	}
	m[k] = cached[T]{v, at}
}

// tenant returns a tenant, from the cache when fresh.
func (e *Engine) tenant(ctx context.Context, id string) (store.Tenant, error) {
	now := time.Now()
	if t, ok := cacheGet(&e.cache.mu, e.cache.tenants, id, now); ok {
		return t, nil
	}
	t, err := e.st.Tenants().Get(ctx, id)
	if err == nil {
		cachePut(&e.cache.mu, e.cache.tenants, id, t, now)
	}
	return t, err
}

// client returns a client, from the cache when fresh; cachedAt is zero
// when it was read from the store.
func (e *Engine) client(ctx context.Context, tenant, id string) (store.Client, time.Time, error) {
	if c, ok := cacheGet(&e.cache.mu, e.cache.clients, [2]string{tenant, id}, time.Now()); ok {
		return c, time.Now(), nil
	}
	return e.clientFresh(ctx, tenant, id)
}

// clientFresh reads a client from the store and caches it.
func (e *Engine) clientFresh(ctx context.Context, tenant, id string) (store.Client, time.Time, error) {
	now := time.Now()
	c, err := e.st.Clients().Get(ctx, tenant, id)
	if err == nil {
		cachePut(&e.cache.mu, e.cache.clients, [2]string{tenant, id}, c, now)
	}
	return c, time.Time{}, err
}

// Invalidate drops cached records a change-log entry names.
func (e *Engine) Invalidate(ch store.Change) {
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	switch ch.Entity {
	case store.EntityTenant:
		delete(e.cache.tenants, ch.Tenant)
		for k := range e.cache.clients {
			if k[0] == ch.Tenant {
				delete(e.cache.clients, k)
			}
		}
	case store.EntityClient:
		delete(e.cache.clients, [2]string{ch.Tenant, ch.Key})
	}
}
