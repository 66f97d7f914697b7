package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
)

// KeySets serves tenants' public JWK Sets.
type KeySets interface {
	// JWKS returns the set and whether the tenant has any key.
	JWKS(ctx context.Context, tenant string) ([]byte, bool, error)
}

// Discovery serves per-tenant metadata: OpenID Connect Discovery 1.0 §4 at
// /t/{tenant}/.well-known/openid-configuration, RFC 8414 §3 at
// /.well-known/oauth-authorization-server/t/{tenant}, and the JWK Set
// (RFC 7517 §5) at /t/{tenant}/jwks.json.
type Discovery struct {
	PublicURL string
	Tenants   store.Tenants
	Keys      KeySets
	// GrantTypes are the grant types the token endpoint serves; each
	// tenant's metadata lists those its policy allows.
	GrantTypes []string
	// Endpoints maps metadata names (e.g. "introspection_endpoint") to
	// paths under the tenant, for the endpoints that are mounted.
	Endpoints map[string]string
	// JWKSMaxAge is the JWKS's Cache-Control max-age (default 5
	// minutes); a staged key rotation waits longer than it.
	JWKSMaxAge time.Duration
	Log        *slog.Logger
}

// Register adds the discovery routes to mux.
func (d *Discovery) Register(mux httpx.Router) {
	mux.HandleFunc("GET /t/{tenant}/.well-known/openid-configuration", d.metadata)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server/t/{tenant}", d.metadata)
	mux.HandleFunc("GET /t/{tenant}/jwks.json", d.jwks)
}

// asymmetric are the algorithms a verifier can check with the JWKS.
var asymmetric = []string{"ES256", "EdDSA", "RS256"}

func (d *Discovery) metadata(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("tenant")
	t, err := d.Tenants.Get(r.Context(), id)
	if err != nil {
		httpx.WriteError(w, r, d.Log, tenantErr(err, id))
		return
	}
	iss := tenant.Issuer(d.PublicURL, id)
	m := map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/jwks.json",
		"token_endpoint":                        iss + "/oauth2/token",
		"grant_types_supported":                 d.grantTypes(t),
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA", "HS256"},
		"response_types_supported":                         []string{},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            asymmetric,
		// RFC 9068 access tokens are signed with the same keys.
		"access_token_signing_alg_values_supported": asymmetric,
	}
	for name, path := range d.Endpoints {
		m[name] = iss + path
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpx.WriteJSON(w, http.StatusOK, m)
}

// grantTypes are the grant types tenant t allows (RFC 8414 §2): the
// password grant only where its policy enables it, and refresh_token only
// with it, since only a password login issues refresh tokens.
func (d *Discovery) grantTypes(t store.Tenant) []string {
	out := []string{}
	for _, g := range d.GrantTypes {
		if (g == grant.Password || g == grant.RefreshToken) && !t.Policy.PasswordGrant {
			continue
		}
		out = append(out, g)
	}
	return out
}

func (d *Discovery) jwks(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("tenant")
	set, ok, err := d.Keys.JWKS(r.Context(), id)
	if err != nil {
		httpx.WriteError(w, r, d.Log, fault.Unavailable(err))
		return
	}
	if !ok { // no keys: an unknown tenant, or one whose keys are all gone
		if _, err := d.Tenants.Get(r.Context(), id); err != nil {
			httpx.WriteError(w, r, d.Log, tenantErr(err, id))
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	maxAge := d.JWKSMaxAge
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge/time.Second)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(set)
}

func tenantErr(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFound("tenant %q not found", id)
	}
	return fault.Unavailable(err)
}
