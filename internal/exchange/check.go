package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// Token types of RFC 8693 §3.
const (
	TypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	TypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TypeRefresh     = "urn:ietf:params:oauth:token-type:refresh_token"
)

// Errors of an Upstream.
var (
	// ErrUnavailable: the provider could not be asked (down, slow, an
	// answer too large or malformed). Never a reason to accept.
	ErrUnavailable = errors.New("exchange: the issuer's provider is unavailable")
	// ErrRejected: the provider's keys or answer refuse the token (bad
	// signature, unknown key, inactive).
	ErrRejected = errors.New("exchange: the issuer's provider rejects the token")
)

// Upstream reaches other providers: their published keys and their
// introspection endpoints. Errors wrap ErrUnavailable or ErrRejected.
type Upstream interface {
	// Verify checks the JWS signature of raw with a key issuer publishes
	// (OIDC discovery, JWKS), accepting only algs, and returns its payload.
	Verify(ctx context.Context, issuer string, algs []string, raw string) ([]byte, error)
	// Introspect asks endpoint about raw (RFC 7662) as clientID with
	// secret and returns the answer's claims, only when active is true
	// (else ErrRejected).
	Introspect(ctx context.Context, endpoint, clientID string, secret []byte, raw string) (map[string]any, error)
}

// Local verifies a token of tokend itself issued by tenant (signature,
// expiry, revocation) and returns its claims.
type Local func(ctx context.Context, tenant, raw string) (*claims.Claims, error)

// Options configure a Checker; Store, Upstream, Local, Audit and
// PublicURL are required.
type Options struct {
	Store    store.Store
	Upstream Upstream
	Local    Local
	Audit    *audit.Recorder
	// OpenSecret opens a trusted issuer's sealed introspection secret.
	OpenSecret func(tenant, name string, sealed []byte) ([]byte, error)
	PublicURL  string
	Now        func() time.Time
	// MaxAssertionLife bounds how far ahead a jwt-bearer assertion's exp
	// may be (default 5 minutes).
	MaxAssertionLife time.Duration
	// Users reads the users external tokens map to (authn.Directory, the
	// token paths' cache, is one); nil reads them from Store.
	Users Users
}

// Users finds a tenant's user by (normalised) login.
type Users interface {
	UserByLogin(ctx context.Context, tenant, login string) (store.User, error)
}

type storeUsers struct{ st store.Store }

func (u storeUsers) UserByLogin(ctx context.Context, tenant, login string) (store.User, error) {
	return u.st.Users().GetByLogin(ctx, tenant, login)
}

// Checker checks presented tokens.
type Checker struct {
	o     Options
	now   atomic.Pointer[func() time.Time]
	cache issuerCache
}

// SetClock replaces the clock token times are checked against (tests
// shift it to see a token expired or not valid yet).
func (c *Checker) SetClock(now func() time.Time) { c.now.Store(&now) }

func (c *Checker) clock() time.Time {
	if f := c.now.Load(); f != nil {
		return (*f)()
	}
	return c.o.Now()
}

// Skew is the clock difference allowed on exp, nbf and iat.
const Skew = 30 * time.Second

