package tenantauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/token"
)

// Name is the surface's name in bindings, metrics and the audit log.
const Name = binding.TenantAuthName

// Minter is the part of the mint core the surface calls; *mint.Minter is
// one.
type Minter interface {
	TenantToken(ctx context.Context, ten string, sp mint.TenantSpec) (token.Issued, error)
}

// Verifier verifies a token presented to a tenant; *introspect.Verifier
// is one.
type Verifier interface {
	VerifyIn(ctx context.Context, tenant, raw string) (*introspect.Identity, error)
}

// Engine is the token endpoint's grant engine; *grant.Engine is one.
// oidcToken is its RFC 8693 token exchange, the code path of POST
// /t/{tenant}/oauth2/token.
type Engine interface {
	Token(ctx context.Context, r *grant.Request) (grant.Response, error)
}

// Resolver reads a tenant's settings of the surface; *binding.Resolver is
// one.
type Resolver interface {
	Settings(ctx context.Context, tenant, name string, into binding.Settings) error
}

// Options configure the surface; all but MaxBody are required.
type Options struct {
	Mint     Minter
	Verifier Verifier
	Engine   Engine
	Binding  Resolver
	// MaxBody bounds request bodies (httpx.DefaultMaxBody when 0).
	MaxBody int64
	Log     *slog.Logger
}

// Surface serves AuthSec's Auth Manager token API.
type Surface struct {
	mint     Minter
	verifier Verifier
	engine   Engine
	binding  Resolver
	maxBody  int64
	log      *slog.Logger
}

// New returns the surface.
func New(o Options) (*Surface, error) {
	if o.Mint == nil || o.Verifier == nil || o.Engine == nil || o.Binding == nil || o.Log == nil {
		return nil, errors.New("tenantauth: Mint, Verifier, Engine, Binding and Log are required")
	}
	if o.MaxBody <= 0 {
		o.MaxBody = httpx.DefaultMaxBody
	}
	return &Surface{mint: o.Mint, verifier: o.Verifier, engine: o.Engine, binding: o.Binding, maxBody: o.MaxBody, log: o.Log}, nil
}

// Register adds the surface's routes to mux.
func (s *Surface) Register(mux httpx.Router) {
	mux.HandleFunc("POST /auth/admin/generateToken", s.generate(true))
	mux.HandleFunc("POST /auth/user/generateToken", s.generate(false))
	mux.HandleFunc("POST /auth/admin/oidcToken", s.oidcToken)
	mux.HandleFunc("POST /auth/user/oidcToken", s.oidcToken)
	mux.HandleFunc("GET /auth/admin/verifyToken", s.verify)
	mux.HandleFunc("GET /auth/user/verifyToken", s.verify)
}

// settings reads the tenant's settings; a tenant without the surface is
// "client not found" like an unknown one.
func (s *Surface) settings(ctx context.Context, ten string) (*binding.TenantAuth, error) {
	var set binding.TenantAuth
	if err := s.binding.Settings(ctx, ten, Name, &set); err != nil {
		if errors.Is(err, binding.ErrDisabled) || binding.NotFound(err) {
			return nil, fault.NotFound("client not found")
		}
		return nil, fault.Unavailable(err)
	}
	return &set, nil
}

// generate serves POST /auth/{admin,user}/generateToken.
func (s *Surface) generate(admin bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := httpx.ReadBody(r, s.maxBody)
		if err != nil {
			writeFault(w, r, s.log, err)
			return
		}
		in, err := parseToken(r.Header.Get("Content-Type"), body)
		if err != nil {
			writeFault(w, r, s.log, err)
			return
		}
		set, err := s.settings(r.Context(), in.TenantID)
		if err != nil {
			writeFault(w, r, s.log, err)
			return
		}
		c, registered := set.Clients[in.ClientID]
		registered = registered && c.ProjectID == in.ProjectID
		res, err := s.mint.TenantToken(r.Context(), in.TenantID, mint.TenantSpec{
			ProjectID: in.ProjectID, ClientID: in.ClientID, Email: in.EmailID, Secret: in.SecretID,
			Registered: registered, NoSecret: c.NoSecret, Admin: admin, AdminRole: set.Admin(),
			Lifetime: set.Lifetime(), Issuer: set.Iss(), Audience: set.Aud(), Surface: Name,
		})
		if err != nil {
			writeFault(w, r, s.log, err)
			return
		}
		writeToken(w, res.Value, res.ExpiresIn())
	}
}

// payload are the claims of a tenant token verifyToken answers with.
type payload struct {
	TenantID  string   `json:"tenant_id"`
	ProjectID string   `json:"project_id"`
	ClientID  string   `json:"client_id"`
	EmailID   string   `json:"email_id"`
	TokenType string   `json:"token_type"`
	Iss       string   `json:"iss"`
	Iat       int64    `json:"iat"`
	Exp       int64    `json:"exp"`
	Roles     []string `json:"roles"`
	Scopes    []string `json:"scopes"`
	Groups    []string `json:"groups"`
	Resources []string `json:"resources"`
}

