package grant

import (
	"context"

	"github.com/tokend/tokend/internal/store"
)

// Login and Client are thin wrappers kept for the callers outside the
// token endpoint (customer sessions, introspection, revocation, the
// revocation feed) until they call the Authenticator themselves.

// Login checks a user's login and password (see authn.Authenticator.Login)
// and returns the user's id.
func (e *Engine) Login(ctx context.Context, tenantID, username, pw string) (string, error) {
	u, err := e.authn.Login(ctx, tenantID, "", username, pw)
	return u.ID, err
}

// Client authenticates a confidential client of tenant (see
// authn.Authenticator.Confidential).
func (e *Engine) Client(ctx context.Context, tenantID string, ca ClientAuth) (store.Client, error) {
	return e.authn.Confidential(ctx, tenantID, ca)
}
