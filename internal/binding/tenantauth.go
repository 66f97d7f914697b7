package binding

import (
	"fmt"
	"time"
)

// TenantAuthName is the surface name of seed 002's tenant tokens
// (internal/compat/tenantauth).
const TenantAuthName = "tenantauth"

func init() { Register(TenantAuthName, func() Settings { return &TenantAuth{} }) }

// Defaults of the tenant-token surface, as AuthSec's auth-manager makes
// its tokens (authsec-ai/authsec controllers/authmgr_controller.go).
const (
	DefaultTenantAuthLifetime = 24 * time.Hour
	DefaultTenantAuthIssuer   = "authsec-ai/auth-manager"
	DefaultTenantAuthAudience = "authsec-api"
	maxTenantAuthLifetime     = 30 * 24 * time.Hour
	maxTenantAuthClients      = 1000
)

// TenantAuthClient registers a client of the tenant for the surface.
type TenantAuthClient struct {
	// ProjectID is the project the client belongs to: a request naming
	// another project is answered "client not found".
	ProjectID string `json:"project_id"`
	// NoSecret lets the client get tokens without a secret_id (the
	// legacy product's "default" tokens). Off by default: without it,
	// anyone who knows the tenant, project and client ids and an email
	// of the tenant gets a token for that user, since those ids are not
	// secrets.
	NoSecret bool `json:"no_secret,omitempty"`
}

// TenantAuth configures the AuthSec Auth Manager token surface for a
// tenant. The HMAC secrets its tokens are signed with are not here: they
// are the tenant's named secrets "default", "sdk-agent" and "oidc"
// (imported from JWT_DEF_SECRET and JWT_SDK_SECRET with tokend keys
// import-named, or generated), sealed by the keys manager.
type TenantAuth struct {
	// TokenLifetime is a token's expiry in seconds. Default 86400 (24 h,
	// the legacy product's); at most 30 days.
	TokenLifetime int64 `json:"token_lifetime,omitempty"`
	// Issuer is the iss claim. Default "authsec-ai/auth-manager".
	Issuer string `json:"issuer,omitempty"`
	// Audience is the aud claim. Default "authsec-api".
	Audience string `json:"audience,omitempty"`
	// AdminRole is the role an email must hold on the admin routes.
	// Default "admin".
	AdminRole string `json:"admin_role,omitempty"`
	// OIDCRequiredClaims are claims the oidc_token itself must carry
	// (an introspection answer's ext claims count as its own), beside the
	// identity fields every exchanged token must have a value for
	// (grant.IdentityFields: provider, provider_id, user_id, tenant_id,
	// email, which the mapping to a tenant user provides when the token
	// does not carry them). Missing ones: 400 "missing required OIDC
	// fields: [...]". Default none. The original, in front of Ory Hydra,
	// requires those five among the introspection's ext claims: list them
	// here for a provider that sets them, to refuse its tokens without.
	OIDCRequiredClaims []string `json:"oidc_required_claims,omitempty"`
	// Clients are the clients registered for the surface, by client id.
	Clients map[string]TenantAuthClient `json:"clients,omitempty"`
}

// Validate implements Settings.
func (s *TenantAuth) Validate() map[string]string {
	p := map[string]string{}
	if s.TokenLifetime < 0 || time.Duration(s.TokenLifetime)*time.Second > maxTenantAuthLifetime {
		p["token_lifetime"] = fmt.Sprintf("must be 1 to %d seconds, or 0 for the default", int64(maxTenantAuthLifetime/time.Second))
	}
	if len(s.Issuer) > 256 {
		p["issuer"] = "must be at most 256 characters"
	}
	if len(s.Audience) > 256 {
		p["audience"] = "must be at most 256 characters"
	}
	if len(s.AdminRole) > 64 {
		p["admin_role"] = "must be at most 64 characters"
	}
	if len(s.Clients) > maxTenantAuthClients {
		p["clients"] = fmt.Sprintf("must list at most %d clients", maxTenantAuthClients)
	}
	for id, c := range s.Clients {
		if id == "" || len(id) > 256 || c.ProjectID == "" || len(c.ProjectID) > 256 {
			p["clients"] = "each client needs an id and a project_id of 1 to 256 characters"
		}
	}
	if len(s.OIDCRequiredClaims) > 20 {
		p["oidc_required_claims"] = "must list at most 20 claims"
	}
	for _, c := range s.OIDCRequiredClaims {
		if c == "" || len(c) > 64 {
			p["oidc_required_claims"] = "each claim must be 1 to 64 characters"
		}
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// OIDCRequired is the list of claims an oidc_token must carry itself
// (none by default).
func (s *TenantAuth) OIDCRequired() []string { return s.OIDCRequiredClaims }

// LookupKey implements Settings: requests name their tenant in the body.
func (s *TenantAuth) LookupKey() string { return "" }

// Lifetime is the effective token lifetime.
func (s *TenantAuth) Lifetime() time.Duration {
	if s.TokenLifetime == 0 {
		return DefaultTenantAuthLifetime
	}
	return time.Duration(s.TokenLifetime) * time.Second
}

// Iss is the effective issuer.
func (s *TenantAuth) Iss() string {
	if s.Issuer == "" {
		return DefaultTenantAuthIssuer
	}
	return s.Issuer
}

// Aud is the effective audience.
func (s *TenantAuth) Aud() string {
	if s.Audience == "" {
		return DefaultTenantAuthAudience
	}
	return s.Audience
}

// Admin is the effective admin role.
func (s *TenantAuth) Admin() string {
	if s.AdminRole == "" {
		return "admin"
	}
	return s.AdminRole
}
