// Package introspect decides whether a presented token is active: a JWT
// is verified against its tenant's keys, an opaque token is looked up by
// hash, and both are checked against the ledger for revocation.
package introspect

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// KeyVerifier verifies a JWT with a tenant's keys.
type KeyVerifier interface {
	Verify(ctx context.Context, tenant, raw string) (*claims.Claims, error)
	// VerifyCompact checks a compact HS256 token's signature with the
	// tenant's legacy secret and returns its payload.
	VerifyCompact(ctx context.Context, tenant, raw string) ([]byte, error)
	// VerifyNamed checks a kid-named HS256 token's signature with the
	// tenant's secret of that name and returns the name and payload.
	VerifyNamed(ctx context.Context, tenant, raw string) (string, []byte, error)
}

// PeekIssuer returns a JWT's unverified issuer.
type PeekIssuer func(raw string) (string, error)

// Revocations answers from memory whether a token is revoked.
type Revocations interface {
	Reason(tenant string, c *claims.Claims) string
	RowReason(t store.Token) string
}

// Options configure a Verifier; every field but Now and Current is
// required.
type Options struct {
	Store       store.Store
	Keys        KeyVerifier
	Peek        PeekIssuer
	Revocations Revocations
	PublicURL   string
	Now         func() time.Time
	// Current, when set, reports why the in-memory revocation state is
	// too old to answer from (the revocation log unread for longer than
	// the stale window allows), or nil; every token is then answered
	// with an unavailable fault rather than from that state.
	Current func() error
	// Users, when set, reads the users whose tokens' validity depends on
	// them being enabled (authn.Directory, the token paths' cache, is
	// one); nil reads them from Store.
	Users Users
}

// Users finds a tenant's user by id.
type Users interface {
	User(ctx context.Context, tenant, id string) (store.User, error)
}

type storeUsers struct{ st store.Store }

func (u storeUsers) User(ctx context.Context, tenant, id string) (store.User, error) {
	return u.st.Users().Get(ctx, tenant, id)
}

// Verifier checks presented tokens.
type Verifier struct {
	o      Options
	prefix string
	seen   *verified
	rows   *ledgerSeen
}

// New returns a Verifier.
func New(o Options) (*Verifier, error) {
	if o.Store == nil || o.Keys == nil || o.Peek == nil || o.Revocations == nil || o.PublicURL == "" {
		return nil, fmt.Errorf("introspect: Store, Keys, Peek, Revocations and PublicURL are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Users == nil {
		o.Users = storeUsers{o.Store}
	}
	return &Verifier{o: o, prefix: tenant.Issuer(o.PublicURL, ""), seen: newVerified(), rows: newLedgerSeen()}, nil
}

// Invalidate forgets the verified signatures (and the named tokens seen
// in the ledger) of a tenant whose keys or existence changed.
func (v *Verifier) Invalidate(tenant string) {
	v.seen.forget(tenant)
	v.rows.forget(tenant)
}

// Identity is a verified, active token.
type Identity struct {
	Tenant string
	Claims claims.Claims
	Format string
}

// Verify returns the identity of an active token or an invalid_token fault.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Identity, error) {
	if raw == "" {
		return nil, fault.InvalidToken("no token")
	}
	if err := v.current(); err != nil {
		return nil, err
	}
	if token.IsOpaque(raw) || token.IsHex(raw) || token.IsSession(raw) {
		return v.opaque(ctx, raw, false)
	}
	ten, c, ok := v.seen.get(raw, v.o.Now())
	if !ok {
		iss, err := v.o.Peek(raw)
		if err != nil {
			return nil, fault.InvalidToken("malformed token").WithReason(fault.ReasonMalformed)
		}
		var found bool
		ten, found = strings.CutPrefix(iss, v.prefix)
		if !found || ten == "" || strings.Contains(ten, "/") {
			return nil, fault.InvalidToken("unknown issuer")
		}
		if c, err = v.o.Keys.Verify(ctx, ten, raw); err != nil {
			return nil, err
		}
		v.seen.put(raw, ten, c)
	}
	// A signed token is checked against the in-memory deny-list only: no
	// I/O on this path.
	if why := v.o.Revocations.Reason(ten, c); why != "" {
		return nil, fault.InvalidToken("%s", why).WithReason(fault.ReasonRevoked)
	}
	return &Identity{Tenant: ten, Claims: *c, Format: store.FormatJWT}, nil
}

