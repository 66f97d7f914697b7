package grant

import (
	"context"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// password is RFC 6749 §4.3, the resource owner password grant. RFC 9700
// §2.4 says it MUST NOT be used, so it is off unless both the tenant and
// the client policy enable it; it exists because existing APIs need it.
type password struct{}

func (password) Authorize(ctx context.Context, e *Engine, r *Request, c store.Client, pol store.Policy) (*Subject, error) {
	if !pol.PasswordGrant {
		return nil, fault.UnauthorizedClient("the password grant is not enabled for this tenant and client")
	}
	u, err := e.authn.LoginIn(ctx, r.Tenant, c.ID, pol.LoginGroup, r.Username, r.Password)
	if err != nil {
		return nil, err
	}
	a, err := principal.ExpandFrom(ctx, e.authn.Directory(), r.Tenant, u.Roles, u.Groups)
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	return &Subject{
		Type: "user", ID: u.ID, Login: u.Login, Authority: &a, SessionID: token.NewID(), Refresh: true,
		LifetimeEnd: e.now().Add(time.Duration(pol.RefreshTTL) * time.Second),
	}, nil
}
