package authn

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

// Client checks the credentials of a client of tenant (RFC 6749 §2.3.1).
// A public client (no stored secret) authenticates with its id alone and
// method "none"; a confidential client must present its secret. An
// assertion sets ca's ID and Method from what it proved.
func (a *Authenticator) Client(ctx context.Context, tenant string, ca *Credentials) (store.Client, error) {
	if ca.Assertion != "" {
		return a.authenticateAssertion(ctx, tenant, ca)
	}
	if ca.ID == "" {
		return store.Client{}, fault.InvalidClient("client authentication is required")
	}
	if err := a.clientGuard(ctx, tenant, ca.ID); err != nil {
		return store.Client{}, err
	}
	c, cachedAt, err := a.client(ctx, tenant, ca.ID)
	if errors.Is(err, store.ErrNotFound) {
		// The work of a wrong secret, so that an unknown client is not
		// answered faster than a known one.
		if _, err := a.checkSecret(ctx, store.Client{}, ca.Secret); err != nil {
			return store.Client{}, err
		}
		return store.Client{}, a.clientFail(ctx, tenant, ca.ID, "unknown client")
	}
	if err != nil {
		return store.Client{}, fault.Unavailable(err)
	}
	ok, err := a.checkSecret(ctx, c, ca.Secret)
	if err != nil {
		return store.Client{}, err
	}
	if !ok && !cachedAt.IsZero() {
		// The secret may have been rotated since the client was cached:
		// read it again, and check again only if its secret changed.
		fresh, _, err := a.clientFresh(ctx, tenant, ca.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return store.Client{}, a.clientFail(ctx, tenant, ca.ID, "unknown client")
		case err != nil:
			return store.Client{}, fault.Unavailable(err)
		case !bytes.Equal(fresh.SecretHash, c.SecretHash) || fresh.SecretAlg != c.SecretAlg:
			if ok, err = a.checkSecret(ctx, fresh, ca.Secret); err != nil {
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
		return store.Client{}, a.clientFail(ctx, tenant, c.ID, reason)
	}
	if c.Disabled {
		return store.Client{}, a.clientFail(ctx, tenant, c.ID, "client disabled")
	}
	a.clientThrottleReset(ctx, tenant, c.ID)
	return c, nil
}

// clientGuard refuses a client authentication the throttle blocks, before
// any credential is checked.
func (a *Authenticator) clientGuard(ctx context.Context, tenant, id string) error {
	err := a.clientThrottleCheck(ctx, tenant, id)
	if fault.CodeOf(err) == fault.CodeRateLimited {
		_ = a.fail(ctx, tenant, "auth.client", "client:"+clientName(id), clientName(id), audit.Throttled, err)
	}
	return err
}

// clientFail counts and records a failed client authentication and
// returns the one answer every such failure gets.
func (a *Authenticator) clientFail(ctx context.Context, tenant, id, reason string) error {
	a.clientThrottleFail(ctx, tenant, id)
	return a.fail(ctx, tenant, "auth.client", "client:"+clientName(id), clientName(id), reason, errClient)
}

// Confidential authenticates a confidential client of tenant for the
// introspection and revocation endpoints (RFC 7662 §2.1, RFC 7009 §2.1).
func (a *Authenticator) Confidential(ctx context.Context, tenantID string, ca Credentials) (store.Client, error) {
	if _, err := a.Tenant(ctx, tenantID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Client{}, fault.NotFound("tenant %q not found", tenantID)
		}
		return store.Client{}, fault.Unavailable(err)
	}
	c, err := a.Client(ctx, tenantID, &ca)
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
func (a *Authenticator) checkSecret(ctx context.Context, c store.Client, secret string) (bool, error) {
	if c.ID != "" && len(c.SecretHash) == 0 && secret == "" {
		return true, nil
	}
	ok, work, err := principal.CheckSecret(ctx, c.SecretHash, c.SecretAlg, secret)
	if work != "" && a.secretCheck != nil {
		a.secretCheck(work)
	}
	if err != nil && ctx.Err() != nil {
		return false, fault.Unavailable(ctx.Err())
	}
	return ok, nil
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