// New returns a Checker.
func New(o Options) (*Checker, error) {
	if o.Store == nil || o.Upstream == nil || o.Local == nil || o.Audit == nil || o.PublicURL == "" {
		return nil, errors.New("exchange: Store, Upstream, Local, Audit and PublicURL are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAssertionLife <= 0 {
		o.MaxAssertionLife = 5 * time.Minute
	}
	if o.Users == nil {
		o.Users = storeUsers{o.Store}
	}
	return &Checker{o: o}, nil
}

// Identity is whom a checked token names.
type Identity struct {
	// Issuer is the token's issuer: a trusted issuer's URL or, for a
	// token of the tenant itself, the tenant's issuer.
	Issuer string
	// External is true for a token of a trusted issuer.
	External bool
	// Subject is the token's sub.
	Subject string
	// SubjectType and ID are the tenant principal the token maps to:
	// "user" and a user id, or, for a token of the tenant, its own
	// subject.
	SubjectType, ID string
	Login           string
	// Roles and Groups are what a token issued for the identity carries
	// before expansion: the user's own plus those the external claims map
	// to.
	Roles, Groups []string
	// Scope, for a token of the tenant, bounds what an exchange may grant
	// (nil: no bound from the token).
	Scope []string
	// Act is the token's own act claim (RFC 8693 §4.1), to nest.
	Act *claims.Actor
	// ClientID is the client a token of the tenant was issued to.
	ClientID string
	Expires  time.Time
	// Claims are an external token's claims as verified (an
	// introspection answer's ext claims lifted beside the others); nil
	// for a token of the tenant.
	Claims map[string]any
}

// Subject checks an RFC 8693 subject_token of type typ for tenant and maps
// it to a tenant principal.
func (c *Checker) Subject(ctx context.Context, ten, raw, typ string) (*Identity, error) {
	return c.check(ctx, ten, raw, typ, "subject_token", true)
}

// Actor checks an RFC 8693 actor_token; it need not map to a tenant user.
func (c *Checker) Actor(ctx context.Context, ten, raw, typ string) (*Identity, error) {
	return c.check(ctx, ten, raw, typ, "actor_token", false)
}

func (c *Checker) check(ctx context.Context, ten, raw, typ, field string, mapUser bool) (*Identity, error) {
	switch typ {
	case TypeAccessToken, TypeIDToken, TypeJWT:
	case "":
		return nil, fault.InvalidRequest("%s_type is required with %s", field, field)
	default:
		return nil, fault.InvalidRequest("%s_type %q is not supported (access_token, id_token or jwt)", field, typ)
	}
	if len(raw) > MaxTokenBytes {
		return nil, fault.InvalidRequest("%s is larger than %d bytes", field, MaxTokenBytes)
	}
	own := tenant.Issuer(c.o.PublicURL, ten)
	p, err := UnsafePeek(raw)
	switch {
	case errors.Is(err, ErrNotJWT):
		if typ != TypeAccessToken {
			return nil, fault.InvalidGrant("%s is not a JWT, as a %s must be", field, typ)
		}
		if strings.HasPrefix(raw, "tkd_") {
			return c.local(ctx, ten, own, raw, field)
		}
		return c.introspected(ctx, ten, raw, field, mapUser)
	case err != nil:
		return nil, fault.InvalidGrant("%s is a malformed JWT", field)
	}
	if p.Issuer == own {
		return c.local(ctx, ten, own, raw, field)
	}
	if p.Issuer == "" {
		return nil, fault.InvalidGrant("%s has no iss", field)
	}
	ti, err := c.issuer(ctx, ten, p.Issuer)
	if errors.Is(err, store.ErrNotFound) || err == nil && ti.Disabled {
		return nil, fault.InvalidGrant("%s is from an issuer this tenant does not trust", field)
	}
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	if err := checkHeader(p.Header, ti.Settings.Algorithms); err != nil {
		return nil, err
	}
	payload, err := c.o.Upstream.Verify(ctx, ti.Issuer, ti.Settings.Algorithms, raw)
	if err != nil {
		return nil, upstreamFault(err, field)
	}
	ext, err := parseClaims(payload)
	if err != nil {
		return nil, fault.InvalidGrant("%s: %v", field, err)
	}
	if err := c.checkTimes(ext, ti.Settings.MaxAge, field, true); err != nil {
		return nil, err
	}
	if !anyOf(ext.Aud, ti.Settings.Audiences) {
		return nil, fault.InvalidGrant("%s is for another audience", field)
	}
	return c.external(ctx, ti, ext, field, mapUser)
}

// checkHeader refuses an algorithm off the list (and so none and HS*)
// and critical headers before any key is fetched (RFC 8725 §3.1).
func checkHeader(h Header, algs []string) error {
	if !slices.Contains(algs, h.Alg) || h.Alg == "none" || strings.HasPrefix(h.Alg, "HS") {
		return fault.InvalidGrant("the token's algorithm %q is not one this issuer is trusted with", h.Alg)
	}
	if len(h.Crit) > 0 {
		return fault.InvalidGrant("the token has critical headers this server does not understand")
	}
	return nil
}

func upstreamFault(err error, field string) error {
	if errors.Is(err, ErrUnavailable) {
		e := fault.Unavailable(err)
		e.Description = "the issuer of the " + field + " cannot be reached to check it; try again later"
		return e.WithRetryAfter(10 * time.Second)
	}
	return fault.InvalidGrant("%s: the signature or key does not verify with the issuer's published keys", field).WithCause(err)
}

// local checks a token of the tenant itself.
func (c *Checker) local(ctx context.Context, ten, own, raw, field string) (*Identity, error) {
	cl, err := c.o.Local(ctx, ten, raw)
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Code == fault.CodeUnavailable {
			return nil, err
		}
		return nil, fault.InvalidGrant("%s is not an active token of this tenant", field).WithCause(err)
	}
	if cl.Kind != "" && cl.Kind != claims.KindAccess {
		return nil, fault.InvalidGrant("%s is a %s token; only access tokens are exchanged", field, cl.Kind)
	}
	id := &Identity{Issuer: own, Subject: cl.Subject, SubjectType: cl.SubjectType, ID: cl.Subject, Roles: cl.Roles, Groups: cl.Groups,
		Scope: cl.Scopes(), Act: cl.Act, ClientID: cl.ClientID, Expires: time.Unix(cl.ExpiresAt, 0)}
	if id.SubjectType == "" {
		id.SubjectType = "user"
	}
	if id.Scope == nil {
		id.Scope = []string{}
	}
	if id.SubjectType == "user" {
		u, err := c.o.Store.Users().Get(ctx, ten, cl.Subject)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fault.InvalidGrant("%s names a user that no longer exists", field)
			}
			return nil, fault.Unavailable(err)
		}
		if u.Disabled {
			return nil, fault.InvalidGrant("%s names a disabled user", field)
		}
		id.Login, id.Roles, id.Groups = u.Login, u.Roles, u.Groups
	}
	return id, nil
}

