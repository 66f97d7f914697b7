package authn

import (
	"context"
	"errors"
	"slices"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
)

// errLogin is the one answer to every failed login, whether or not the
// account exists.
var errLogin = fault.InvalidGrant("invalid username or password")

// Login checks a user's login and password in tenant, throttled per
// account and address, with the same work and the same answer whether or
// not the account exists; clientID (empty for none) is the client that
// asked, as failure events record it. It returns the user.
func (a *Authenticator) Login(ctx context.Context, tenant, clientID, username, password string) (store.User, error) {
	return a.LoginIn(ctx, tenant, clientID, "", username, password)
}

// LoginIn is Login for a client that may log in only the users of group
// (store.Policy.LoginGroup; empty: any user): a user outside it gets the
// answer of a wrong password, after the same work. Right credentials of a
// disabled user get that answer too, refined by fault.ReasonUserDisabled
// for surfaces whose legacy API tells it apart.
func (a *Authenticator) LoginIn(ctx context.Context, tenant, clientID, group, username, password string) (store.User, error) {
	if username == "" {
		return store.User{}, fault.InvalidRequest("username and password are required").WithReason(fault.ReasonMissing).WithValue("username")
	}
	if password == "" {
		return store.User{}, fault.InvalidRequest("username and password are required").WithReason(fault.ReasonMissing).WithValue("password")
	}
	login, err := principal.NormalizeLogin(username)
	if err != nil {
		principal.CheckDummy(ctx, password)
		return store.User{}, a.fail(ctx, tenant, "auth.user", "login:"+digest(username), clientID, "malformed login", errLogin)
	}
	if err := a.throttleCheck(ctx, tenant, login); err != nil {
		return store.User{}, a.fail(ctx, tenant, "auth.user", "login:"+login, clientID, audit.Throttled, err)
	}
	u, err := a.checkLogin(ctx, tenant, clientID, group, login, password)
	if err != nil {
		if fault.CodeOf(err) == errLogin.Code {
			a.throttleFail(ctx, tenant, login)
		}
		return store.User{}, err
	}
	a.throttleReset(ctx, tenant, login)
	return u, nil
}

// checkLogin verifies the login's password.
func (a *Authenticator) checkLogin(ctx context.Context, tenant, clientID, group, login, password string) (store.User, error) {
	u, cachedAt, err := a.dir.userByLogin(ctx, tenant, login, false)
	if errors.Is(err, store.ErrNotFound) {
		principal.CheckDummy(ctx, password)
		return store.User{}, a.fail(ctx, tenant, "auth.user", "login:"+login, clientID, "unknown login", errLogin)
	}
	if err != nil {
		return store.User{}, fault.Unavailable(err)
	}
	if u.PasswordHash == "" {
		principal.CheckDummy(ctx, password)
		return store.User{}, a.fail(ctx, tenant, "auth.user", "user:"+u.ID, clientID, "no password set", errLogin)
	}
	ok, err := principal.VerifyPassword(ctx, u.PasswordHash, password)
	if err != nil && ctx.Err() != nil {
		return store.User{}, fault.Unavailable(ctx.Err())
	}
	if !ok && !cachedAt.IsZero() {
		// The password may have changed since the user was cached: read
		// the user again, and check again only if the hash changed.
		fresh, _, err := a.dir.userByLogin(ctx, tenant, login, true)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return store.User{}, a.fail(ctx, tenant, "auth.user", "login:"+login, clientID, "unknown login", errLogin)
		case err != nil:
			return store.User{}, fault.Unavailable(err)
		case fresh.PasswordHash != u.PasswordHash && fresh.PasswordHash != "":
			if ok, err = principal.VerifyPassword(ctx, fresh.PasswordHash, password); err != nil && ctx.Err() != nil {
				return store.User{}, fault.Unavailable(ctx.Err())
			}
		}
		u = fresh
	}
	if !ok {
		return store.User{}, a.fail(ctx, tenant, "auth.user", "user:"+u.ID, clientID, "wrong password", errLogin)
	}
	if group != "" && !slices.Contains(u.Groups, group) {
		return store.User{}, a.fail(ctx, tenant, "auth.user", "user:"+u.ID, clientID, "not in the client's login group", errLogin)
	}
	if u.Disabled {
		return store.User{}, a.fail(ctx, tenant, "auth.user", "user:"+u.ID, clientID, "user disabled", errLogin.WithReason(fault.ReasonUserDisabled))
	}
	if principal.NeedsRehash(u.PasswordHash) {
		u = a.rehash(ctx, u, password)
	}
	return u, nil
}

// rehash replaces a user's imported password hash (bcrypt) with an
// argon2id hash of the password that just matched it, unless the hash
// changed meanwhile. A failure leaves the imported hash, which keeps
// working; the login succeeds either way.
func (a *Authenticator) rehash(ctx context.Context, u store.User, password string) store.User {
	// Hash the form that matched: VerifyPassword tries the prepared form
	// first and the bytes as typed second.
	matched := password
	if p, err := principal.PreparePassword(password); err == nil && p != password {
		if ok, _ := principal.CheckPassword(ctx, u.PasswordHash, p); ok {
			matched = p
		}
	} else if err == nil {
		matched = p
	}
	h, err := principal.HashPassword(ctx, matched)
	if err != nil {
		return u
	}
	old := u.PasswordHash
	err = a.st.Tx(ctx, func(st store.Store) error {
		cur, err := st.Users().Get(ctx, u.Tenant, u.ID)
		if err != nil || cur.PasswordHash != old {
			return err
		}
		cur.PasswordHash = h
		if err := st.Users().Update(ctx, cur); err != nil {
			return err
		}
		u = cur
		return a.audit.Record(ctx, st, store.AuditEvent{Tenant: u.Tenant, Action: "user.password_rehash",
			Actor: "user:" + u.ID, Subject: "user:" + u.ID, Detail: map[string]string{"from": "bcrypt", "to": "argon2id"}})
	})
	if err != nil {
		a.log.WarnContext(ctx, "rehash of an imported password hash failed; it stays in use", "tenant", u.Tenant, "user", u.ID, "err", err)
	}
	return u
}
