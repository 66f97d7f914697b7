package gateway

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/tokend/tokend/claims"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/verify"
)

// SessionCookie is the cookie a browser session token is delivered in.
const SessionCookie = httpx.SessionCookie

// Check serves the gateway check at /t/{tenant}/check, for nginx
// auth_request and forward-auth proxies: it reads the token from
// Authorization (or the session cookie), verifies it (signature, expiry,
// revocation), applies its kind's rules to the forwarded request headers
// (Origin, Sec-Fetch-*, Cookie), with ?channel=N refuses a token bound to
// other channels (verify.CheckChannel), with ?audience=X requires X in aud and,
// with ?scope=a+b, requires scopes. It
// answers 200 with the identity in X-Tokend-* headers, or 401/403 with a
// JSON reason and WWW-Authenticate.
type Check struct {
	Verifier *introspect.Verifier
	// Legacy, when set, accepts seed 004's token forms too.
	Legacy *Legacy
	// Dialects are asked first, in order.
	Dialects []Dialect
	Log      *slog.Logger
}

// Dialect answers the check in a compatible surface's own terms (its
// identity headers and error texts) for the tokens that surface mints,
// applying the same core rules (verification, verify.CheckUse). A
// dialect is wired in by the application; the gateway imports no
// surface.
type Dialect interface {
	// Check answers the check of tenant for r and reports true, or
	// reports false, having written nothing, when r is not its to answer.
	Check(w http.ResponseWriter, r *http.Request, tenant string) bool
}

// Register adds the check for every method (proxies forward the original
// method or always use GET).
func (c *Check) Register(mux httpx.Router) {
	mux.HandleFunc("/t/{tenant}/check", c.serve)
}

func (c *Check) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	for _, d := range c.Dialects {
		if d.Check(w, r, r.PathValue("tenant")) {
			return
		}
	}
	id, err := c.identify(r)
	if err != nil && fault.CodeOf(err) == fault.CodeUnauthenticated {
		verify.WriteError(w, &verify.Error{Status: http.StatusUnauthorized, Description: "no bearer token"})
		return
	}
	if err != nil {
		if fault.CodeOf(err) == fault.CodeUnavailable {
			httpx.WriteError(w, r, c.Log, err)
			return
		}
		verify.WriteError(w, &verify.Error{Status: http.StatusUnauthorized, Code: "invalid_token", Description: describeFault(err)})
		return
	}
	if id.Tenant != r.PathValue("tenant") {
		verify.WriteError(w, &verify.Error{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "token of another tenant"})
		return
	}
	q := r.URL.Query()
	if err := verify.CheckAudience(&id.Claims, q.Get("audience")); err != nil {
		verify.WriteError(w, err)
		return
	}
	if err := verify.CheckUse(&id.Claims, r.Header); err != nil {
		verify.WriteError(w, err)
		return
	}
	if err := verify.CheckChannel(&id.Claims, q.Get("channel")); err != nil {
		verify.WriteError(w, err)
		return
	}
	if err := verify.RequireScopes(&id.Claims, strings.Fields(strings.Join(q["scope"], " "))...); err != nil {
		verify.WriteError(w, err)
		return
	}
	if err := verify.RequireRole(&id.Claims, strings.Fields(strings.Join(q["role"], " "))...); err != nil {
		verify.WriteError(w, err)
		return
	}
	cl := id.Claims
	if cl.Kind == claims.KindImpersonation {
		var err error
		if cl, err = c.Verifier.ActFor(r.Context(), id, r.Header.Get(verify.CustomerHeader)); err != nil {
			if fe := fault.As(err); fe != nil && fe.Code == fault.CodeForbidden {
				verify.WriteError(w, &verify.Error{Status: http.StatusForbidden, Code: "forbidden", Description: fe.Description})
				return
			}
			httpx.WriteError(w, r, c.Log, err)
			return
		}
	}
	// The names are in canonical form already: set without
	// canonicalizing them again on every check.
	h := w.Header()
	h["X-Tokend-Tenant"] = []string{id.Tenant}
	h["X-Tokend-Subject"] = []string{cl.Subject}
	h["X-Tokend-Subject-Type"] = []string{cl.SubjectType}
	h["X-Tokend-Kind"] = []string{cl.Kind}
	h["X-Tokend-Scope"] = []string{cl.Scope}
	h["X-Tokend-Client"] = []string{cl.ClientID}
	h["X-Tokend-Token-Id"] = []string{cl.ID}
	if cl.Act != nil {
		h["X-Tokend-Actor"] = []string{cl.Act.Subject}
	}
	httpx.WriteJSON(w, http.StatusOK, checkBody{Active: true, ClientID: cl.ClientID, JTI: cl.ID, Kind: cl.Kind,
		Scope: cl.Scope, Sub: cl.Subject, Tenant: id.Tenant})
}

// checkBody is the check's 200 body, its members in the order a map of
// them used to be encoded in (by name), which clients may have compared.
type checkBody struct {
	Active   bool   `json:"active"`
	ClientID string `json:"client_id"`
	JTI      string `json:"jti"`
	Kind     string `json:"kind"`
	Scope    string `json:"scope"`
	Sub      string `json:"sub"`
	Tenant   string `json:"tenant"`
}

func describeFault(err error) string {
	if f := fault.As(err); f != nil && f.Description != "" {
		return f.Description
	}
	return "invalid token"
}

// identify verifies the presented token: a seed 004 form (see Legacy),
// else the bearer token or the session cookie; an unauthenticated fault
// when there is none.
func (c *Check) identify(r *http.Request) (*introspect.Identity, error) {
	if c.Legacy != nil {
		if f, ok := parseLegacy(r); ok {
			return c.Legacy.identify(r, r.PathValue("tenant"), f)
		}
	}
	raw, ok := verify.BearerToken(r)
	if !ok {
		if ck, err := r.Cookie(SessionCookie); err == nil {
			raw, ok = ck.Value, ck.Value != ""
		}
	}
	if !ok {
		return nil, fault.Unauthenticated("no bearer token")
	}
	return c.Verifier.VerifyIn(r.Context(), r.PathValue("tenant"), raw)
}