// introspected checks an opaque token with the introspection endpoints of
// the tenant's trusted issuers that have one, in id order, at most four.
func (c *Checker) introspected(ctx context.Context, ten, raw, field string, mapUser bool) (*Identity, error) {
	l, err := c.o.Store.TrustedIssuers().List(ctx, ten)
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	tried := 0
	var unavailable error
	for _, ti := range l {
		if ti.Disabled || ti.Settings.IntrospectionURL == "" || tried == 4 {
			continue
		}
		tried++
		var secret []byte
		if len(ti.IntrospectionSecret) > 0 && c.o.OpenSecret != nil {
			if secret, err = c.o.OpenSecret(ten, "trusted-issuer:"+ti.ID, ti.IntrospectionSecret); err != nil {
				return nil, fault.Internal(fmt.Errorf("open introspection secret of %s: %w", ti.ID, err))
			}
		}
		m, err := c.o.Upstream.Introspect(ctx, ti.Settings.IntrospectionURL, ti.Settings.IntrospectionClientID, secret, raw)
		if errors.Is(err, ErrUnavailable) {
			unavailable = err
			continue
		}
		if err != nil {
			continue
		}
		ext, err := claimsOf(m)
		if err != nil {
			return nil, fault.InvalidGrant("%s: the introspection answer: %v", field, err)
		}
		if ext.Iss != "" && ext.Iss != ti.Issuer {
			return nil, fault.InvalidGrant("%s is from an issuer this tenant does not trust", field)
		}
		ext.Iss = ti.Issuer
		if err := c.checkTimes(ext, ti.Settings.MaxAge, field, false); err != nil {
			return nil, err
		}
		if len(ext.Aud) > 0 && !anyOf(ext.Aud, ti.Settings.Audiences) {
			return nil, fault.InvalidGrant("%s is for another audience", field)
		}
		return c.external(ctx, ti, ext, field, mapUser)
	}
	if unavailable != nil {
		return nil, upstreamFault(unavailable, field)
	}
	if tried == 0 {
		return nil, fault.InvalidGrant("%s is not a JWT and no trusted issuer of this tenant introspects opaque tokens", field)
	}
	return nil, fault.InvalidGrant("%s is not active at any trusted issuer of this tenant", field)
}

