package app

import (
	"context"
	"net"
	"net/http"

	"github.com/tokend/tokend/internal/compat/apstrata"
	"github.com/tokend/tokend/internal/fault"
)

// apstrataAccounts resolves seed 004's account keys to tenants.
type apstrataAccounts struct{ a *App }

// Account returns the tenant bound to the surface under key and its
// owner client.
func (x apstrataAccounts) Account(ctx context.Context, key string) (string, string, error) {
	t, err := x.a.dir.Tenant(ctx, key)
	if err != nil {
		return "", "", fault.NotFound("unknown account key")
	}
	return t.ID, "owner", nil
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

var _ apstrata.Accounts = apstrataAccounts{}
