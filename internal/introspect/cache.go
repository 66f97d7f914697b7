package introspect

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/store"
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

// ledgerSeen remembers named HS256 tokens (store.FormatNamed) that were
// verified once in full — signature with the tenant's secret of their
// kid, then their ledger row read and found live — keyed by the SHA-256
// of the exact token bytes, with the row as read.
//
// Why the row is read at all: a named secret is shared with the legacy
// services that verify these tokens (seed 002's JWT_DEF_SECRET), so a
// valid signature alone does not prove that tokend issued the token; the
// ledger row does. Presented again, the same bytes need neither read:
//   - issued by tokend: a ledger row, once written, stays until pruning,
//     which removes only rows past their expiry, which the entry's exp
//     refuses anyway; the tenant deleted, or its keys changed, drops the
//     tenant's entries (Verifier.Invalidate), as for JWTs;
//   - not revoked: a row's revoked_at is set only by revoke.Service,
//     which logs the same revocation (by id, or a cutoff covering it) and
//     applies it to the in-memory deny-list at once on this replica and
//     on the others when they follow the log — the deny-list RowReason
//     consults for every presentation, and which Options.Current refuses
//     to answer from when the log is unread for too long. This is the
//     check a JWT gets (Verifier.Verify), applied to the row's fields;
//   - expiry is checked against the entry's exp on every presentation;
//   - the user is checked on every presentation (Options.Users).
//
// Only successes are remembered; a token unknown to the ledger is read
// again each time.
type ledgerSeen struct {
	mu sync.Mutex
	m  map[[32]byte]seenEntry
}

type seenEntry struct {
	tenant string
	row    store.Token
	// exp and nbf are the token's own claims (0: none).
	exp, nbf int64
}

func newLedgerSeen() *ledgerSeen { return &ledgerSeen{m: map[[32]byte]seenEntry{}} }

func (c *ledgerSeen) get(raw string) (seenEntry, bool) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e, ok
}

func (c *ledgerSeen) put(raw string, e seenEntry) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= verifiedCacheSize {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = e
}

func (c *ledgerSeen) drop(raw string) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

func (c *ledgerSeen) forget(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.tenant == tenant {
			delete(c.m, k)
		}
	}
}