// checkTimes applies exp (required unless an introspection answer has
// none), nbf, iat and the issuer's maximum age to iat and auth_time.
func (c *Checker) checkTimes(ext *external, maxAge int64, field string, expRequired bool) error {
	now := c.clock()
	switch {
	case ext.Exp == nil && expRequired:
		return fault.InvalidGrant("%s has no exp", field)
	case ext.Exp != nil && !now.Before(time.Unix(*ext.Exp, 0).Add(Skew)):
		return fault.InvalidGrant("%s has expired", field)
	}
	if ext.Nbf != nil && now.Add(Skew).Before(time.Unix(*ext.Nbf, 0)) {
		return fault.InvalidGrant("%s is not valid yet (nbf)", field)
	}
	if ext.Iat != nil && now.Add(Skew).Before(time.Unix(*ext.Iat, 0)) {
		return fault.InvalidGrant("%s is not valid yet (issued in the future)", field)
	}
	if maxAge > 0 {
		limit := now.Add(-time.Duration(maxAge)*time.Second - Skew)
		if ext.Iat == nil || time.Unix(*ext.Iat, 0).Before(limit) {
			return fault.InvalidGrant("%s was issued longer ago than this issuer's maximum age", field)
		}
		if ext.AuthTime != nil && time.Unix(*ext.AuthTime, 0).Before(limit) {
			return fault.InvalidGrant("%s: the user authenticated longer ago than this issuer's maximum age", field)
		}
	}
	return nil
}

// external maps a checked external token to a tenant user: by the
// issuer's user claim, email_verified where required, creating the user
// when the issuer allows it.
func (c *Checker) external(ctx context.Context, ti store.TrustedIssuer, ext *external, field string, mapUser bool) (*Identity, error) {
	if ext.Sub == "" {
		return nil, fault.InvalidGrant("%s has no sub", field)
	}
	id := &Identity{Issuer: ti.Issuer, External: true, Subject: ext.Sub, Claims: ext.All}
	if ext.Exp != nil {
		id.Expires = time.Unix(*ext.Exp, 0)
	}
	if !mapUser {
		id.SubjectType, id.ID = "external", ext.Sub
		return id, nil
	}
	s := ti.Settings
	claim := s.UserClaim
	if claim == "" {
		claim = "sub"
	}
	v, _ := ext.All[claim].(string)
	if v == "" {
		return nil, fault.InvalidGrant("%s has no %s claim to name the user by", field, claim)
	}
	if s.RequireEmailVerified {
		if ok, _ := ext.All["email_verified"].(bool); !ok {
			return nil, fault.InvalidGrant("%s: the issuer has not verified the user's email", field)
		}
	}
	login, err := principal.NormalizeLogin(v)
	if err != nil {
		return nil, fault.InvalidGrant("%s: its %s claim is no login: %v", field, claim, err)
	}
	u, err := c.o.Users.UserByLogin(ctx, ti.Tenant, login)
	switch {
	case errors.Is(err, store.ErrNotFound) && s.CreateUsers:
		if u, err = c.createUser(ctx, ti, login, ext.Sub); err != nil {
			return nil, err
		}
	case errors.Is(err, store.ErrNotFound):
		return nil, fault.InvalidGrant("%s names no user of this tenant", field)
	case err != nil:
		return nil, fault.Unavailable(err)
	}
	if u.Disabled {
		return nil, fault.InvalidGrant("%s names a disabled user", field)
	}
	id.SubjectType, id.ID, id.Login = "user", u.ID, u.Login
	id.Roles = merge(u.Roles, mapped(ext.All[orDefault(s.RolesClaim, "roles")], s.RoleMap))
	id.Groups = merge(u.Groups, mapped(ext.All[orDefault(s.GroupsClaim, "groups")], s.GroupMap))
	return id, nil
}

