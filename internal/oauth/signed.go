package oauth

import (
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/signing"
	"github.com/tokend/tokend/verify"
)

// SignatureWindow is how far a signed request's ts may be from now.
const SignatureWindow = signing.Window

// Generate serves POST /t/{tenant}/tokens/generate (seed 004): a device or
// user mints a token for itself with a request signed under its signing
// secret (package signing documents the format); a tenant owner (a client
// allowed tokend:admin) signs with its own secret and names the user or
// device in run_as. Parameters, form-encoded: principal, ts, sig,
// expires_in, lifetime, eternal, scope, audience, rotate, bind_referer,
// cookie (users only), run_as (owners only).
type Generate struct {
	Dir     *directory.Service
	Mint    *mint.Minter
	Store   store.Store
	MaxBody int64
	Log     *slog.Logger
	Now     func() time.Time
}

// Register adds the endpoint to mux.
func (g *Generate) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /t/{tenant}/tokens/generate", g.serve)
}

var errSignature = fault.InvalidClient("invalid signature")

func (g *Generate) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := g.generate(w, r); err != nil {
		httpx.WriteError(w, r, g.Log, err)
	}
}

func (g *Generate) generate(w http.ResponseWriter, r *http.Request) error {
	form, err := ParseForm(r, g.MaxBody)
	if err != nil {
		return err
	}
	ten := r.PathValue("tenant")
	kind, id, ok := strings.Cut(form.Get("principal"), ":")
	if !ok || id == "" {
		return fault.InvalidRequest("principal must be device:ID, user:ID or client:ID").WithField("principal")
	}
	ts, err := strconv.ParseInt(form.Get("ts"), 10, 64)
	if err != nil {
		return fault.InvalidRequest("ts must be the unix time in seconds").WithField("ts")
	}
	if !signing.InWindow(ts, g.Now()) {
		return fault.InvalidClient("ts is more than 5 minutes away from the server's time")
	}
	signer, err := g.Dir.SigningSecret(r.Context(), ten, kind, id)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeNotFound {
			return errSignature // unknown principal or no secret: the same answer
		}
		return err
	}
	sig := form.Get("sig")
	if !signing.Valid(signer.Secret, r.Method, r.URL.Path, form, sig) {
		return errSignature
	}
	// Each signature once, across replicas, for as long as its ts is valid;
	// keyed on its bytes, so that re-casing the hex is the same signature.
	raw, _ := hex.DecodeString(sig) // Valid decoded it already
	if err := g.Store.Nonces().Use(r.Context(), ten+"|"+kind+":"+id+"|"+hex.EncodeToString(raw), time.Unix(ts, 0).Add(SignatureWindow)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fault.InvalidClient("signature already used")
		}
		return fault.Unavailable(err)
	}

	sp, err := specFromForm(form)
	if err != nil {
		return err
	}
	subjectKind, subject := kind, id
	by := directory.Actor{Tenant: ten, Subject: id}
	if runAs := form.Get("run_as"); runAs != "" {
		if !signer.Owner {
			return fault.InvalidRequest("run_as is allowed only for tenant owners").WithField("run_as")
		}
		var ok bool
		subjectKind, subject, ok = strings.Cut(runAs, ":")
		if !ok || (subjectKind != "device" && subjectKind != "user") {
			return fault.InvalidRequest("run_as must be device:ID or user:ID").WithField("run_as")
		}
		by = directory.Actor{Tenant: ten, Subject: "client:" + id, ClientID: id}
	} else if kind == "client" {
		return fault.InvalidRequest("a tenant owner cannot generate a token for itself; name a user or device in run_as").WithField("run_as")
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
		sp.CookieRoom = httpx.CookieRoom(SessionCookie)
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
		http.SetCookie(w, httpx.TokenCookie(SessionCookie, res.Value, res.ExpiresAt))
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
