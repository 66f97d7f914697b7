package grant

import (
	"context"
	"errors"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// password is RFC 6749 §4.3, the resource owner password grant. RFC 9700
// §2.4 says it MUST NOT be used, so it is off unless both the tenant and
// the client policy enable it; it exists because existing APIs need it.
type password struct{}

// errLogin is the one answer to every failed login, whether or not the
// account exists.
var errLogin = fault.InvalidGrant("invalid username or password")

func (password) Authorize(ctx context.Context, e *Engine, r *Request, c store.Client, pol store.Policy) (*Subject, error) {
	if !pol.PasswordGrant {
		return nil, fault.UnauthorizedClient("the password grant is not enabled for this tenant and client")
	}
	return e.login(ctx, r, c, pol)
}

// Login checks a user's login and password for other login surfaces
// (customer sessions) with the password grant's throttling, timing and
// audit, and returns the user's id.
func (e *Engine) Login(ctx context.Context, tenantID, username, pw string) (string, error) {
	s, err := e.login(ctx, &Request{Tenant: tenantID, Username: username, Password: pw}, store.Client{}, store.Policy{})
	if err != nil {
		return "", err
	}
	return s.ID, nil
}

func (e *Engine) login(ctx context.Context, r *Request, c store.Client, pol store.Policy) (*Subject, error) {
	if r.Username == "" || r.Password == "" {
		return nil, fault.InvalidRequest("username and password are required")
	}
	login, err := principal.NormalizeLogin(r.Username)
	if err != nil {
		principal.CheckDummy(ctx, r.Password)
		return nil, e.fail(ctx, r.Tenant, "auth.user", "login:"+digest(r.Username), c.ID, "malformed login", errLogin)
	}
	if err := e.throttleCheck(ctx, r.Tenant, login); err != nil {
		return nil, e.fail(ctx, r.Tenant, "auth.user", "login:"+login, c.ID, audit.Throttled, err)
	}
	s, err := password{}.check(ctx, e, r, c, pol, login)
	if err != nil {
		if fault.CodeOf(err) == errLogin.Code {
			e.throttleFail(ctx, r.Tenant, login)
		}
		return nil, err
	}
	e.throttleReset(ctx, r.Tenant, login)
	return s, nil
}

// check verifies the login's password and builds the subject.
func (password) check(ctx context.Context, e *Engine, r *Request, c store.Client, pol store.Policy, login string) (*Subject, error) {
	u, err := e.st.Users().GetByLogin(ctx, r.Tenant, login)
	if errors.Is(err, store.ErrNotFound) {
		principal.CheckDummy(ctx, r.Password)
		return nil, e.fail(ctx, r.Tenant, "auth.user", "login:"+login, c.ID, "unknown login", errLogin)
	}
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	if u.PasswordHash == "" {
		principal.CheckDummy(ctx, r.Password)
		return nil, e.fail(ctx, r.Tenant, "auth.user", "user:"+u.ID, c.ID, "no password set", errLogin)
	}
	ok, err := principal.VerifyPassword(ctx, u.PasswordHash, r.Password)
	if err != nil && ctx.Err() != nil {
		return nil, fault.Unavailable(ctx.Err())
	}
	if !ok {
		return nil, e.fail(ctx, r.Tenant, "auth.user", "user:"+u.ID, c.ID, "wrong password", errLogin)
	}
	if u.Disabled {
		return nil, e.fail(ctx, r.Tenant, "auth.user", "user:"+u.ID, c.ID, "user disabled", errLogin)
	}
	a, err := principal.Expand(ctx, e.st, r.Tenant, u.Roles, u.Groups)
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	return &Subject{
		Type: "user", ID: u.ID, Authority: &a, SessionID: token.NewID(), Refresh: true,
		LifetimeEnd: e.now().Add(time.Duration(pol.RefreshTTL) * time.Second),
	}, nil
}