// createUser is just-in-time creation: a user without a password, with
// the issuer's default roles and groups, audited as any creation.
func (c *Checker) createUser(ctx context.Context, ti store.TrustedIssuer, login, sub string) (store.User, error) {
	now := c.clock().UTC().Truncate(time.Microsecond)
	u := store.User{Tenant: ti.Tenant, ID: token.NewID(), Login: login, Roles: nonNil(ti.Settings.DefaultRoles),
		Groups: nonNil(ti.Settings.DefaultGroups), CreatedAt: now, UpdatedAt: now}
	err := c.o.Store.Tx(ctx, func(st store.Store) error {
		if err := st.Users().Create(ctx, u); err != nil {
			return err
		}
		return c.o.Audit.Record(ctx, st, store.AuditEvent{Tenant: ti.Tenant, Action: "user.create", Actor: "issuer:" + ti.ID, Subject: u.ID,
			Detail: map[string]string{"login": login, "idp": ti.Issuer, "external_subject": sub, "jit": "true"}})
	})
	if errors.Is(err, store.ErrConflict) {
		// Created at the same moment by another request: use that one.
		got, gerr := c.o.Store.Users().GetByLogin(ctx, ti.Tenant, login)
		if gerr == nil {
			return got, nil
		}
	}
	if err != nil {
		return store.User{}, fault.Unavailable(err)
	}
	return u, nil
}

// external are the claims of a verified external token.
type external struct {
	Iss, Sub, Jti string
	Aud           []string
	Exp, Nbf, Iat *int64
	AuthTime      *int64
	All           map[string]any
}

// parseClaims decodes a verified JWT payload.
func parseClaims(payload []byte) (*external, error) {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, errors.New("its payload is not a JSON object")
	}
	return claimsOf(m)
}

// claimsOf reads the registered claims of m (a JWT payload or an RFC
// 7662 answer, whose nested ext claims are lifted beside the others
// without replacing any).
func claimsOf(m map[string]any) (*external, error) {
	if ext, ok := m["ext"].(map[string]any); ok {
		for k, v := range ext {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
	}
	e := &external{All: m}
	var ok bool
	if v, has := m["iss"]; has {
		if e.Iss, ok = v.(string); !ok {
			return nil, errors.New("iss is not a string")
		}
	}
	if v, has := m["sub"]; has {
		if e.Sub, ok = v.(string); !ok {
			return nil, errors.New("sub is not a string")
		}
	}
	if v, has := m["jti"]; has {
		if e.Jti, ok = v.(string); !ok {
			return nil, errors.New("jti is not a string")
		}
	}
	switch a := m["aud"].(type) {
	case nil:
	case string:
		e.Aud = []string{a}
	case []any:
		if len(a) > MaxAudiences {
			return nil, fmt.Errorf("more than %d audiences", MaxAudiences)
		}
		for _, x := range a {
			s, ok := x.(string)
			if !ok {
				return nil, errors.New("aud holds a value that is not a string")
			}
			e.Aud = append(e.Aud, s)
		}
	default:
		return nil, errors.New("aud is neither a string nor an array of strings")
	}
	for name, p := range map[string]**int64{"exp": &e.Exp, "nbf": &e.Nbf, "iat": &e.Iat, "auth_time": &e.AuthTime} {
		v, has := m[name]
		if !has || v == nil {
			continue
		}
		n, err := numericDate(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		*p = &n
	}
	return e, nil
}

// numericDate reads an RFC 7519 §2 NumericDate (fractions dropped).
func numericDate(v any) (int64, error) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, errors.New("not a number")
		}
		f = x
	case float64:
		f = n
	default:
		return 0, errors.New("not a number")
	}
	if f < 0 || f > 1<<40 {
		return 0, errors.New("out of range")
	}
	return int64(f), nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// mapped maps the external values of a claim (a string, a space-separated
// string or an array) through m; unmapped values map to nothing.
func mapped(v any, m map[string][]string) []string {
	if len(m) == 0 {
		return nil
	}
	var in []string
	switch x := v.(type) {
	case string:
		in = strings.Fields(x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				in = append(in, s)
			}
		}
	}
	var out []string
	for _, e := range in {
		out = append(out, m[e]...)
	}
	return out
}

func merge(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func anyOf(have, accepted []string) bool {
	for _, a := range have {
		if slices.Contains(accepted, a) {
			return true
		}
	}
	return false
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return slices.Clone(l)
}
