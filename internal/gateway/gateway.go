package gateway

import (
	"errors"
	"log/slog"

	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/revoke"
)

// Options are the dependencies of the gateway surface; all but Log are
// required.
type Options struct {
	Engine   *grant.Engine
	Verifier *introspect.Verifier
	Revoke   *revoke.Service
	// Stopping is closed when the server shuts down: feed event streams
	// end then.
	Stopping <-chan struct{}
	// Legacy, when set, accepts seed 004's token forms at the check.
	Legacy *Legacy
	// Dialects answer the check in a compatible surface's own terms for
	// the tokens of that surface (see Dialect).
	Dialects []Dialect
	Log      *slog.Logger
}

// Surface is the gateway check and the revocation feed of every tenant.
type Surface struct {
	check *Check
	feed  *Feed
}

// New checks o and builds the surface.
func New(o Options) (*Surface, error) {
	if o.Engine == nil || o.Verifier == nil || o.Revoke == nil || o.Stopping == nil {
		return nil, errors.New("gateway: Engine, Verifier, Revoke and Stopping are required")
	}
	if l := o.Legacy; l != nil && (l.Authn == nil || l.Account == nil || l.PlainHTTP == nil || l.Revoke == nil) {
		return nil, errors.New("gateway: Legacy needs Authn, Account, PlainHTTP and Revoke")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Surface{
		check: &Check{Verifier: o.Verifier, Legacy: o.Legacy, Dialects: o.Dialects, Log: o.Log},
		feed:  &Feed{Engine: o.Engine, Revoke: o.Revoke, Log: o.Log, Stopping: o.Stopping},
	}, nil
}

// Register adds the check and the feed to mux.
func (s *Surface) Register(mux httpx.Router) {
	s.check.Register(mux)
	s.feed.Register(mux)
}
