package authn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/secrets"
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
	ok, reason, err := a.clientSecret(ctx, tenant, c, ca.Secret)
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
		case !bytes.Equal(fresh.SecretHash, c.SecretHash) || fresh.SecretAlg != c.SecretAlg || fresh.SecretRef != c.SecretRef:
			if ok, reason, err = a.clientSecret(ctx, tenant, fresh, ca.Secret); err != nil {
				return store.Client{}, err
			}
		}
		c = fresh
	}
	if !ok {
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
	if ca.Assertion == "" && !c.Confidential() {
		return store.Client{}, fault.InvalidClient("a public client cannot use this endpoint")
	}
	return c, nil
}

// clientSecret reports whether secret authenticates c, and if not, why
// (for the audit log). A client with a secret reference has its secret
// read through Options.SecretRefs; an unavailable store is an error, never
// a refusal.
func (a *Authenticator) clientSecret(ctx context.Context, tenant string, c store.Client, secret string) (ok bool, reason string, err error) {
	if !c.SecretRef.IsZero() {
		return a.checkRef(ctx, tenant, c, secret)
	}
	ok, err = a.checkSecret(ctx, c, secret)
	switch {
	case ok || err != nil:
		return ok, "", err
	case len(c.SecretHash) == 0:
		return false, "secret sent for a public client", nil
	}
	return false, "wrong secret", nil
}

// checkRef compares secret in constant time with the secret c's reference
// names. The secret missing from its store refuses the client
// (invalid_client); the store unreachable, sealed or slow is a 503
// temporarily_unavailable with a Retry-After, so that an outage never
// reads as wrong credentials and never issues a token.
func (a *Authenticator) checkRef(ctx context.Context, tenant string, c store.Client, secret string) (bool, string, error) {
	if secret == "" {
		return false, "no secret sent", nil
	}
	ref := c.SecretRef
	ref.Client = c.ID
	var s secrets.Secret
	err := errors.New("no resolver of secret references")
	if a.refs != nil {
		s, err = a.refs.Resolve(ctx, tenant, ref)
	}
	switch {
	case err == nil:
		if s.Equal(secret) {
			return true, "", nil
		}
		return false, "wrong secret", nil
	case errors.Is(err, secrets.ErrNotFound):
		a.log.WarnContext(ctx, "client secret not found in its store", "tenant", tenant, "client_id", c.ID,
			"backend", ref.Backend, "err", err)
		return false, "secret not found in " + ref.Backend, nil
	}
	a.log.ErrorContext(ctx, "client secret store unavailable", "tenant", tenant, "client_id", c.ID,
		"backend", ref.Backend, "err", err)
	where := "Vault"
	if ref.Backend == secrets.BackendSealed {
		where = "tokend's sealed secrets"
	}
	return false, "", &fault.Error{Code: fault.CodeUnavailable, Cause: err, RetryAfter: a.refRetry,
		Description: "the client's secret could not be read from " + where + " (unreachable, sealed or too slow); try again later"}
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
