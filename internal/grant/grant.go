package grant

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/exchange"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/tracing"
)

// Grant type identifiers (RFC 6749 §4, RFC 8693 §2.1, RFC 7523 §2.1).
const (
	ClientCredentials = "client_credentials"
	Password          = "password"
	RefreshToken      = "refresh_token"
	TokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	JWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// ClientAuth is how the client authenticated itself (RFC 6749 §2.3); an
// alias kept so that callers need not change while they move to authn.
type ClientAuth = authn.Credentials

// Request is a parsed token request. Scope is nil when the request had no
// scope parameter.
type Request struct {
	Tenant       string
	GrantType    string
	Client       ClientAuth
	Scope        []string
	Audience     []string
	Username     string
	Password     string
	RefreshToken string
	// RFC 8693 §2.1 token exchange parameters.
	SubjectToken       string
	SubjectTokenType   string
	ActorToken         string
	ActorTokenType     string
	RequestedTokenType string
	// Assertion is the RFC 7523 §2.1 jwt-bearer grant's assertion.
	Assertion string
	// Clients, when set, are the only clients this request may come from
	// (a surface that serves some clients of a tenant): any other client,
	// once authenticated, gets invalid_client refined by
	// fault.ReasonClientNotServed.
	Clients []string
	// Caller, when set, is the id of a client of Tenant the caller has
	// already authenticated (a surface that takes the client's own token
	// as its credential, seed 002's oidcToken); Client is then ignored.
	// Never set from a request's parameters.
	Caller string
	// Named, when set, issues the access token as an HS256 token with a
	// named secret (store.FormatNamed) instead of the client's format.
	Named *Named
}

// Named shapes a token issued as store.FormatNamed (seed 002's oidc
// tokens): its HMAC secret and claims, and the external claims the
// subject token must carry.
type Named struct {
	Key    string
	Claims map[string]any
	TTL    time.Duration
	// Require lists claims an external subject token must carry itself,
	// beside the IdentityFields every named token must have a value for;
	// a missing one is an invalid_request fault naming "oidc_token" whose
	// description is "missing required OIDC fields: [a b]".
	Require []string
}

// Response is a successful token response (RFC 6749 §5.1).
type Response struct {
	AccessToken  string
	TokenType    string
	ExpiresIn    int64
	RefreshToken string
	Scope        []string
	// IssuedTokenType is RFC 8693 §2.2.1's issued_token_type, set by a
	// token exchange only.
	IssuedTokenType string
}

// Subject is who a grant authorized the token for.
type Subject struct {
	Type string // client, user, device
	ID   string
	// Login is a user's login (the sub of league-profile tokens).
	Login     string
	Authority *principal.Authority // nil: the client's own scopes bound the token
	SessionID string
	// Refresh asks for a refresh token beside the access token.
	Refresh bool
	// Granted, when set, is the scope of the original grant: a refresh may
	// only narrow it (RFC 6749 §6).
	Granted []string
	// FamilyID continues a refresh-token family.
	FamilyID string
	// LifetimeEnd bounds the refresh-token family.
	LifetimeEnd time.Time
	// Audience, when set, is the audience of the original grant.
	Audience []string
	// Actor is the act claim of the token (RFC 8693 §4.1).
	Actor *claims.Actor
	// Grant, IDP and ExternalSubject are recorded in the ledger row and
	// audit event (see issue.Request).
	Grant, IDP, ExternalSubject string
	// IssuedTokenType is handed back in the response.
	IssuedTokenType string
	// Claims are the external subject token's claims (token exchange).
	Claims map[string]any
	// rotation, when set, is a checked refresh token to rotate in the
	// access token's commit.
	rotation *rotation
}

// Grant authorizes one grant type. Authorize runs after the client has
// been authenticated and allowed the grant type.
type Grant interface {
	Authorize(ctx context.Context, e *Engine, r *Request, c store.Client, pol store.Policy) (*Subject, error)
}

// Options configure an Engine; all but Now, Log and RefreshGrace are
// required.
type Options struct {
	Store  store.Store
	Issuer *issue.Issuer
	Audit  *audit.Recorder
	Revoke *revoke.Service
	Log    *slog.Logger
	Now    func() time.Time
	// RefreshGrace is how long a spent refresh token may be retried for
	// its successor (default DefaultRefreshGrace).
	RefreshGrace time.Duration
	// RefreshKey, a secret of at least 32 bytes shared by all replicas,
	// derives refresh-token successors.
	RefreshKey []byte
	// Authn authenticates clients and users.
	Authn *authn.Authenticator
	// Exchange, when set, checks the tokens of the RFC 8693 token
	// exchange and RFC 7523 jwt-bearer grants, which are served only then.
	Exchange *exchange.Checker
}

// Engine runs the token endpoint pipeline.
type Engine struct {
	st      store.Store
	issuer  *issue.Issuer
	audit   *audit.Recorder
	log     *slog.Logger
	now     func() time.Time
	grants  map[string]Grant
	refresh *refreshGrant
	authn   *authn.Authenticator
	xchg    *exchange.Checker
}

// New returns an Engine with the built-in grants registered.
func New(o Options) (*Engine, error) {
	if o.Store == nil || o.Issuer == nil || o.Audit == nil || o.Revoke == nil || o.Authn == nil {
		return nil, errors.New("grant: Store, Issuer, Audit, Revoke and Authn are required")
	}
	if len(o.RefreshKey) < 32 {
		return nil, errors.New("grant: RefreshKey of at least 32 bytes is required")
	}
	if o.RefreshGrace <= 0 {
		o.RefreshGrace = DefaultRefreshGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{st: o.Store, issuer: o.Issuer, audit: o.Audit, log: o.Log, now: o.Now, grants: map[string]Grant{}, authn: o.Authn}
	e.refresh = &refreshGrant{grace: o.RefreshGrace, revoke: o.Revoke, key: o.RefreshKey}
	e.grants[ClientCredentials] = clientCredentials{}
	e.grants[Password] = password{}
	e.grants[RefreshToken] = e.refresh
	if o.Exchange != nil {
		e.xchg = o.Exchange
		e.grants[TokenExchange] = tokenExchange{}
		e.grants[JWTBearer] = jwtBearer{}
	}
	return e, nil
}

// Register adds or replaces the grant for a grant type.
func (e *Engine) Register(grantType string, g Grant) { e.grants[grantType] = g }

// GrantTypes are the grant types the engine serves, sorted: the only ones
// a client may be allowed.
func (e *Engine) GrantTypes() []string {
	return slices.Sorted(maps.Keys(e.grants))
}

// Token runs the pipeline for one token request.
func (e *Engine) Token(ctx context.Context, r *Request) (Response, error) {
	g, ok := e.grants[r.GrantType]
	if ok { // only a grant type tokend serves, never what a caller sent
		tracing.Set(ctx, tracing.Grant.String(r.GrantType))
	}
	if !ok {
		if r.GrantType == "" {
			return Response{}, fault.InvalidRequest("grant_type is required")
		}
		return Response{}, fault.UnsupportedGrantType("grant type %q is not supported", r.GrantType)
	}
	t, err := e.authn.Tenant(ctx, r.Tenant)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Response{}, fault.NotFound("tenant %q not found", r.Tenant)
		}
		return Response{}, fault.Unavailable(err)
	}
	var c store.Client
	if r.Caller != "" {
		c, err = e.authn.KnownClient(ctx, r.Tenant, r.Caller)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && c.Disabled):
			return Response{}, fault.InvalidClient("client authentication failed")
		case err != nil:
			return Response{}, fault.Unavailable(err)
		}
	} else if c, err = e.authn.Client(ctx, r.Tenant, &r.Client); err != nil {
		return Response{}, err
	}
	if r.Clients != nil && !slices.Contains(r.Clients, c.ID) {
		return Response{}, fault.InvalidClient("the client is not served here").WithReason(fault.ReasonClientNotServed)
	}
	if !slices.Contains(c.GrantTypes, r.GrantType) {
		return Response{}, e.refused(ctx, r, c, fault.UnauthorizedClient("the client is not allowed the %s grant", r.GrantType))
	}
	pol := tenant.Effective(t.Policy, c.Policy)
	s, err := g.Authorize(ctx, e, r, c, pol)
	if err != nil {
		return Response{}, e.refused(ctx, r, c, err)
	}
	scope, err := e.scope(r, c, s)
	if err != nil {
		return Response{}, e.refused(ctx, r, c, err)
	}
	aud, err := e.audience(ctx, r, c, s, pol)
	if err != nil {
		return Response{}, e.refused(ctx, r, c, err)
	}
	req := issue.Request{
		Tenant: r.Tenant, Kind: claims.KindAccess, SubjectType: s.Type, Subject: s.ID, ClientID: c.ID,
		SessionID: s.SessionID, FamilyID: s.FamilyID, Scope: scope, Audience: aud,
		TTL: time.Duration(pol.AccessTTL) * time.Second, Format: pol.Format,
		Action: "token.issue", LifetimeEnd: s.LifetimeEnd, Profile: pol.Profile, SubjectLogin: s.Login,
		Actor: s.Actor, Grant: s.Grant, IDP: s.IDP, ExternalSubject: s.ExternalSubject,
	}
	if s.Authority != nil {
		req.Roles, req.Groups, req.Resources = s.Authority.Roles, s.Authority.Groups, s.Authority.Resources
	}
	if r.Named != nil {
		if err := namedRequest(&req, r.Named, s); err != nil {
			return Response{}, e.refused(ctx, r, c, err)
		}
		s.Refresh = false
	}
	if s.rotation != nil {
		req.Defer = true
		res, err := e.issuer.Issue(ctx, req)
		if err != nil {
			return Response{}, err
		}
		rt, err := e.refresh.rotate(ctx, e, r, s.rotation, res)
		if err != nil {
			return Response{}, err
		}
		return Response{AccessToken: res.Value, TokenType: "Bearer", ExpiresIn: res.ExpiresIn(), Scope: scope, RefreshToken: rt}, nil
	}
	// A login's access and refresh tokens are committed together: both
	// are recorded, or neither.
	req.Defer = true
	res, err := e.issuer.Issue(ctx, req)
	if err != nil {
		return Response{}, err
	}
	out := Response{AccessToken: res.Value, TokenType: "Bearer", ExpiresIn: res.ExpiresIn(), Scope: scope, IssuedTokenType: s.IssuedTokenType}
	made := []issue.Result{res}
	if s.Refresh && allowsRefresh(c) {
		rt, ok, err := e.refresh.IssueRefresh(ctx, e, r, c, s, scope, aud, pol)
		if err != nil {
			return Response{}, err
		}
		if ok {
			out.RefreshToken, made = rt.Value, append(made, rt)
		}
	}
	if err := e.issuer.Commit(ctx, made...); err != nil {
		return Response{}, err
	}
	return out, nil
}

