package oauth

import (
	"errors"
	"log/slog"
	"time"

	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
)

// Options are the dependencies of the RFC endpoints; all but Log are
// required.
type Options struct {
	Engine   *grant.Engine
	Mint     *mint.Minter
	Verifier *introspect.Verifier
	Revoke   *revoke.Service
	Tenants  store.Tenants
	Keys     KeySets
	// PublicURL is the server's public URL, the root of every issuer.
	PublicURL string
	// MaxBody caps request bodies.
	MaxBody int64
	// JWKSMaxAge is the JWKS's Cache-Control max-age (default 5 minutes).
	JWKSMaxAge time.Duration
	Log        *slog.Logger
}

// Surface is the RFC endpoints of every tenant.
type Surface struct {
	token      *TokenEndpoint
	tokenAdmin *TokenAdmin
	discovery  *Discovery
}

// New checks o and builds the surface.
func New(o Options) (*Surface, error) {
	if o.Engine == nil || o.Mint == nil || o.Verifier == nil || o.Revoke == nil || o.Tenants == nil || o.Keys == nil {
		return nil, errors.New("oauth: Engine, Mint, Verifier, Revoke, Tenants and Keys are required")
	}
	if o.PublicURL == "" || o.MaxBody <= 0 {
		return nil, errors.New("oauth: PublicURL and a positive MaxBody are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Surface{
		token:      &TokenEndpoint{Engine: o.Engine, Mint: o.Mint, MaxBody: o.MaxBody, Log: o.Log},
		tokenAdmin: &TokenAdmin{Engine: o.Engine, Verifier: o.Verifier, Revoke: o.Revoke, MaxBody: o.MaxBody, Log: o.Log},
		discovery: &Discovery{
			PublicURL: o.PublicURL, Tenants: o.Tenants, Keys: o.Keys, Log: o.Log, JWKSMaxAge: o.JWKSMaxAge,
			GrantTypes: o.Engine.GrantTypes(),
			Endpoints: map[string]string{
				"introspection_endpoint": "/oauth2/introspect",
				"revocation_endpoint":    "/oauth2/revoke",
			},
		},
	}, nil
}

// Register adds every RFC endpoint to mux.
func (s *Surface) Register(mux httpx.Router) {
	s.token.Register(mux)
	s.tokenAdmin.Register(mux)
	s.discovery.Register(mux)
}
