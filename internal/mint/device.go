package mint

import (
	"context"
	"slices"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// SubjectSpec asks for a device token (seeds 000 and 004). Zero
// fields take the tenant policy's defaults.
type SubjectSpec struct {
	// ExpiresIn is the token's expiry in seconds (policy access_ttl by
	// default, at most max_access_ttl).
	ExpiresIn *int64 `json:"expires_in"`
	// Lifetime bounds renewal, in seconds from now (policy lifetime by
	// default, at most max_lifetime, never below expires_in).
	Lifetime *int64 `json:"lifetime"`
	// Eternal asks for a token without expiry; only where the policy
	// allows eternal tokens. Eternal tokens cannot be renewed.
	Eternal  bool   `json:"eternal"`
	Scope    string `json:"scope"`
	Audience string `json:"audience"`
	// Rotate revokes every earlier token of the subject first.
	Rotate bool   `json:"rotate"`
	Format string `json:"format"`
	// BindReferer binds a user token to the origin of the minting
	// request's Referer: using or renewing it from another origin fails.
	BindReferer bool `json:"bind_referer"`
	// EternalByDefault makes a device token asked for with neither
	// ExpiresIn nor Lifetime eternal (seed 004: "if none of these
	// parameters is passed an eternal token will be generated for the
	// device"); user tokens take the policy's defaults.
	EternalByDefault bool `json:"-"`
	// Cookie delivers the token as an HttpOnly cookie instead of the body.
	Cookie bool `json:"cookie"`
	// BoundOrigin is the normalized Referer origin, set by the surface.
	BoundOrigin string `json:"-"`
	// Surface names the compatible surface that asks (issue.Request.Surface).
	Surface string `json:"-"`
	// CookieRoom, set by the surface with Cookie, bounds the token's
	// length (issue.Request.CookieRoom).
	CookieRoom int `json:"-"`
}

// Device issues a token for a device, within the scopes of the
// device's roles and the tenant's policy: expiry, lifetime, eternity and
// the active-token limit per subject. The admin who asks is recorded as
// the token's actor (RFC 8693 act, seed 004 runAs).
func (s *Minter) Device(ctx context.Context, by Actor, ten, deviceID string, sp SubjectSpec) (token.Issued, error) {
	d, err := s.st.Devices().Get(ctx, ten, deviceID)
	if err != nil {
		return token.Issued{}, notFound(err, "device", deviceID)
	}
	if d.Disabled {
		return token.Issued{}, fault.Forbidden("device %q is disabled", d.ID)
	}
	if sp.BoundOrigin != "" {
		return token.Issued{}, invalidf("bind_referer", "device tokens cannot be bound to a referrer")
	}
	a, err := principal.Expand(ctx, s.st, ten, d.Roles, nil)
	if err != nil {
		return token.Issued{}, storeErr(err)
	}
	if sp.EternalByDefault && sp.ExpiresIn == nil && sp.Lifetime == nil {
		sp.Eternal = true
	}
	// A device token carries its roles' scopes only.
	return s.mintFor(ctx, by, ten, "device", d.ID, principal.Authority{Scopes: a.Scopes}, sp)
}

// User issues a token for a user (seed 004 runAs), within the
// scopes of the user's roles and groups, optionally bound to the origin
// of the request's Referer. Like a token from the password grant, it
// carries the user's roles, groups and resources.
func (s *Minter) User(ctx context.Context, by Actor, ten, userID string, sp SubjectSpec) (token.Issued, error) {
	u, err := s.st.Users().Get(ctx, ten, userID)
	if err != nil {
		return token.Issued{}, notFound(err, "user", userID)
	}
	if u.Disabled {
		return token.Issued{}, fault.Forbidden("user %q is disabled", u.ID)
	}
	a, err := principal.Expand(ctx, s.st, ten, u.Roles, u.Groups)
	if err != nil {
		return token.Issued{}, storeErr(err)
	}
	return s.mintFor(ctx, by, ten, "user", u.ID, a, sp)
}

func (s *Minter) mintFor(ctx context.Context, by Actor, ten, subjectType, subject string, auth principal.Authority, sp SubjectSpec) (token.Issued, error) {
	allowed := auth.Scopes
	t, err := s.st.Tenants().Get(ctx, ten)
	if err != nil {
		return token.Issued{}, notFound(err, "tenant", ten)
	}
	pol := tenant.Effective(t.Policy)
	ttl, life, err := expiryAndLifetime(pol, sp.ExpiresIn, sp.Lifetime, sp.Eternal)
	if err != nil {
		return token.Issued{}, err
	}
	scope := allowed
	if sp.Scope != "" {
		scope = fields(sp.Scope)
		for _, sc := range scope {
			if !slices.Contains(allowed, sc) {
				return token.Issued{}, invalidf("scope", "scope %q is not granted to %s %q by its roles", sc, subjectType, subject)
			}
		}
	}
	var aud []string
	if sp.Audience != "" {
		if _, err := s.st.Projects().GetByAudience(ctx, ten, sp.Audience); err != nil {
			if isNotFound(err) {
				return token.Issued{}, invalidf("audience", "%q is not the audience of a project", sp.Audience)
			}
			return token.Issued{}, storeErr(err)
		}
		aud = []string{sp.Audience}
	}
	format := pol.Format
	if sp.Format != "" {
		if sp.Format != store.FormatJWT && sp.Format != store.FormatOpaque && sp.Format != store.FormatHex {
			return token.Issued{}, invalidf("format", "must be jwt, opaque or hex")
		}
		format = sp.Format
	}
	kind := claims.KindAccess
	if subjectType == "device" {
		kind = claims.KindDevice
	}
	if kind == claims.KindAccess && len(aud) == 0 {
		aud = s.issuer.DefaultAudience(ten, pol) // RFC 9068 §2.2
	}
	req := issue.Request{
		Tenant: ten, Kind: kind, SubjectType: subjectType, Subject: subject,
		Scope: scope, Audience: aud, TTL: ttl, Format: format, Action: "token.mint", AuditActor: by.String(),
		CookieRoom: sp.CookieRoom, Defer: true, Surface: sp.Surface,
		Roles: auth.Roles, Groups: auth.Groups, Resources: auth.Resources,
	}
	if by.Subject != "" && by.Subject != subject {
		req.Actor = &claims.Actor{Subject: by.String(), ClientID: by.ClientID}
	}
	if sp.BoundOrigin != "" {
		req.Origins = []string{sp.BoundOrigin}
	}
	if life > 0 {
		req.LifetimeEnd = s.now().Add(life)
	}
	return issued(s.subjectIssue(ctx, ten, subjectType, subject, func(tx store.Store, active int) (issue.Result, error) {
		req := req
		if sp.Rotate {
			// Every earlier token of the subject is revoked, and the new
			// one issued at the cutoff instant: the cutoff separates them
			// exactly (a cutoff revokes what was issued before it).
			rev, err := s.revoker.TargetIn(ctx, tx, revoke.Actor{Name: by.String(), ClientID: by.ClientID}, ten,
				revoke.Subject(subjectType, subject), "")
			if err != nil {
				return issue.Result{}, err
			}
			req.ID, active = token.NewTimeID(rev.Cutoff), 0
		}
		if pol.TokenLimit > 0 && active >= pol.TokenLimit {
			return issue.Result{}, fault.Conflict("token limit reached: %s %q has %d active tokens (token_limit %d); revoke one or mint with rotate", subjectType, subject, active, pol.TokenLimit).WithLimit("token_limit", int64(pol.TokenLimit), int64(active))
		}
		return s.issuer.Issue(ctx, req)
	}))
}

// expiryAndLifetime applies seed 004's rules: an expiry and a lifetime,
// each defaulted and bounded by the policy, the expiry never beyond the
// lifetime; or an eternal token where the policy allows it. Errors name
// the parameter and the bound.
func expiryAndLifetime(pol store.Policy, expiresIn, lifetime *int64, eternal bool) (ttl, life time.Duration, err error) {
	if eternal {
		if !pol.AllowEternal {
			return 0, 0, invalidf("eternal", "eternal tokens are not allowed by the tenant policy (allow_eternal)")
		}
		if expiresIn != nil || lifetime != nil {
			return 0, 0, invalidf("eternal", "an eternal token has no expires_in or lifetime")
		}
		return 0, 0, nil
	}
	exp, lt := pol.AccessTTL, pol.Lifetime
	check := func(field string, v *int64, maxName string, maxV int64) (int64, error) {
		switch {
		case v == nil:
			return 0, nil
		case *v <= 0:
			return 0, invalidf(field, "must be a positive number of seconds, got %d", *v)
		case *v > maxV:
			return 0, fault.As(invalidf(field, "must be at most %d seconds (%s), got %d", maxV, maxName, *v)).WithLimit(maxName, maxV, *v)
		}
		return *v, nil
	}
	if v, err := check("expires_in", expiresIn, "max_access_ttl", pol.MaxAccessTTL); err != nil {
		return 0, 0, err
	} else if v > 0 {
		exp = v
	}
	if v, err := check("lifetime", lifetime, "max_lifetime", pol.MaxLifetime); err != nil {
		return 0, 0, err
	} else if v > 0 {
		lt = v
	}
	if exp > lt {
		if lifetime != nil {
			return 0, 0, fault.As(invalidf("expires_in", "must not exceed lifetime (%d seconds), got %d", lt, exp)).WithLimit("lifetime", lt, exp)
		}
		lt = exp // the default lifetime stretches to an explicit longer expiry within max_lifetime
		if lt > pol.MaxLifetime {
			return 0, 0, fault.As(invalidf("expires_in", "must not exceed max_lifetime (%d seconds), got %d", pol.MaxLifetime, exp)).WithLimit("max_lifetime", pol.MaxLifetime, exp)
		}
	}
	return time.Duration(exp) * time.Second, time.Duration(lt) * time.Second, nil
}

// RenewGrace is how long a renewed token stays valid after its renewal.
const RenewGrace = 5 * time.Second

// Renew replaces a live token (seed 004): the new token has the same
// subject, kind, scope and audience, an expiry as long as the old one's
// but never past the lifetime end, which stays unchanged. The old token
// keeps working for RenewGrace (unless revoked meanwhile). A token is
// renewed once: renewing it again, even within the grace, is refused, so
// renewals never add to the subject's active tokens (the token limit).
// Eternal tokens, tokens without a lifetime and tokens whose lifetime is
// over are not renewed.
func (s *Minter) Renew(ctx context.Context, ten string, c claims.Claims, format string) (token.Issued, error) {
	return s.RenewVia(ctx, "", ten, c, format)
}

// RenewVia is Renew asked for through a compatible surface, which the
// new token's audit event and metrics name.
func (s *Minter) RenewVia(ctx context.Context, surface, ten string, c claims.Claims, format string) (token.Issued, error) {
	now := s.now()
	switch {
	case c.ExpiresAt == 0:
		return token.Issued{}, fault.InvalidRequest("eternal tokens cannot be renewed")
	case c.Kind == claims.KindRefresh || c.Kind == claims.KindAdmin:
		return token.Issued{}, fault.InvalidRequest("a %s token cannot be renewed", c.Kind)
	case c.LifetimeEnd == 0:
		return token.Issued{}, fault.InvalidRequest("this token has no lifetime and cannot be renewed")
	case !now.Before(time.Unix(c.LifetimeEnd, 0)):
		return token.Issued{}, fault.InvalidRequest("the token's lifetime is over; mint a new one")
	}
	end := time.Unix(c.LifetimeEnd, 0).UTC()
	ttl := min(time.Duration(c.ExpiresAt-c.IssuedAt)*time.Second, end.Sub(now))
	aud := c.Audience
	if c.Kind == claims.KindAccess && len(aud) == 0 {
		// A token issued before every access token had an audience gets
		// the tenant's default (RFC 9068 §2.2).
		t, err := s.st.Tenants().Get(ctx, ten)
		if err != nil {
			return token.Issued{}, notFound(err, "tenant", ten)
		}
		aud = s.issuer.DefaultAudience(ten, tenant.Effective(t.Policy))
	}
	req := issue.Request{
		Tenant: ten, Kind: c.Kind, SubjectType: c.SubjectType, Subject: c.Subject, ClientID: c.ClientID,
		SessionID: c.SessionID, Actor: c.Act, Scope: c.Scopes(), Audience: aud,
		Roles: c.Roles, Groups: c.Groups, Resources: c.Resources, Origins: c.Origins, Channels: c.Channels,
		TTL: ttl, LifetimeEnd: end, Format: format, Action: "token.renew", AuditActor: c.SubjectType + ":" + c.Subject, Defer: true,
		Surface: surface,
	}
	by := revoke.Actor{Name: c.SubjectType + ":" + c.Subject, ClientID: c.ClientID}
	return issued(s.subjectIssue(ctx, ten, c.SubjectType, c.Subject, func(tx store.Store, _ int) (issue.Result, error) {
		old, err := tx.Tokens().Lock(ctx, ten, c.ID)
		if isNotFound(err) {
			return issue.Result{}, fault.InvalidRequest("the token is not in the ledger and cannot be renewed")
		}
		if err != nil {
			return issue.Result{}, err
		}
		if old.RevokedAt != nil {
			return issue.Result{}, fault.InvalidRequest("the token was already renewed or revoked; renew its successor")
		}
		res, err := s.issuer.Issue(ctx, req)
		if err != nil {
			return issue.Result{}, err
		}
		return res, s.revoker.Replaced(ctx, tx, by, ten, c.ID, RenewGrace)
	}))
}

// RenewFor renews, on an admin's behalf (seed 004 runAs), a live user or
// device token known by its id; the new token records the admin as actor.
// The bindings kept in the ledger (scope, audience, origins, channels,
// lifetime end) carry over; a user token carries the user's roles, groups
// and resources.
func (s *Minter) RenewFor(ctx context.Context, by Actor, ten, id string) (token.Issued, error) {
	row, err := s.st.Tokens().Get(ctx, ten, id)
	if err != nil {
		return token.Issued{}, notFound(err, "token", id)
	}
	now := s.now()
	switch {
	case row.SubjectType != "user" && row.SubjectType != "device":
		return token.Issued{}, fault.InvalidRequest("only user and device tokens are renewed for their subject")
	case row.RevokedAt != nil && !now.Before(*row.RevokedAt):
		return token.Issued{}, fault.InvalidRequest("the token is revoked")
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return token.Issued{}, fault.InvalidRequest("the token has expired; mint a new one")
	}
	c := introspect.ClaimsOf("", row) // the issuer is not used by renewal
	c.Act = &claims.Actor{Subject: by.String(), ClientID: by.ClientID}
	if row.SubjectType == "user" {
		// The ledger keeps no roles or groups: the renewed token carries
		// the user's as they are now, as a refresh would.
		u, err := s.st.Users().Get(ctx, ten, row.Subject)
		if err != nil && !isNotFound(err) {
			return token.Issued{}, storeErr(err)
		}
		if err == nil {
			a, err := principal.Expand(ctx, s.st, ten, u.Roles, u.Groups)
			if err != nil {
				return token.Issued{}, storeErr(err)
			}
			c.Roles, c.Groups, c.Resources = a.Roles, a.Groups, a.Resources
		}
	}
	return s.Renew(ctx, ten, c, row.Format)
}
