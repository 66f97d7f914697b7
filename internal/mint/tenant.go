package mint

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// ClientCheck authenticates a client of a tenant with its secret (the
// core's one client authentication: stored hash or secret reference,
// constant time, throttled, audited); authn.Authenticator.Client behind
// a closure is one.
type ClientCheck func(ctx context.Context, tenant, clientID, secret string) (store.Client, error)

// Names of the HMAC secrets (and header kids) of tenant tokens.
const (
	TenantKeyDefault = "default"
	TenantKeySDK     = "sdk-agent"
	TenantKeyOIDC    = "oidc"
)

// TenantSpec asks for a tenant token (seed 002): an HS256 token, header
// kid the token type, for a user of the tenant acting through a client
// registered for a project.
type TenantSpec struct {
	ProjectID, ClientID, Email string
	// Secret is the client's secret as sent; nil when none was sent.
	Secret *string
	// Registered says the client is registered for ProjectID in the
	// tenant's settings of the surface, and NoSecret that it may be used
	// without a secret.
	Registered, NoSecret bool
	// Admin asks for an admin token: the user must hold AdminRole, and the
	// token carries no authority lists. Otherwise the token carries the
	// user's expanded roles, groups, scopes and resources.
	Admin     bool
	AdminRole string
	// Lifetime is the token's expiry (required).
	Lifetime time.Duration
	// Issuer and Audience are the token's iss and aud claims.
	Issuer, Audience string
	Surface          string
}

// TenantToken checks a seed-002 token request and issues its token. An
// unknown tenant, project or client, or a client not registered for the
// project, is one not_found fault ("client not found" for all, so that
// ids cannot be enumerated). A wrong secret, a missing one where the
// client needs one, a disabled client, an unknown or disabled user, or a
// user without AdminRole on the admin route, is invalid_client or
// unauthenticated. A secret store outage is unavailable. Refusals are
// audited.
func (s *Minter) TenantToken(ctx context.Context, ten string, sp TenantSpec) (token.Issued, error) {
	res, err := s.tenantToken(ctx, ten, sp)
	if err != nil && fault.CodeOf(err) != fault.CodeUnavailable && fault.CodeOf(err) != fault.CodeInternal {
		d := map[string]string{"reason": string(fault.CodeOf(err)), "surface": sp.Surface, "project": sp.ProjectID}
		if f := fault.As(err); f != nil && f.Description != "" {
			d["description"] = f.Description
		}
		s.audit.RecordFailure(ctx, store.AuditEvent{Tenant: ten, Action: "token.mint", Actor: "client:" + sp.ClientID, ClientID: sp.ClientID, Subject: sp.Email, Detail: d})
	}
	return res, err
}

var errNoClient = fault.NotFound("client not found")

func (s *Minter) tenantToken(ctx context.Context, ten string, sp TenantSpec) (token.Issued, error) {
	if s.clients == nil || sp.Lifetime <= 0 || sp.Audience == "" {
		return token.Issued{}, fault.Internal(errors.New("mint: tenant tokens need a ClientCheck, a lifetime and an audience"))
	}
	if _, err := s.dir.Project(ctx, ten, sp.ProjectID); err != nil {
		if isNotFound(err) {
			return token.Issued{}, errNoClient
		}
		return token.Issued{}, storeErr(err)
	}
	if !sp.Registered {
		return token.Issued{}, errNoClient
	}
	key := TenantKeyDefault
	if sp.Secret != nil {
		// The client authentication reads the tenant's client (cached);
		// only a refusal asks whether it exists at all.
		key = TenantKeySDK
		if _, err := s.clients(ctx, ten, sp.ClientID, *sp.Secret); err != nil {
			if fault.CodeOf(err) == fault.CodeInvalidClient {
				if e := s.tenantClientExists(ctx, ten, sp.ClientID); e != nil {
					return token.Issued{}, e
				}
			}
			return token.Issued{}, err
		}
	} else {
		if e := s.tenantClientExists(ctx, ten, sp.ClientID); e != nil {
			return token.Issued{}, e
		}
		if !sp.NoSecret {
			return token.Issued{}, fault.InvalidClient("the client needs its secret_id")
		}
	}
	login, err := principal.NormalizeLogin(sp.Email)
	if err != nil {
		return token.Issued{}, fault.Unauthenticated("unknown user")
	}
	u, err := s.dir.UserByLogin(ctx, ten, login)
	if isNotFound(err) || (err == nil && u.Disabled) {
		return token.Issued{}, fault.Unauthenticated("unknown or disabled user")
	}
	if err != nil {
		return token.Issued{}, storeErr(err)
	}
	a, err := principal.ExpandFrom(ctx, s.dir, ten, u.Roles, u.Groups)
	if err != nil {
		return token.Issued{}, storeErr(err)
	}
	extra := map[string]any{
		"tenant_id": ten, "project_id": sp.ProjectID, "client_id": sp.ClientID, "email_id": sp.Email,
		"token_type": key, "aud": sp.Audience, "iss": sp.Issuer,
	}
	req := issue.Request{
		Tenant: ten, Kind: claims.KindAccess, SubjectType: "user", Subject: u.ID, ClientID: sp.ClientID,
		Audience: []string{sp.Audience}, Scope: []string{}, TTL: sp.Lifetime,
		Format: store.FormatNamed, HMACKey: key, NamedClaims: extra, NotBefore: true,
		Action: "token.mint", AuditActor: "client:" + sp.ClientID, Surface: sp.Surface,
	}
	if sp.Admin {
		if sp.AdminRole == "" || !slices.Contains(a.Roles, sp.AdminRole) {
			return token.Issued{}, fault.Unauthenticated("the user is not an admin of the tenant")
		}
	} else {
		extra["roles"], extra["scopes"], extra["resources"], extra["groups"] = nonNil(a.Roles), nonNil(a.Scopes), nonNil(a.Resources), nonNil(a.Groups)
		req.Scope, req.Roles, req.Groups, req.Resources = nonNil(a.Scopes), a.Roles, a.Groups, a.Resources
	}
	return issued(s.issuer.Issue(ctx, req))
}

// tenantClientExists is nil when tenant ten and its client id exist,
// errNoClient when either does not, a storage fault otherwise.
func (s *Minter) tenantClientExists(ctx context.Context, ten, id string) error {
	if _, err := s.known.Tenant(ctx, ten); err != nil {
		if isNotFound(err) {
			return errNoClient
		}
		return storeErr(err)
	}
	if _, err := s.known.KnownClient(ctx, ten, id); err != nil {
		if isNotFound(err) {
			return errNoClient
		}
		return storeErr(err)
	}
	return nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
