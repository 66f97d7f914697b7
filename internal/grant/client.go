package grant

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
)

// errClient is the one answer to every failed client authentication, so
// that the response does not say which part was wrong (RFC 6749 §5.2).
var errClient = fault.InvalidClient("client authentication failed")

// authenticate checks the client's credentials (RFC 6749 §2.3.1). A public
// client (no stored secret) authenticates with its id alone and method
// "none"; a confidential client must present its secret.
func (e *Engine) authenticate(ctx context.Context, r *Request) (store.Client, error) {
	if r.Client.Assertion != "" {
		return e.authenticateAssertion(ctx, r)
	}
	if r.Client.ID == "" {
		return store.Client{}, fault.InvalidClient("client authentication is required")
	}
	c, cachedAt, err := e.client(ctx, r.Tenant, r.Client.ID)
	if err == nil && !cachedAt.IsZero() && !e.secretMatches(ctx, c, r.Client.Secret) {
		// The secret may have been rotated since the client was cached.
		c, _, err = e.clientFresh(ctx, r.Tenant, r.Client.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+r.Client.ID, r.Client.ID, "unknown client", errClient)
	}
	if err != nil {
		return store.Client{}, fault.Unavailable(err)
	}
	if len(c.SecretHash) == 0 {
		if r.Client.Secret != "" {
			return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+c.ID, c.ID, "secret sent for a public client", errClient)
		}
	} else {
		ok, err := principal.CheckSecret(ctx, c.SecretHash, c.SecretAlg, r.Client.Secret)
		if err != nil && ctx.Err() != nil {
			return store.Client{}, fault.Unavailable(ctx.Err())
		}
		if !ok || r.Client.Secret == "" {
			return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+c.ID, c.ID, "wrong secret", errClient)
		}
	}
	if c.Disabled {
		return store.Client{}, e.fail(ctx, r.Tenant, "auth.client", "client:"+c.ID, c.ID, "client disabled", errClient)
	}
	return c, nil
}

// Client authenticates a confidential client of tenant for the
// introspection and revocation endpoints (RFC 7662 §2.1, RFC 7009 §2.1).
func (e *Engine) Client(ctx context.Context, tenantID string, ca ClientAuth) (store.Client, error) {
	if _, err := e.tenant(ctx, tenantID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Client{}, fault.NotFound("tenant %q not found", tenantID)
		}
		return store.Client{}, fault.Unavailable(err)
	}
	c, err := e.authenticate(ctx, &Request{Tenant: tenantID, Client: ca})
	if err != nil {
		return store.Client{}, err
	}
	if ca.Assertion == "" && len(c.SecretHash) == 0 {
		return store.Client{}, fault.InvalidClient("a public client cannot use this endpoint")
	}
	return c, nil
}

// secretMatches checks a presented secret without recording anything.
func (e *Engine) secretMatches(ctx context.Context, c store.Client, secret string) bool {
	if len(c.SecretHash) == 0 {
		return secret == ""
	}
	ok, _ := principal.CheckSecret(ctx, c.SecretHash, c.SecretAlg, secret)
	return ok && secret != ""
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
