package introspect

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/tokend/tokend/claims"
)

// verifiedCacheSize bounds the cache of verified signatures.
const verifiedCacheSize = 65536

// verified remembers tokens whose signature checked out, keyed by the
// SHA-256 of the exact token bytes: the same token presented again skips
// the signature check (the cryptographic cost of introspection and the
// gateway check) but never the expiry or the revocation check. Entries of
// a tenant are dropped when its keys change.
type verified struct {
	mu sync.Mutex
	m  map[[32]byte]verifiedEntry
}

type verifiedEntry struct {
	tenant string
	claims *claims.Claims
}

func newVerified() *verified { return &verified{m: map[[32]byte]verifiedEntry{}} }

func (c *verified) get(raw string, now time.Time) (string, *claims.Claims, bool) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok {
		return "", nil, false
	}
	if e.claims.ExpiresAt != 0 && now.Unix() >= e.claims.ExpiresAt {
		c.mu.Lock()
		delete(c.m, k)
		c.mu.Unlock()
		return "", nil, false // verified again, and refused as expired there
	}
	return e.tenant, e.claims, true
}

func (c *verified) put(raw, tenant string, cl *claims.Claims) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= verifiedCacheSize {
		for old := range c.m { // an arbitrary entry: O(1), bounded memory
			delete(c.m, old)
			break
		}
	}
	c.m[k] = verifiedEntry{tenant: tenant, claims: cl}
}

// forget drops a tenant's entries (its keys or the tenant changed).
func (c *verified) forget(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.tenant == tenant {
			delete(c.m, k)
		}
	}
}
