package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/exchange"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/upstream/oidc"
)

// newExchange builds the checker of token exchange and jwt-bearer grants:
// other providers reached through package upstream/oidc (plain http to a
// loopback provider only in dev mode or with
// --upstream-allow-insecure-loopback), tokend's own tokens through the
// introspection verifier.
func (a *App) newExchange(cfg config.Config) (*exchange.Checker, error) {
	a.upstream = oidc.New(oidc.Options{AllowInsecureLoopback: cfg.Dev || cfg.UpstreamInsecureLoopback, Timeout: cfg.UpstreamTimeout})
	var err error
	a.xchg, err = exchange.New(exchange.Options{Store: a.st, Users: a.tokenDir, Upstream: upstream{a.upstream}, Audit: a.audit, OpenSecret: a.keys.OpenSecret,
		PublicURL: cfg.PublicURL, Local: func(ctx context.Context, ten, raw string) (*claims.Claims, error) {
			id, err := a.verifier.VerifyIn(ctx, ten, raw)
			if err != nil {
				return nil, err
			}
			if id.Tenant != ten {
				// A token of another tenant of tokend is a foreign one.
				return nil, fault.InvalidGrant("a token of another tenant")
			}
			return &id.Claims, nil
		}})
	return a.xchg, err
}

// SetExchangeClock replaces the clock the token exchange and jwt-bearer
// grants check token times against; tests shift it.
func (a *App) SetExchangeClock(now func() time.Time) { a.xchg.SetClock(now) }

// upstream adapts an oidc.Pool to exchange.Upstream's errors.
type upstream struct{ p *oidc.Pool }

var _ exchange.Upstream = upstream{}

func (u upstream) Verify(ctx context.Context, issuer string, algs []string, raw string) ([]byte, error) {
	b, err := u.p.Verify(ctx, issuer, algs, raw)
	return b, upstreamErr(err)
}

func (u upstream) Introspect(ctx context.Context, endpoint, clientID string, secret []byte, raw string) (map[string]any, error) {
	m, err := u.p.Introspect(ctx, endpoint, clientID, secret, raw)
	return m, upstreamErr(err)
}

func upstreamErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, oidc.ErrRejected):
		return fmt.Errorf("%w: %v", exchange.ErrRejected, err)
	default:
		// Anything else (a timeout, a refused connection, a bad answer)
		// means the token could not be checked.
		return fmt.Errorf("%w: %v", exchange.ErrUnavailable, err)
	}
}
