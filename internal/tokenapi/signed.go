package tokenapi

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/verify"
)

// Generate serves POST /t/{tenant}/tokens/generate (seed 004): a device or
// user mints a token for itself with a request signed under its signing
// secret (package signing documents the format); a tenant owner (a client
// allowed tokend:admin) signs with its own secret and names the user or
// device in run_as. Parameters, form-encoded: principal, ts, sig,
// expires_in, lifetime, eternal, scope, audience, rotate, bind_referer,
// cookie (users only), run_as (owners only).
type Generate struct {
	Mint    *mint.Minter
	Authn   *authn.Authenticator
	MaxBody int64
	Log     *slog.Logger
}

// Register adds the endpoint to mux.
func (g *Generate) Register(mux httpx.Router) {
	mux.HandleFunc("POST /t/{tenant}/tokens/generate", g.serve)
}

func (g *Generate) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := g.generate(w, r); err != nil {
		httpx.WriteError(w, r, g.Log, err)
	}
}

func (g *Generate) generate(w http.ResponseWriter, r *http.Request) error {
	form, err := httpx.ParseForm(r, g.MaxBody)
	if err != nil {
		return err
	}
	ten := r.PathValue("tenant")
	signer, err := g.Authn.Signed(r.Context(), authn.SignedRequest{Tenant: ten, Method: r.Method, Path: r.URL.Path, Form: form})
	if err != nil {
		return err
	}
	id := signer.ID

	sp, err := specFromForm(form)
	if err != nil {
		return err
	}
	subjectKind, subject, err := signer.Subject(form.Get("run_as"))
	if err != nil {
		return err
	}
	by := directory.Actor{Tenant: ten, Subject: id}
	if form.Get("run_as") != "" {
		by = directory.Actor{Tenant: ten, Subject: "client:" + id, ClientID: id}
	}
	if sp.BindReferer {
		if subjectKind != "user" {
			return fault.Invalid("bind_referer", "bind_referer: only user tokens are bound to a referrer")
		}
		o, ok := verify.RequestOrigin(http.Header{"Referer": r.Header.Values("Referer")})
		if !ok {
			return fault.InvalidRequest("invalid originating referrer from the Referer header [%s]", r.Header.Get("Referer"))
		}
		sp.BoundOrigin = o
	}
	if sp.Cookie && subjectKind != "user" {
		return fault.Invalid("cookie", "cookie: only user tokens are delivered as cookies")
	}
	if sp.Cookie {
		sp.CookieRoom = httpx.CookieRoom(httpx.SessionCookie)
	}
	mintFor := g.Mint.Device
	if subjectKind == "user" {
		mintFor = g.Mint.User
	}
	res, err := mintFor(r.Context(), by, ten, subject, sp)
	if err != nil {
		return err
	}
	out := map[string]any{"id": res.ID, "token_type": "Bearer", "expires_in": res.ExpiresIn()}
	if res.LifetimeEnd != nil {
		out["lifetime_end"] = res.LifetimeEnd.Unix()
	}
	if sp.Cookie {
		http.SetCookie(w, httpx.TokenCookie(httpx.SessionCookie, res.Value, res.ExpiresAt))
	} else {
		out["access_token"] = res.Value
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// specFromForm reads the mint parameters; numbers that are not numbers
// are named with their parameter.
func specFromForm(f url.Values) (mint.SubjectSpec, error) {
	var sp mint.SubjectSpec
	num := func(name string) (*int64, error) {
		v := f.Get(name)
		if v == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fault.Invalid(name, "%s: %q is not a valid number", name, v)
		}
		return &n, nil
	}
	flag := func(name string) (bool, error) {
		v := f.Get(name)
		if v == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fault.Invalid(name, "%s: %q is not true or false", name, v)
		}
		return b, nil
	}
	var err error
	if sp.ExpiresIn, err = num("expires_in"); err != nil {
		return sp, err
	}
	if sp.Lifetime, err = num("lifetime"); err != nil {
		return sp, err
	}
	for name, p := range map[string]*bool{"eternal": &sp.Eternal, "rotate": &sp.Rotate, "bind_referer": &sp.BindReferer, "cookie": &sp.Cookie} {
		if *p, err = flag(name); err != nil {
			return sp, err
		}
	}
	sp.Scope, sp.Audience, sp.Format = f.Get("scope"), f.Get("audience"), f.Get("format")
	return sp, nil
}
