package oauth

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/verify"
)

// Customers serves customer sessions (seed 001):
//   - POST /t/{tenant}/customers/login {"email","password"} returns a
//     customer token: in the body for server-to-server callers, or, for a
//     browser (a request with Origin or Sec-Fetch-* headers), only as an
//     HttpOnly, Secure, SameSite=Strict cookie — never both;
//   - POST /t/{tenant}/customers/logout with the token (bearer or cookie)
//     ends every session of that customer, on every device.
type Customers struct {
	Engine   *grant.Engine
	Issuer   *issue.Issuer
	Revoke   *revoke.Service
	Verifier *introspect.Verifier
	Store    store.Store
	MaxBody  int64
	Log      *slog.Logger
}

// Register adds both endpoints to mux.
func (cs *Customers) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /t/{tenant}/customers/login", cs.login)
	mux.HandleFunc("POST /t/{tenant}/customers/logout", cs.logout)
}

// customerSession is the session id shared by every session of a
// customer, so that one logout can end them all with one cutoff.
func customerSession(userID string) string { return "cust:" + userID }

// fromBrowser reports whether a request carries browser signals.
func fromBrowser(r *http.Request) bool {
	return r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Mode") != "" || r.Header.Get("Sec-Fetch-Site") != ""
}

func (cs *Customers) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ten := r.PathValue("tenant")
	var body struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	err := httpx.DecodeJSON(r, cs.MaxBody, &body)
	var t store.Tenant
	if err == nil {
		t, err = cs.Store.Tenants().Get(r.Context(), ten)
		if errors.Is(err, store.ErrNotFound) {
			err = fault.NotFound("tenant %q not found", ten)
		} else if err != nil {
			err = fault.Unavailable(err)
		}
	}
	var userID string
	if err == nil {
		userID, err = cs.Engine.Login(r.Context(), ten, body.Email, body.Password)
	}
	var res issue.Result
	if err == nil {
		pol := tenant.Effective(t.Policy)
		req := issue.Request{
			Tenant: ten, Kind: claims.KindCustomer, SubjectType: "customer", Subject: userID,
			SessionID: customerSession(userID), TTL: time.Duration(pol.Lifetime) * time.Second, Action: "customer.login",
		}
		if fromBrowser(r) {
			req.CookieRoom = httpx.CookieRoom(SessionCookie)
		}
		res, err = cs.Issuer.Issue(r.Context(), req)
	}
	if err != nil {
		httpx.WriteError(w, r, cs.Log, err)
		return
	}
	out := map[string]any{"kind": claims.KindCustomer, "customer_id": userID, "expires_in": res.ExpiresIn()}
	if fromBrowser(r) {
		http.SetCookie(w, httpx.TokenCookie(SessionCookie, res.Value, res.ExpiresAt))
	} else {
		out["token"] = res.Value
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (cs *Customers) logout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	raw, ok := verify.BearerToken(r)
	if !ok {
		if ck, err := r.Cookie(SessionCookie); err == nil {
			raw, ok = ck.Value, ck.Value != ""
		}
	}
	var err error
	if !ok {
		err = fault.InvalidToken("no customer token")
	}
	var id *introspect.Identity
	if err == nil {
		id, err = cs.Verifier.Verify(r.Context(), raw)
	}
	if err == nil && (id.Tenant != r.PathValue("tenant") || id.Claims.Kind != claims.KindCustomer) {
		err = fault.InvalidToken("not a customer token of this tenant")
	}
	if err == nil {
		by := revoke.Actor{Name: "customer:" + id.Claims.Subject}
		_, err = cs.Revoke.BeforeIn(r.Context(), cs.Store, by, id.Tenant, store.RevokeSession, customerSession(id.Claims.Subject), "customer.logout")
	}
	if err != nil {
		httpx.WriteError(w, r, cs.Log, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}
