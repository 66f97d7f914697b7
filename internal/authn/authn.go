// Package authn answers "who is calling": client authentication (RFC 6749
// §2.3: a secret, RFC 7523 private_key_jwt or client_secret_jwt), user
// login, signed requests and the admin caller check. It parses credentials
// from header and form strings, never from an HTTP request, so that every
// surface authenticates callers the same way.
package authn

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/store"
)

// Credentials are how the client authenticated itself (RFC 6749 §2.3).
type Credentials struct {
	ID     string
	Secret string
	// Assertion is an RFC 7523 client assertion (a JWT).
	Assertion string
	// Method is client_secret_basic, client_secret_post, private_key_jwt,
	// client_secret_jwt or none.
	Method string
}

// Options configure an Authenticator; Store and Audit are required.
type Options struct {
	Store store.Store
	Audit *audit.Recorder
	Log   *slog.Logger
	Now   func() time.Time
	// Throttle slows down password guessing; nil uses DefaultThrottle.
	Throttle *Throttle
	// ClientThrottle slows down client secret guessing (Free per client
	// and address, AddrFree per address); nil uses DefaultClientThrottle.
	ClientThrottle *Throttle
	// PublicURL is the server's public URL: client assertions must be
	// addressed to the tenant's token endpoint under it.
	PublicURL string
	// Secrets keys client_secret_jwt assertions; nil refuses them.
	Secrets SecretKeys
	// StaleFor is how long past their cache lifetime the last known
	// tenants and clients are used while the database is unavailable.
	StaleFor time.Duration
	// SecretCheck, when set, is called with the hash (store.SecretSHA256
	// or store.SecretArgon2id) of every client secret comparison.
	SecretCheck func(hash string)
	// Signers verify signed requests; nil refuses them.
	Signers Signers
	// Legacy holds seed 004's signing credentials and Tokens verifies
	// its tokens; nil refuses those requests.
	Legacy LegacySigners
	Tokens Tokens
	// SecretRefs reads the secrets of clients that hold a reference
	// (store.Client.SecretRef) instead of a hash; nil refuses them as
	// unavailable.
	SecretRefs secrets.Resolver
	// SecretRetryAfter is the Retry-After of an answer to a client whose
	// secret store is unavailable (default 5s).
	SecretRetryAfter time.Duration
	// Directory caches the tenant data of the token paths (users, roles,
	// groups, projects); nil makes one over Store. Invalidate drops its
	// records too.
	Directory *Directory
}

// Authenticator authenticates clients and users.
type Authenticator struct {
	st        store.Store
	audit     *audit.Recorder
	log       *slog.Logger
	now       func() time.Time
	throttle  *Throttle
	cache     *readCache
	dir       *Directory
	publicURL string
	secrets   SecretKeys
	// secretCheck sees the hash work of each client secret comparison.
	secretCheck func(hash string)
	// clientThrottle and hints slow down client secret guessing.
	clientThrottle *Throttle
	hints          *hints
	signers        Signers
	legacy         LegacySigners
	tokens         Tokens
	refs           secrets.Resolver
	refRetry       time.Duration
}

// New returns an Authenticator.
func New(o Options) (*Authenticator, error) {
	if o.Store == nil || o.Audit == nil {
		return nil, errors.New("authn: Store and Audit are required")
	}
	if o.Throttle == nil {
		o.Throttle = DefaultThrottle()
	}
	if o.ClientThrottle == nil {
		o.ClientThrottle = DefaultClientThrottle()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SecretRetryAfter <= 0 {
		o.SecretRetryAfter = 5 * time.Second
	}
	if o.Directory == nil {
		o.Directory = NewDirectory(o.Store, o.StaleFor)
	}
	return &Authenticator{st: o.Store, audit: o.Audit, log: o.Log, now: o.Now,
		throttle: o.Throttle, clientThrottle: o.ClientThrottle, hints: newHints(), cache: newReadCache(o.StaleFor), dir: o.Directory, publicURL: o.PublicURL,
		secrets: o.Secrets, secretCheck: o.SecretCheck, signers: o.Signers, legacy: o.Legacy, tokens: o.Tokens,
		refs: o.SecretRefs, refRetry: o.SecretRetryAfter}, nil
}

// Directory returns the cached tenant data the token paths read.
func (a *Authenticator) Directory() *Directory { return a.dir }

// fail records a failed authentication, counted with the same failures
// of its window (see audit.Recorder.RecordFailure) so that failing callers
// cannot grow the audit log with every request, and returns err.
func (a *Authenticator) fail(ctx context.Context, tenantID, action, subject, clientID, reason string, err error) error {
	a.audit.RecordFailure(ctx, store.AuditEvent{
		Tenant: tenantID, Action: action, Actor: subject, Subject: subject, ClientID: clientID,
		Detail: map[string]string{"reason": reason},
	})
	return err
}
