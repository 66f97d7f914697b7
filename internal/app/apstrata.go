package app

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/compat/apstrata"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// apstrataAccounts resolves seed 004's account keys to the tenants that
// enabled the surface under them.
type apstrataAccounts struct{ r *binding.Resolver }

// Account returns the tenant bound to the surface under key and its
// owner client.
func (x apstrataAccounts) Account(ctx context.Context, key string) (string, string, error) {
	ten, err := x.r.ByKey(ctx, apstrata.Name, key)
	if err == nil {
		var s binding.Apstrata
		if err = x.r.Settings(ctx, ten, apstrata.Name, &s); err == nil {
			return ten, s.OwnerClient, nil
		}
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, binding.ErrDisabled) {
		return "", "", fault.NotFound("unknown account key")
	}
	return "", "", fault.Unavailable(err)
}

// apstrataSecure is seed 004's "sent over https": TLS, or plain HTTP in
// dev mode or from loopback.
func (a *App) apstrataSecure(r *http.Request) bool {
	if r.TLS != nil || a.cfg.Dev {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apstrataPlainHTTP reports whether a request checked at /t/{t}/check
// came over plain HTTP outside dev mode: its proxy says so
// (X-Forwarded-Proto: http), or it came so itself from another machine.
func (a *App) apstrataPlainHTTP(r *http.Request) bool {
	if a.cfg.Dev {
		return false
	}
	switch r.Header.Get("X-Forwarded-Proto") {
	case "http":
		return true
	case "https":
		return false
	}
	return !a.apstrataSecure(r)
}

var _ apstrata.Accounts = apstrataAccounts{}
