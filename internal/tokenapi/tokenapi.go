package tokenapi

import (
	"errors"
	"log/slog"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
)

// Options are the dependencies of tokend's own token API; all but Log are
// required.
type Options struct {
	Mint     *mint.Minter
	Verifier *introspect.Verifier
	Authn    *authn.Authenticator
	// PublicURL is tokend's public URL: the origin it names is the only
	// one a cookie-authenticated request may come from.
	PublicURL string
	// MaxBody caps request bodies.
	MaxBody int64
	Log     *slog.Logger
}

// Surface is /tokens, /tokens/generate, /tokens/renew and /customers of
// every tenant.
type Surface struct {
	mint      *Mint
	generate  *Generate
	renew     *Renew
	customers *Customers
}

// New checks o and builds the surface.
func New(o Options) (*Surface, error) {
	if o.Mint == nil || o.Verifier == nil || o.Authn == nil {
		return nil, errors.New("tokenapi: Mint, Verifier and Authn are required")
	}
	if o.PublicURL == "" || o.MaxBody <= 0 {
		return nil, errors.New("tokenapi: PublicURL and a positive MaxBody are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Surface{
		mint:      &Mint{Verifier: o.Verifier, Mint: o.Mint, MaxBody: o.MaxBody, Log: o.Log},
		generate:  &Generate{Mint: o.Mint, Authn: o.Authn, MaxBody: o.MaxBody, Log: o.Log},
		renew:     &Renew{Verifier: o.Verifier, Mint: o.Mint, Log: o.Log},
		customers: &Customers{Mint: o.Mint, Verifier: o.Verifier, PublicURL: o.PublicURL, MaxBody: o.MaxBody, Log: o.Log},
	}, nil
}

// Register adds every endpoint to mux.
func (s *Surface) Register(mux httpx.Router) {
	s.mint.Register(mux)
	s.generate.Register(mux)
	s.renew.Register(mux)
	s.customers.Register(mux)
}
