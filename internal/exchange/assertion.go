package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
)

// Assertion checks an RFC 7523 §2.1 authorization grant for client c of
// tenant ten: a JWT signed by a trusted issuer (its sub mapped to a user
// as for token exchange) or by a key of the client's registered JWKS (its
// sub the client itself or a user's login), whose aud names this tenant's
// token endpoint or issuer (§3 item 3), with an exp at most
// MaxAssertionLife ahead, and a jti accepted once on every replica
// (§3 item 7).
func (c *Checker) Assertion(ctx context.Context, ten string, cl store.Client, raw string) (*Identity, error) {
	const field = "assertion"
	if len(raw) > MaxTokenBytes {
		return nil, fault.InvalidRequest("assertion is larger than %d bytes", MaxTokenBytes)
	}
	p, err := UnsafePeek(raw)
	if err != nil {
		return nil, fault.InvalidGrant("assertion is not a well-formed JWT")
	}
	if p.Issuer == "" {
		return nil, fault.InvalidGrant("assertion has no iss")
	}
	var (
		payload []byte
		ti      store.TrustedIssuer
		byKey   = p.Issuer == cl.ID
	)
	if byKey {
		if err := checkHeader(p.Header, Algorithms); err != nil {
			return nil, err
		}
		if payload, err = clientVerify(cl, p.Header, raw); err != nil {
			return nil, err
		}
	} else {
		ti, err = c.issuer(ctx, ten, p.Issuer)
		if errors.Is(err, store.ErrNotFound) || err == nil && ti.Disabled {
			return nil, fault.InvalidGrant("assertion is from an issuer this tenant does not trust, nor the client itself")
		}
		if err != nil {
			return nil, fault.Unavailable(err)
		}
		if err := checkHeader(p.Header, ti.Settings.Algorithms); err != nil {
			return nil, err
		}
		if payload, err = c.o.Upstream.Verify(ctx, ti.Issuer, ti.Settings.Algorithms, raw); err != nil {
			return nil, upstreamFault(err, field)
		}
	}
	ext, err := parseClaims(payload)
	if err != nil {
		return nil, fault.InvalidGrant("assertion: %v", err)
	}
	if ext.Iss != p.Issuer {
		return nil, fault.InvalidGrant("assertion: iss changed between header and payload")
	}
	var maxAge int64
	if !byKey {
		maxAge = ti.Settings.MaxAge
	}
	if err := c.checkTimes(ext, maxAge, field, true); err != nil {
		return nil, err
	}
	own := tenant.Issuer(c.o.PublicURL, ten)
	if !slices.Contains(ext.Aud, own+"/oauth2/token") && !slices.Contains(ext.Aud, own) {
		return nil, fault.InvalidGrant("assertion is for another audience: aud must name %s/oauth2/token or %s", own, own)
	}
	if time.Unix(*ext.Exp, 0).After(c.clock().Add(c.o.MaxAssertionLife + Skew)) {
		return nil, fault.InvalidGrant("assertion expires more than %s ahead", c.o.MaxAssertionLife)
	}
	if ext.Sub == "" {
		return nil, fault.InvalidGrant("assertion has no sub")
	}
	if ext.Jti == "" {
		return nil, fault.InvalidGrant("assertion has no jti")
	}
	var id *Identity
	switch {
	case !byKey:
		if id, err = c.external(ctx, ti, ext, field, true); err != nil {
			return nil, err
		}
	case ext.Sub == cl.ID:
		id = &Identity{Issuer: p.Issuer, Subject: ext.Sub, SubjectType: "client", ID: cl.ID}
	default:
		u, err := c.o.Store.Users().GetByLogin(ctx, ten, ext.Sub)
		if errors.Is(err, store.ErrNotFound) {
			u, err = c.o.Store.Users().Get(ctx, ten, ext.Sub)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.InvalidGrant("assertion names no user of this tenant")
		}
		if err != nil {
			return nil, fault.Unavailable(err)
		}
		if u.Disabled {
			return nil, fault.InvalidGrant("assertion names a disabled user")
		}
		id = &Identity{Issuer: p.Issuer, Subject: ext.Sub, SubjectType: "user", ID: u.ID, Login: u.Login, Roles: u.Roles, Groups: u.Groups}
	}
	// The jti is recorded last, once everything else holds, so a refused
	// assertion uses none up.
	if err := c.o.Store.TrustedIssuers().UseJTI(ctx, ten, p.Issuer, ext.Jti, time.Unix(*ext.Exp, 0).Add(Skew)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fault.InvalidGrant("assertion replayed: its jti was used already")
		}
		return nil, fault.Unavailable(err)
	}
	id.Expires = time.Unix(*ext.Exp, 0)
	return id, nil
}

// clientVerify checks the assertion's signature with a key of the
// client's registered JWKS (the keys of migration 5).
func clientVerify(cl store.Client, h Header, raw string) ([]byte, error) {
	var set jose.JSONWebKeySet
	if cl.JWKS == "" || json.Unmarshal([]byte(cl.JWKS), &set) != nil {
		return nil, fault.InvalidGrant("assertion is signed by the client, which has no registered keys")
	}
	var key *jose.JSONWebKey
	for i, k := range set.Keys {
		if (h.Kid == "" && len(set.Keys) == 1) || k.KeyID == h.Kid {
			if k.Algorithm == "" || k.Algorithm == h.Alg {
				key = &set.Keys[i]
			}
		}
	}
	if key == nil {
		return nil, fault.InvalidGrant("assertion is signed with a key the client has not registered")
	}
	sig, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Alg)})
	if err != nil {
		return nil, fault.InvalidGrant("assertion is a malformed JWS")
	}
	payload, err := sig.Verify(key.Key)
	if err != nil {
		return nil, fault.InvalidGrant("assertion: the signature does not verify with the client's key")
	}
	return payload, nil
}
