package grant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/tokend/tokend/internal/audit"
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
	if err := e.clientGuard(ctx, r.Tenant, r.Client.ID); err != nil {
		return store.Client{}, err
	}
	c, cachedAt, err := e.client(ctx, r.Tenant, r.Client.ID)
	if errors.Is(err, store.ErrNotFound) {
		// The work of a wrong secret, so that an unknown client is not
		// answered faster than a known one.
		if _, err := e.checkSecret(ctx, store.Client{}, r.Client.Secret); err != nil {
			return store.Client{}, err
		}
		return store.Client{}, e.clientFail(ctx, r.Tenant, r.Client.ID, "unknown client")
	}
	if err != nil {
		return store.Client{}, fault.Unavailable(err)
	}
	ok, err := e.checkSecret(ctx, c, r.Client.Secret)
	if err != nil {
		return store.Client{}, err
	}
	if !ok && !cachedAt.IsZero() {
		// The secret may have been rotated since the client was cached:
		// read it again, and check again only if its secret changed.
		fresh, _, err := e.clientFresh(ctx, r.Tenant, r.Client.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return store.Client{}, e.clientFail(ctx, r.Tenant, r.Client.ID, "unknown client")
		case err != nil:
			return store.Client{}, fault.Unavailable(err)
		case !bytes.Equal(fresh.SecretHash, c.SecretHash) || fresh.SecretAlg != c.SecretAlg:
			if ok, err = e.checkSecret(ctx, fresh, r.Client.Secret); err != nil {
				return store.Client{}, err
			}
		}
		c = fresh
	}
	if !ok {
		reason := "wrong secret"
		if len(c.SecretHash) == 0 {
			reason = "secret sent for a public client"
		}
		return store.Client{}, e.clientFail(ctx, r.Tenant, c.ID, reason)
	}
	if c.Disabled {
		return store.Client{}, e.clientFail(ctx, r.Tenant, c.ID, "client disabled")
	}
	e.clientThrottleReset(ctx, r.Tenant, c.ID)
	return c, nil
}

// clientGuard refuses a client authentication the throttle blocks, before
// any credential is checked.
func (e *Engine) clientGuard(ctx context.Context, tenant, id string) error {
	err := e.clientThrottleCheck(ctx, tenant, id)
	if fault.CodeOf(err) == fault.CodeRateLimited {
		_ = e.fail(ctx, tenant, "auth.client", "client:"+clientName(id), clientName(id), audit.Throttled, err)
	}
	return err
}

// clientFail counts and records a failed client authentication and
// returns the one answer every such failure gets.
func (e *Engine) clientFail(ctx context.Context, tenant, id, reason string) error {
	e.clientThrottleFail(ctx, tenant, id)
	return e.fail(ctx, tenant, "auth.client", "client:"+clientName(id), clientName(id), reason, errClient)
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

// checkSecret reports whether secret authenticates c (the zero Client for
// one that does not exist). A public client authenticates with no secret;
// a secret sent to it is checked against nothing, at the cost of a wrong
// one. The hash work spent is the same for every client (see
// [principal.CheckSecret]) and is reported to Options.SecretCheck.
func (e *Engine) checkSecret(ctx context.Context, c store.Client, secret string) (bool, error) {
	if c.ID != "" && len(c.SecretHash) == 0 && secret == "" {
		return true, nil
	}
	ok, work, err := principal.CheckSecret(ctx, c.SecretHash, c.SecretAlg, secret)
	if work != "" && e.secretCheck != nil {
		e.secretCheck(work)
	}
	if err != nil && ctx.Err() != nil {
		return false, fault.Unavailable(ctx.Err())
	}
	return ok, nil
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
