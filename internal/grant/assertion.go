package grant

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
func (e *Engine) authenticateAssertion(ctx context.Context, r *Request) (store.Client, error) {
	var peek jwt.RegisteredClaims
	tok, _, err := jwt.NewParser(jwt.WithStrictDecoding()).ParseUnverified(r.Client.Assertion, &peek)
	if err != nil || peek.Subject == "" || peek.Issuer != peek.Subject || (r.Client.ID != "" && r.Client.ID != peek.Subject) {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+r.Client.ID, r.Client.ID, "malformed client assertion", errClient)
	}
	if err := claims.CheckHeader(tok.Header); err != nil {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+peek.Subject, peek.Subject, "client assertion with a critical header", errClient)
	}
	id := peek.Subject
	c, _, err := e.client(ctx, r.Tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "unknown client", errClient)
	}
	if err != nil {
		return store.Client{}, fault.Unavailable(err)
	}
	alg := tok.Method.Alg()
	if !slices.Contains(assertionAlgs, alg) {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "assertion algorithm "+alg, errClient)
	}
	var key any
	if alg == "HS256" {
		if e.secrets == nil {
			return store.Client{}, errClient
		}
		k, err := e.secrets.ClientSigningKey(ctx, r.Tenant, id)
		if err != nil {
			return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "no signing secret for client_secret_jwt", errClient)
		}
		key, r.Client.Method = k, "client_secret_jwt"
	} else {
		var set jose.JSONWebKeySet
		if c.JWKS == "" || jsonUnmarshal(c.JWKS, &set) != nil {
			return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "no registered keys for private_key_jwt", errClient)
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
			return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "unknown assertion key", errClient)
		}
		r.Client.Method = "private_key_jwt"
	}
	var cl jwt.RegisteredClaims
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithExpirationRequired(), jwt.WithIssuer(id),
		jwt.WithSubject(id), jwt.WithLeeway(30*time.Second), jwt.WithStrictDecoding()).ParseWithClaims(r.Client.Assertion, &cl, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "client assertion: "+err.Error(), errClient)
	}
	iss := tenant.Issuer(e.publicURL, r.Tenant)
	if !slices.Contains(cl.Audience, iss+"/oauth2/token") && !slices.Contains(cl.Audience, iss) {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "client assertion for another audience", errClient)
	}
	if cl.ID == "" || cl.ExpiresAt.Sub(time.Now()) > time.Hour {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "client assertion without jti or living over an hour", errClient)
	}
	if err := e.st.Nonces().Use(ctx, "assert|"+r.Tenant+"|"+id+"|"+cl.ID, cl.ExpiresAt.Add(time.Minute)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "client assertion replayed", errClient)
		}
		return store.Client{}, fault.Unavailable(err)
	}
	if c.Disabled {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+id, id, "client disabled", errClient)
	}
	r.Client.ID = id
	return c, nil
}
