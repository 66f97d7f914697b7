package secrets

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Cache defaults.
const (
	DefaultCacheTTL  = 60 * time.Second
	DefaultCacheSize = 10000
)

// Cache keeps the secrets a Resolver read, in memory only, for a bounded
// time and number, so that the backend is not asked on every client
// authentication. Only secrets read are kept: a missing secret or an
// unavailable backend is asked again next time. While an entry is fresh it
// is served even if the backend has gone away since; past its TTL the
// backend must answer again. A secret rotated in the backend is therefore
// taken up within the TTL. Concurrent misses of one secret share one read.
type Cache struct {
	r     Resolver
	ttl   time.Duration
	size  int
	now   func() time.Time
	group singleflight.Group

	mu sync.Mutex
	m  map[cacheKey]cacheEntry
}

type cacheKey struct {
	tenant, backend, mount, path, field string
	version                             int
}

func (k cacheKey) String() string {
	return strings.Join([]string{k.tenant, k.backend, k.mount, k.path, k.field, strconv.Itoa(k.version)}, "\x00")
}

type cacheEntry struct {
	s  Secret
	at time.Time
}

var _ Resolver = (*Cache)(nil)

// NewCache returns r behind a cache of at most size secrets kept for ttl;
// ttl 0 or less caches nothing, size 0 or less is DefaultCacheSize.
func NewCache(r Resolver, ttl time.Duration, size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Cache{r: r, ttl: ttl, size: size, now: time.Now, m: map[cacheKey]cacheEntry{}}
}

// Resolve implements Resolver.
func (c *Cache) Resolve(ctx context.Context, tenant string, ref Ref) (Secret, error) {
	if c.ttl <= 0 {
		return c.r.Resolve(ctx, tenant, ref)
	}
	path, err := ref.Expanded(tenant)
	if err != nil {
		return c.r.Resolve(ctx, tenant, ref)
	}
	k := cacheKey{tenant, ref.Backend, ref.Mount, path, ref.Field, ref.Version}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.s, nil
	}
	// The read is shared, so it runs apart from the first caller's
	// cancellation (the backend bounds its own time); each caller still
	// stops waiting when its own context ends.
	ch := c.group.DoChan(k.String(), func() (any, error) {
		return c.r.Resolve(context.WithoutCancel(ctx), tenant, ref)
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return Secret{}, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	if res.Err != nil {
		return Secret{}, res.Err
	}
	s := res.Val.(Secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.size {
		c.evict(now)
	}
	c.m[k] = cacheEntry{s, now}
	return s, nil
}

// evict drops the expired entries, or one arbitrary entry when none has
// expired. c.mu is held.
func (c *Cache) evict(now time.Time) {
	for k, e := range c.m {
		if now.Sub(e.at) >= c.ttl {
			delete(c.m, k)
		}
	}
	if len(c.m) < c.size {
		return
	}
	for k := range c.m {
		delete(c.m, k)
		return
	}
}

// Len returns how many secrets are cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
