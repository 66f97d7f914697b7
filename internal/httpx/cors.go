package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/tokend/tokend/claims"
)

// CORS lets browsers call the endpoints a browser application uses
// (Fetch standard, "CORS protocol"):
//
//   - discovery and JWKS, which are public: any origin
//     (Access-Control-Allow-Origin: *), so that an in-browser verifier or
//     OIDC client library reads them from any page;
//   - a tenant's token, revocation, renewal and customer login and logout
//     endpoints: the origins in the tenant's policy (cors_origins), named
//     one by one with credentials allowed, since customer login and
//     renewal may set or read a cookie.
//
// A preflight (OPTIONS with Access-Control-Request-Method) from an
// allowed origin is answered 204 here, without reaching the endpoint; one
// from another origin 403, so that the browser refuses the call and the
// developer sees why. Requests from origins not allowed go on to the
// endpoint unchanged but without CORS headers, so a browser keeps their
// answer from the page; servers, which send no Origin, are unaffected.
type CORS struct {
	// Origins returns tenant's allowed origins; an error (the tenant is
	// unknown or the database unreachable) allows none.
	Origins func(ctx context.Context, tenant string) ([]string, error)
	Log     *slog.Logger
}

// corsClass is what CORS allows on a path.
type corsClass int

const (
	corsNone   corsClass = iota
	corsPublic           // GET from any origin
	corsTenant           // POST from the tenant's origins
)

// tenantCORSPaths are the endpoints, under /t/{tenant}, that a tenant's
// origins may call.
var tenantCORSPaths = []string{"/oauth2/token", "/oauth2/revoke", "/tokens/renew", "/customers/login", "/customers/logout"}

// classify returns what path allows and its tenant.
func classify(path string) (corsClass, string) {
	if rest, ok := strings.CutPrefix(path, "/.well-known/oauth-authorization-server/t/"); ok {
		if rest != "" && !strings.Contains(rest, "/") {
			return corsPublic, rest
		}
		return corsNone, ""
	}
	rest, ok := strings.CutPrefix(path, "/t/")
	if !ok {
		return corsNone, ""
	}
	ten, sub, ok := strings.Cut(rest, "/")
	if !ok || ten == "" {
		return corsNone, ""
	}
	switch sub = "/" + sub; {
	case sub == "/.well-known/openid-configuration", sub == "/jwks.json":
		return corsPublic, ten
	case slices.Contains(tenantCORSPaths, sub):
		return corsTenant, ten
	}
	return corsNone, ""
}

// Wrap returns next with CORS answered for the paths above.
func (c CORS) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		class, ten := classify(r.URL.Path)
		switch class {
		case corsPublic:
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			if r.Method == http.MethodOptions {
				h.Set("Allow", "GET, HEAD, OPTIONS")
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
				h.Set("Access-Control-Max-Age", "86400")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		case corsTenant:
			if c.tenant(w, r, ten) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// tenant handles CORS on a tenant endpoint and reports whether it
// answered the request itself (a preflight or a bare OPTIONS).
func (c CORS) tenant(w http.ResponseWriter, r *http.Request, ten string) bool {
	h := w.Header()
	vals := r.Header.Values("Origin")
	if len(vals) == 0 {
		if r.Method == http.MethodOptions {
			h.Set("Allow", "POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return true
		}
		return false
	}
	h.Add("Vary", "Origin")
	origin, allowed := c.allowed(r.Context(), ten, vals)
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !preflight {
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
		}
		if r.Method == http.MethodOptions {
			h.Set("Allow", "POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return true
		}
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Cache-Control", "no-store")
	if !allowed {
		WriteJSON(w, http.StatusForbidden, map[string]string{"error": "access_denied",
			"error_description": "this origin may not call " + r.URL.Path + " from a browser: it is not in the tenant's cors_origins"})
		return true
	}
	if m := r.Header.Get("Access-Control-Request-Method"); m != http.MethodPost {
		WriteJSON(w, http.StatusForbidden, map[string]string{"error": "access_denied",
			"error_description": "only POST may be sent to " + r.URL.Path})
		return true
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// allowed returns the request's one Origin, as sent, and whether the
// tenant allows it. Two origins, or an origin that is no http(s) origin
// ("null" from a sandboxed page), are never allowed.
func (c CORS) allowed(ctx context.Context, ten string, vals []string) (string, bool) {
	if len(vals) != 1 || c.Origins == nil {
		return "", false
	}
	norm, ok := claims.NormalizeOrigin(vals[0])
	if !ok {
		return "", false
	}
	list, err := c.Origins(ctx, ten)
	if err != nil {
		if c.Log != nil {
			c.Log.DebugContext(ctx, "cors: no allowed origins", "tenant", ten, "err", err)
		}
		return "", false
	}
	for _, o := range list {
		if n, ok := claims.NormalizeOrigin(o); ok && n == norm {
			return vals[0], true
		}
	}
	return "", false
}

// CORSPatterns are the routes, as ServeMux patterns, whose OPTIONS the
// CORS layer answers itself (and which the OpenAPI document describes).
func CORSPatterns() []string {
	out := []string{
		"OPTIONS /.well-known/oauth-authorization-server/t/{tenant}",
		"OPTIONS /t/{tenant}/.well-known/openid-configuration",
		"OPTIONS /t/{tenant}/jwks.json",
	}
	for _, p := range tenantCORSPaths {
		out = append(out, "OPTIONS /t/{tenant}"+p)
	}
	return out
}