// Introspect is Verify for the introspection endpoint: refresh tokens
// are accepted too (active while neither used, revoked nor expired).
func (v *Verifier) Introspect(ctx context.Context, raw string) (*Identity, error) {
	if token.IsOpaque(raw) || token.IsHex(raw) || token.IsSession(raw) {
		if err := v.current(); err != nil {
			return nil, err
		}
		return v.opaque(ctx, raw, true)
	}
	return v.Verify(ctx, raw)
}

func (v *Verifier) current() error {
	if v.o.Current == nil {
		return nil
	}
	if err := v.o.Current(); err != nil {
		return fault.Unavailable(err)
	}
	return nil
}

func (v *Verifier) opaque(ctx context.Context, raw string, refresh bool) (*Identity, error) {
	if token.IsHex(raw) {
		raw = token.CanonicalHex(raw) // seed 004's form (store.FormatHex)
	} else if token.IsSession(raw) {
		// seed 001's customer access token (store.FormatSession)
	} else if _, err := token.ParseOpaque(raw); err != nil {
		return nil, fault.InvalidToken("malformed token")
	}
	row, err := v.o.Store.Tokens().GetByHash(ctx, token.Hash(raw))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.InvalidToken("token unknown")
		}
		return nil, fault.Unavailable(err)
	}
	now := v.o.Now()
	switch {
	case row.Kind == claims.KindRefresh && !refresh:
		return nil, fault.InvalidToken("a refresh token is not an access token")
	case row.Kind == claims.KindRefresh && row.UsedAt != nil:
		return nil, fault.InvalidToken("refresh token already used")
	case row.RevokedAt != nil && !now.Before(*row.RevokedAt):
		return nil, fault.InvalidToken("token revoked").WithReason(fault.ReasonRevoked)
	case v.o.Revocations.RowReason(row) != "":
		return nil, fault.InvalidToken("%s", v.o.Revocations.RowReason(row)).WithReason(fault.ReasonRevoked)
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, fault.InvalidToken("token expired").WithReason(fault.ReasonExpired)
	}
	format := row.Format
	if format != store.FormatHex && format != store.FormatSession {
		format = store.FormatOpaque
	}
	return &Identity{Tenant: row.Tenant, Claims: ClaimsOf(v.o.PublicURL, row), Format: format}, nil
}

// ClaimsOf renders a ledger row as the claims it stands for.
func ClaimsOf(publicURL string, row store.Token) claims.Claims {
	c := claims.Claims{
		Issuer: tenant.Issuer(publicURL, row.Tenant), Subject: row.Subject,
		Audience: row.Audience, IssuedAt: row.IssuedAt.Unix(), ID: row.ID,
		ClientID: row.ClientID, Scope: strings.Join(row.Scope, " "),
		Kind: row.Kind, SubjectType: row.SubjectType, SessionID: row.SessionID,
		Origins: nonEmpty(row.Origins), Channels: nonEmpty(row.Channels), ServerSide: row.ServerSide,
	}
	if row.ExpiresAt != nil {
		c.ExpiresAt = row.ExpiresAt.Unix()
	}
	if row.LifetimeEnd != nil {
		c.LifetimeEnd = row.LifetimeEnd.Unix()
	}
	if row.Actor != "" {
		c.Act = &claims.Actor{Subject: row.Actor}
	}
	return c
}

func nonEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// ActFor applies an impersonation token (seed 001) to one request: the
// customer named by the request becomes the subject and the client that
// holds the token its actor (RFC 8693 §4.1). A customer the tenant does
// not have is a forbidden fault; a storage failure is unavailable.
func (v *Verifier) ActFor(ctx context.Context, id *Identity, customer string) (claims.Claims, error) {
	cl := id.Claims
	if _, err := v.o.Store.Users().Get(ctx, id.Tenant, customer); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return claims.Claims{}, fault.Forbidden("customer %s does not exist", strconv.Quote(customer))
		}
		return claims.Claims{}, fault.Unavailable(err)
	}
	cl.Act = &claims.Actor{Subject: cl.Subject, ClientID: cl.ClientID}
	cl.Subject, cl.SubjectType = customer, "customer"
	return cl, nil
}