// decodePayload reads a token's payload without verifying it.
func decodePayload(raw string) (payload, bool) {
	var p payload
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(raw) > 8<<10 {
		return p, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		return p, false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if d.Decode(&p) != nil || p.TenantID == "" {
		return p, false
	}
	return p, true
}

// verify serves GET /auth/{admin,user}/verifyToken: the bearer is
// verified by the core (signature with the tenant's secret of its kid,
// ledger row, revocation, expiry) for the tenant its tenant_id names.
func (s *Surface) verify(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadBody(r, s.maxBody)
	if err != nil {
		writeVerifyFault(w, r, s.log, fault.InvalidToken("unreadable body"))
		return
	}
	raw, ok := bearer(r.Header.Get("Authorization"))
	if len(bytes.TrimSpace(body)) > 0 {
		// The original binds {"token":"…"} (sharedmodels.VerifyRequest).
		v, err := parseVerify(r.Header.Get("Content-Type"), body)
		if err != nil {
			writeFault(w, r, s.log, err)
			return
		}
		raw, ok = v, true
	}
	if !ok {
		writeVerifyFault(w, r, s.log, fault.InvalidToken("no token"))
		return
	}
	p, ok := decodePayload(raw)
	if !ok || len(p.TenantID) > maxField {
		writeVerifyFault(w, r, s.log, fault.InvalidToken("malformed token"))
		return
	}
	if _, err := s.settings(r.Context(), p.TenantID); err != nil {
		if fault.CodeOf(err) == fault.CodeNotFound {
			err = fault.InvalidToken("surface not enabled")
		}
		writeVerifyFault(w, r, s.log, err)
		return
	}
	id, err := s.verifier.VerifyIn(r.Context(), p.TenantID, raw)
	if err != nil {
		writeVerifyFault(w, r, s.log, err)
		return
	}
	if id.Tenant != p.TenantID || p.TokenType == "" {
		writeVerifyFault(w, r, s.log, fault.InvalidToken("token of another tenant"))
		return
	}
	writeJSON(w, http.StatusOK, verifyResponse{
		Valid: true, TenantID: p.TenantID, ProjectID: p.ProjectID, ClientID: p.ClientID, EmailID: p.EmailID,
		Scopes: nonNil(p.Scopes), Roles: nonNil(p.Roles), Groups: nonNil(p.Groups), Resources: nonNil(p.Resources),
		TokenType: p.TokenType, IssuedAt: p.Iat, ExpiresAt: p.Exp, Issuer: p.Iss,
	})
}

func bearer(h string) (string, bool) {
	scheme, v, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	v = strings.TrimSpace(v)
	return v, v != ""
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// oidcToken serves POST /auth/{admin,user}/oidcToken: the bearer is a
// token of the calling client (verified by the core for the tenant its
// tenant_id names); the oidc_token is exchanged by the grant engine's
// RFC 8693 token exchange, as at POST /t/{tenant}/oauth2/token, for the
// tenant user it maps to, issued as an "oidc" token.
func (s *Surface) oidcToken(w http.ResponseWriter, r *http.Request) {
	raw, ok := bearer(r.Header.Get("Authorization"))
	p, okp := decodePayload(raw)
	if !ok || !okp || len(p.TenantID) > maxField {
		writeOIDCFault(w, r, s.log, errCaller)
		return
	}
	body, err := httpx.ReadBody(r, s.maxBody)
	if err != nil {
		writeOIDCFault(w, r, s.log, err)
		return
	}
	in, err := parseOIDC(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeOIDCFault(w, r, s.log, err)
		return
	}
	set, err := s.settings(r.Context(), p.TenantID)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeNotFound {
			err = errCaller
		}
		writeOIDCFault(w, r, s.log, err)
		return
	}
	id, err := s.verifier.VerifyIn(r.Context(), p.TenantID, raw)
	if err != nil {
		if fault.CodeOf(err) != fault.CodeUnavailable {
			err = errCaller
		}
		writeOIDCFault(w, r, s.log, err)
		return
	}
	if id.Tenant != p.TenantID || id.Claims.ClientID == "" || p.ProjectID == "" {
		writeOIDCFault(w, r, s.log, errCaller)
		return
	}
	typ := grant.TokenTypeAccess
	if strings.Count(in.OIDCToken, ".") == 2 {
		typ = grant.TokenTypeJWT
	}
	res, err := s.engine.Token(r.Context(), &grant.Request{
		Tenant: p.TenantID, GrantType: grantTokenExchange, Caller: id.Claims.ClientID,
		SubjectToken: in.OIDCToken, SubjectTokenType: typ,
		Named: &grant.Named{Key: mint.TenantKeyOIDC, TTL: set.Lifetime(), Require: set.OIDCRequired(), Claims: map[string]any{
			"tenant_id": p.TenantID, "project_id": p.ProjectID, "client_id": id.Claims.ClientID,
			"token_type": mint.TenantKeyOIDC, "aud": set.Aud(), "iss": set.Iss(),
		}},
	})
	if err != nil {
		writeOIDCFault(w, r, s.log, err)
		return
	}
	writeToken(w, res.AccessToken, res.ExpiresIn)
}

// grantTokenExchange is RFC 8693's grant type.
const grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// errCaller: the bearer is not a live token of a client of a tenant
// serving the surface.
var errCaller = fault.InvalidClient("the bearer is not a token of a client")
