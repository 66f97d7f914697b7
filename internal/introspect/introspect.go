// Package introspect decides whether a presented token is active: a JWT
// is verified against its tenant's keys, an opaque token is looked up by
// hash, and both are checked against the ledger for revocation.
package introspect

import (
	"context"
	"errors"
	"fmt"
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
}

// PeekIssuer returns a JWT's unverified issuer.
type PeekIssuer func(raw string) (string, error)

// Options configure a Verifier; every field but Now is required.
type Options struct {
	Store     store.Store
	Keys      KeyVerifier
	Peek      PeekIssuer
	PublicURL string
	Now       func() time.Time
}

// Verifier checks presented tokens.
type Verifier struct {
	o      Options
	prefix string
}

// New returns a Verifier.
func New(o Options) (*Verifier, error) {
	if o.Store == nil || o.Keys == nil || o.Peek == nil || o.PublicURL == "" {
		return nil, fmt.Errorf("introspect: Store, Keys, Peek and PublicURL are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Verifier{o: o, prefix: tenant.Issuer(o.PublicURL, "")}, nil
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
	if token.IsOpaque(raw) {
		return v.opaque(ctx, raw)
	}
	iss, err := v.o.Peek(raw)
	if err != nil {
		return nil, fault.InvalidToken("malformed token")
	}
	ten, ok := strings.CutPrefix(iss, v.prefix)
	if !ok || ten == "" || strings.Contains(ten, "/") {
		return nil, fault.InvalidToken("unknown issuer")
	}
	c, err := v.o.Keys.Verify(ctx, ten, raw)
	if err != nil {
		return nil, err
	}
	row, err := v.o.Store.Tokens().Get(ctx, ten, c.ID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.InvalidToken("token unknown")
		}
		return nil, fault.Unavailable(err)
	}
	if row.RevokedAt != nil {
		return nil, fault.InvalidToken("token revoked")
	}
	return &Identity{Tenant: ten, Claims: *c, Format: store.FormatJWT}, nil
}

func (v *Verifier) opaque(ctx context.Context, raw string) (*Identity, error) {
	if _, err := token.ParseOpaque(raw); err != nil {
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
	case row.RevokedAt != nil:
		return nil, fault.InvalidToken("token revoked")
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, fault.InvalidToken("token expired")
	}
	return &Identity{Tenant: row.Tenant, Claims: ClaimsOf(v.o.PublicURL, row), Format: store.FormatOpaque}, nil
}

// ClaimsOf renders a ledger row as the claims it stands for.
func ClaimsOf(publicURL string, row store.Token) claims.Claims {
	c := claims.Claims{
		Issuer: tenant.Issuer(publicURL, row.Tenant), Subject: row.Subject,
		Audience: row.Audience, IssuedAt: row.IssuedAt.Unix(), ID: row.ID,
		ClientID: row.ClientID, Scope: strings.Join(row.Scope, " "),
		Kind: row.Kind, SubjectType: row.SubjectType, SessionID: row.SessionID,
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