// scope applies RFC 6749 §3.3: the requested scope must lie within what the
// client may request and, for a user, what their roles grant; no request
// means all of that. A refresh may only narrow the original grant.
func (e *Engine) scope(r *Request, c store.Client, s *Subject) ([]string, error) {
	allowed := c.Scopes
	if s.Authority != nil {
		allowed = intersect(allowed, s.Authority.Scopes)
	}
	if s.Granted != nil {
		allowed = intersect(allowed, s.Granted)
	}
	if r.Scope == nil {
		return sorted(allowed), nil
	}
	for _, sc := range r.Scope {
		if !slices.Contains(allowed, sc) {
			return nil, fault.InvalidScope("scope %q is not allowed", sc).WithValue(sc)
		}
	}
	return sorted(r.Scope), nil
}

// audience resolves requested audiences (RFC 8707 §2): each must be one
// of the client's audiences or, for a client without audiences, a project
// of the tenant or the tenant's default audience; anything else is
// invalid_target. No request means the original grant's audience, else
// the client's, else the tenant's default: every access token has an
// aud (RFC 9068 §2.2).
func (e *Engine) audience(ctx context.Context, r *Request, c store.Client, s *Subject, pol store.Policy) ([]string, error) {
	aud, unsure := narrowAudience(r.Audience, s.Audience, c.Audiences, e.issuer.DefaultAudience(r.Tenant, pol))
	for _, a := range unsure {
		if _, err := e.st.Projects().GetByAudience(ctx, r.Tenant, a); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fault.InvalidTarget("audience %q is not known", a).WithField("audience")
			}
			return nil, fault.Unavailable(err)
		}
		if len(c.Audiences) > 0 {
			return nil, fault.InvalidTarget("audience %q is not allowed for this client", a).WithField("audience")
		}
	}
	return aud, nil
}

// narrowAudience is the rule of audience without the project lookup: the
// audience of a token for requested audiences, given the original grant's
// (granted), the client's and the tenant's default (def); unsure are the
// requested audiences, in order, that are acceptable only as a project's
// audience, and only for a client without audiences.
func narrowAudience(requested, granted, client, def []string) (aud, unsure []string) {
	if len(requested) == 0 {
		switch {
		case len(granted) > 0:
			return granted, nil
		case len(client) > 0:
			return client, nil
		}
		return def, nil
	}
	for _, a := range requested {
		if slices.Contains(client, a) || len(client) == 0 && slices.Contains(def, a) {
			continue
		}
		unsure = append(unsure, a)
	}
	return sorted(requested), unsure
}
