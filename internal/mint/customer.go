package mint

import (
	"context"
	"errors"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// Login checks a user's login and password (with the password grant's
// throttling, timing and audit) and returns the user's id.
type Login interface {
	Login(ctx context.Context, tenantID, username, password string) (string, error)
}

// customerSession is the session id shared by every session of a
// customer, so that one logout can end them all with one cutoff.
func customerSession(userID string) string { return "cust:" + userID }

// CustomerLogin logs a customer in (seed 001) and issues a customer token
// for the tenant's lifetime. cookieRoom, for a token delivered as a
// cookie, bounds its length (issue.Request.CookieRoom).
func (s *Minter) CustomerLogin(ctx context.Context, ten, email, password string, cookieRoom int) (token.Issued, error) {
	return s.CustomerLoginWith(ctx, ten, email, password, CustomerSpec{CookieRoom: cookieRoom})
}

// CustomerSpec shapes a customer token.
type CustomerSpec struct {
	// CookieRoom, for a token delivered as a cookie, bounds its length
	// (issue.Request.CookieRoom).
	CookieRoom int
	// Format is the token's form: store.FormatSession for BigCommerce's
	// customer access tokens (seed 001), else the tenant's default.
	Format string
	// Surface names the compatible surface logging the customer in.
	Surface string
}

// FormatSession asks for seed 001's customer access token form
// (store.FormatSession).
const FormatSession = store.FormatSession

// FormatJWT asks for a JWT (store.FormatJWT).
const FormatJWT = store.FormatJWT

// CustomerLoginWith is CustomerLogin shaped by sp.
func (s *Minter) CustomerLoginWith(ctx context.Context, ten, email, password string, sp CustomerSpec) (token.Issued, error) {
	if sp.Format != "" && sp.Format != store.FormatSession && sp.Format != store.FormatJWT && sp.Format != store.FormatOpaque {
		return token.Issued{}, invalidf("format", "must be session, jwt or opaque")
	}
	t, err := s.st.Tenants().Get(ctx, ten)
	if errors.Is(err, store.ErrNotFound) {
		return token.Issued{}, fault.NotFound("tenant %q not found", ten)
	} else if err != nil {
		return token.Issued{}, fault.Unavailable(err)
	}
	userID, err := s.login.Login(ctx, ten, email, password)
	if err != nil {
		return token.Issued{}, err
	}
	return s.customerToken(ctx, t, userID, "customer.login", sp)
}

func (s *Minter) customerToken(ctx context.Context, t store.Tenant, userID, action string, sp CustomerSpec) (token.Issued, error) {
	pol := tenant.Effective(t.Policy)
	return issued(s.issuer.Issue(ctx, issue.Request{
		Tenant: t.ID, Kind: claims.KindCustomer, SubjectType: "customer", Subject: userID,
		SessionID: customerSession(userID), TTL: time.Duration(pol.Lifetime) * time.Second, Action: action,
		CookieRoom: sp.CookieRoom, Format: sp.Format, Surface: sp.Surface,
	}))
}

// Customer is what a storefront may know of a customer.
type Customer struct {
	ID          string
	Email       string
	DisplayName string
}

// Customer returns the tenant's customer id, as a signed-in customer or
// an impersonating client sees it: a not_found fault when the tenant has
// no such enabled user.
func (s *Minter) Customer(ctx context.Context, ten, id string) (Customer, error) {
	u, err := s.st.Users().Get(ctx, ten, id)
	if err != nil {
		return Customer{}, notFound(err, "customer", id)
	}
	if u.Disabled {
		return Customer{}, fault.NotFound("customer %q not found", id)
	}
	return Customer{ID: u.ID, Email: u.Login, DisplayName: u.DisplayName}, nil
}

// CustomerLogout ends every session of the customer whose verified token
// is id, on every device; id must be a customer token of tenant ten.
func (s *Minter) CustomerLogout(ctx context.Context, ten string, id *introspect.Identity) error {
	if id.Tenant != ten || id.Claims.Kind != claims.KindCustomer {
		return fault.InvalidToken("not a customer token of this tenant")
	}
	by := revoke.Actor{Name: "customer:" + id.Claims.Subject}
	_, err := s.revoker.BeforeIn(ctx, s.st, by, id.Tenant, store.RevokeSession, customerSession(id.Claims.Subject), "customer.logout")
	return err
}

// CustomerSession issues a customer token for the tenant's enabled user
// userID, whom a caller authenticated some other way (a customer login
// JWT of an API account, seed 001): a not_found fault for an unknown or
// disabled user.
func (s *Minter) CustomerSession(ctx context.Context, ten, userID string, sp CustomerSpec) (token.Issued, error) {
	if sp.Format != "" && sp.Format != store.FormatSession && sp.Format != store.FormatJWT && sp.Format != store.FormatOpaque {
		return token.Issued{}, invalidf("format", "must be session, jwt or opaque")
	}
	t, err := s.st.Tenants().Get(ctx, ten)
	if err != nil {
		return token.Issued{}, notFound(err, "tenant", ten)
	}
	u, err := s.st.Users().Get(ctx, ten, userID)
	if err != nil {
		return token.Issued{}, notFound(err, "customer", userID)
	}
	if u.Disabled {
		return token.Issued{}, fault.NotFound("customer %q not found", userID)
	}
	return s.customerToken(ctx, t, u.ID, "customer.login_jwt", sp)
}
