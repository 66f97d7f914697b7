package tokenapi

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/token"
	"github.com/tokend/tokend/verify"
)

// Customers serves customer sessions (seed 001):
//   - POST /t/{tenant}/customers/login {"email","password"} returns a
//     customer token: in the body for server-to-server callers, or, for a
//     browser (a request with Origin or Sec-Fetch-Site), only as an
//     HttpOnly, Secure, SameSite=Strict cookie — never both;
//   - POST /t/{tenant}/customers/logout with the token (bearer or cookie)
//     ends every session of that customer, on every device; with the
//     cookie alone, only from tokend's own origin (see cookieRequestAllowed).
type Customers struct {
	Mint     *mint.Minter
	Verifier *introspect.Verifier
	// PublicURL is tokend's public URL: the origin it names is the only
	// one a cookie-authenticated request may come from.
	PublicURL string
	MaxBody   int64
	Log       *slog.Logger
}

// Register adds both endpoints to mux.
func (cs *Customers) Register(mux httpx.Router) {
	mux.HandleFunc("POST /t/{tenant}/customers/login", cs.login)
	mux.HandleFunc("POST /t/{tenant}/customers/logout", cs.logout)
}

// fromBrowser reports whether a request carries browser signals. A
// request with more than one Origin is refused.
func fromBrowser(r *http.Request) (bool, error) {
	o, err := verify.Origin(r.Header)
	if err != nil {
		return false, fault.InvalidRequest("the request carries more than one Origin")
	}
	return o != "" || r.Header.Get("Sec-Fetch-Site") != "", nil
}

func (cs *Customers) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ten := r.PathValue("tenant")
	var body struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	browser, err := fromBrowser(r)
	if err == nil {
		err = httpx.DecodeJSON(r, cs.MaxBody, &body)
	}
	var res token.Issued
	if err == nil {
		room := 0
		if browser {
			room = httpx.CookieRoom(httpx.SessionCookie)
		}
		res, err = cs.Mint.CustomerLogin(r.Context(), ten, body.Email, body.Password, room)
	}
	if err != nil {
		httpx.WriteError(w, r, cs.Log, err)
		return
	}
	out := map[string]any{"kind": claims.KindCustomer, "customer_id": res.Subject, "expires_in": res.ExpiresIn()}
	if browser {
		http.SetCookie(w, httpx.TokenCookie(httpx.SessionCookie, res.Value, res.ExpiresAt))
	} else {
		out["token"] = res.Value
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// cookieRequestAllowed guards a state change authenticated by the session
// cookie alone. A browser attaches the cookie to a request whichever page
// makes it, and a "simple" cross-origin POST (a form, or fetch with
// Content-Type text/plain) is sent without a CORS preflight, so the cookie
// proves nothing about who asked (CSRF, OWASP CSRF Prevention Cheat
// Sheet). The session cookie is tokend's own (host-only, Path=/), so the
// pages entitled to use it are those of tokend's public origin: a
// storefront that logs out with the cookie is served from that origin
// (behind the same proxy); any other caller holds the token and sends it
// as a bearer token, which no other page can attach. The rule, for
// browsers (every current one sends Origin on a POST, and Fetch Metadata):
//   - Sec-Fetch-Site, when sent, must be same-origin, or none (a
//     navigation the user made, never another page's request); same-site
//     is refused too, since a sibling subdomain is another origin and
//     often less trusted (OWASP Fetch Metadata resource isolation);
//   - Origin, when sent, must be tokend's public origin (a foreign or
//     "null" origin is refused, and more than one Origin always is);
//   - a request with neither is not a browser's, and the cookie alone is
//     not enough: it must send the token as a bearer token.
func (cs *Customers) cookieRequestAllowed(r *http.Request) error {
	refuse := fault.Forbidden("a request authenticated by the session cookie must come from this server's own origin; " +
		"other callers send the token as a bearer token")
	site := r.Header.Get("Sec-Fetch-Site")
	if len(r.Header.Values("Sec-Fetch-Site")) > 1 || site != "" && site != "same-origin" && site != "none" {
		return refuse
	}
	o, err := verify.Origin(r.Header)
	if err != nil {
		return refuse
	}
	if o != "" {
		n, ok := claims.NormalizeOrigin(o)
		if !ok || n != cs.ownOrigin() {
			return refuse
		}
	}
	if o == "" && site == "" {
		return refuse
	}
	return nil
}

// ownOrigin is the origin of tokend's public URL.
func (cs *Customers) ownOrigin() string {
	u, err := url.Parse(cs.PublicURL)
	if err != nil {
		return ""
	}
	o, _ := claims.NormalizeOrigin(u.Scheme + "://" + u.Host)
	return o
}

func (cs *Customers) logout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	raw, ok := verify.BearerToken(r)
	var err error
	if !ok {
		if ck, cerr := r.Cookie(httpx.SessionCookie); cerr == nil && ck.Value != "" {
			raw, ok = ck.Value, true
			err = cs.cookieRequestAllowed(r)
		}
	}
	if err == nil && !ok {
		err = fault.InvalidToken("no customer token")
	}
	var id *introspect.Identity
	if err == nil {
		id, err = cs.Verifier.Verify(r.Context(), raw)
	}
	if err == nil {
		err = cs.Mint.CustomerLogout(r.Context(), r.PathValue("tenant"), id)
	}
	if err != nil {
		httpx.WriteError(w, r, cs.Log, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}
