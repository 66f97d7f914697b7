package authn

import (
	"context"
	"errors"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// Account returns the user record of the user a verified access token of
// tenant (c, from introspect.Verifier.Verify) was issued to, for surfaces
// that show callers their own account. The user is found through the
// token's ledger row, never through its sub, which under the league
// profile is a login that may have changed hands since. A token of no
// user, or of a user since deleted, is a forbidden fault; a store that
// cannot be read is an unavailable fault.
func (a *Authenticator) Account(ctx context.Context, tenant string, c *claims.Claims) (store.User, error) {
	row, err := a.st.Tokens().Get(ctx, tenant, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fault.Forbidden("the token names no account")
	}
	if err != nil {
		return store.User{}, fault.Unavailable(err)
	}
	if row.SubjectType != "user" {
		return store.User{}, fault.Forbidden("the token is not a user's")
	}
	u, err := a.st.Users().Get(ctx, tenant, row.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fault.Forbidden("the token's account no longer exists")
	}
	if err != nil {
		return store.User{}, fault.Unavailable(err)
	}
	return u, nil
}
