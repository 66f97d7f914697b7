package authn

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
)

// AssertionType is the client_assertion_type of RFC 7523 §2.2.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// SecretKeys returns a client's signing secret, the HMAC key of its
// client_secret_jwt assertions (client secrets themselves are stored as
// hashes and cannot key an HMAC).
type SecretKeys interface {
	ClientSigningKey(ctx context.Context, tenant, clientID string) ([]byte, error)
}

// assertionAlgs are the algorithms accepted in client assertions.
var assertionAlgs = []string{"RS256", "ES256", "EdDSA", "HS256"}

// authenticateAssertion is RFC 7523 §3 client authentication: a JWT whose
// iss and sub are the client id, whose aud names this tenant's token
// endpoint (or issuer), with exp, and a jti used once; signed with a key
// of the client's JWKS (private_key_jwt) or, with HS256, its signing
// secret (client_secret_jwt).
func (a *Authenticator) authenticateAssertion(ctx context.Context, tenantID string, ca *Credentials) (store.Client, error) {
	var peek jwt.RegisteredClaims
	tok, _, err := jwt.NewParser(jwt.WithStrictDecoding()).ParseUnverified(ca.Assertion, &peek)
	malformed := err != nil || peek.Subject == "" || peek.Issuer != peek.Subject || (ca.ID != "" && ca.ID != peek.Subject)
	id := peek.Subject
	if malformed {
		id = ca.ID
	}
	if err := a.clientGuard(ctx, tenantID, id); err != nil {
		return store.Client{}, err
	}
	if malformed {
		return store.Client{}, a.clientFail(ctx, tenantID, id, "malformed client assertion")
	}
	if err := claims.CheckHeader(tok.Header); err != nil {
		return store.Client{}, a.clientFail(ctx, tenantID, id, "client assertion with a critical header")
	}
	c, _, err := a.client(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, a.clientFail(ctx, tenantID, id, "unknown client")
	}
	if err != nil {
		return store.Client{}, fault.Unavailable(err)
	}
	alg := tok.Method.Alg()
	if !slices.Contains(assertionAlgs, alg) {
		return store.Client{}, a.clientFail(ctx, tenantID, id, "assertion algorithm "+alg)
	}
	var key any
	if alg == "HS256" {
		if a.secrets == nil {
			return store.Client{}, errClient
		}
		k, err := a.secrets.ClientSigningKey(ctx, tenantID, id)
		if err != nil {
			return store.Client{}, a.clientFail(ctx, tenantID, id, "no signing secret for client_secret_jwt")
		}
		key, ca.Method = k, "client_secret_jwt"
	} else {
		var set jose.JSONWebKeySet
		if c.JWKS == "" || jsonUnmarshal(c.JWKS, &set) != nil {
			return store.Client{}, a.clientFail(ctx, tenantID, id, "no registered keys for private_key_jwt")
		}
		kid, _ := tok.Header["kid"].(string)
		for _, k := range set.Keys {
			if (kid == "" && len(set.Keys) == 1) || k.KeyID == kid {
				if k.Algorithm == "" || k.Algorithm == alg {
					key = k.Key
				}
			}
		}
		if key == nil {
			return store.Client{}, a.clientFail(ctx, tenantID, id, "unknown assertion key")
		}
		ca.Method = "private_key_jwt"
	}
	var cl jwt.RegisteredClaims
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithExpirationRequired(), jwt.WithIssuer(id),
		jwt.WithSubject(id), jwt.WithLeeway(30*time.Second), jwt.WithStrictDecoding()).ParseWithClaims(ca.Assertion, &cl, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		return store.Client{}, a.clientFail(ctx, tenantID, id, "client assertion: "+err.Error())
	}
	iss := tenant.Issuer(a.publicURL, tenantID)
	if !slices.Contains(cl.Audience, iss+"/oauth2/token") && !slices.Contains(cl.Audience, iss) {
		return store.Client{}, a.clientFail(ctx, tenantID, id, "client assertion for another audience")
	}
	if cl.ID == "" || cl.ExpiresAt.Sub(time.Now()) > time.Hour {
		return store.Client{}, a.clientFail(ctx, tenantID, id, "client assertion without jti or living over an hour")
	}
	if err := a.st.Nonces().Use(ctx, "assert|"+tenantID+"|"+id+"|"+cl.ID, cl.ExpiresAt.Add(time.Minute)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Client{}, a.clientFail(ctx, tenantID, id, "client assertion replayed")
		}
		return store.Client{}, fault.Unavailable(err)
	}
	if c.Disabled {
		return store.Client{}, a.clientFail(ctx, tenantID, id, "client disabled")
	}
	ca.ID = id
	a.clientThrottleReset(ctx, tenantID, id)
	return c, nil
}
