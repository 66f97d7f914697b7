package exchange

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// issuerTTL bounds how long a trusted-issuer record (or its absence) is
// reused without a change-log entry naming it: a change made on this
// replica or seen in the change log drops it at once (Invalidate).
const issuerTTL = 30 * time.Second

// maxIssuers bounds the cached lookups; past it the cache starts over.
const maxIssuers = 10000

type issuerEntry struct {
	ti    store.TrustedIssuer
	found bool
	at    time.Time
}

type issuerCache struct {
	mu sync.Mutex
	m  map[[2]string]issuerEntry
}

// issuer returns the tenant's trusted issuer whose URL is iss, from the
// cache when fresh; store.ErrNotFound when the tenant trusts none.
func (c *Checker) issuer(ctx context.Context, ten, iss string) (store.TrustedIssuer, error) {
	key := [2]string{ten, iss}
	now := time.Now()
	c.cache.mu.Lock()
	e, ok := c.cache.m[key]
	c.cache.mu.Unlock()
	if ok && now.Sub(e.at) < issuerTTL {
		if !e.found {
			return store.TrustedIssuer{}, store.ErrNotFound
		}
		return e.ti, nil
	}
	ti, err := c.o.Store.TrustedIssuers().GetByIssuer(ctx, ten, iss)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ti, err
	}
	c.cache.mu.Lock()
	if c.cache.m == nil || len(c.cache.m) >= maxIssuers {
		c.cache.m = map[[2]string]issuerEntry{}
	}
	c.cache.m[key] = issuerEntry{ti: ti, found: err == nil, at: now}
	c.cache.mu.Unlock()
	return ti, err
}

// Invalidate drops what the cache holds of the tenant a change names,
// when it is a trusted issuer's or the tenant's own.
func (c *Checker) Invalidate(ch store.Change) {
	if ch.Entity != store.EntityTrustedIssuer && ch.Entity != store.EntityTenant {
		return
	}
	c.cache.mu.Lock()
	for k := range c.cache.m {
		if k[0] == ch.Tenant {
			delete(c.cache.m, k)
		}
	}
	c.cache.mu.Unlock()
}
