package apstrata

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/revoke"
)

// Name is the surface's name in the tenant bindings.
const Name = "apstrata"

// CookieName is the cookie of apsdb.tokenInCookie (no public source
// names apstrata's; see doc.go).
const CookieName = "apsdb.authToken"

// Accounts resolve an account key to the tenant that enabled the surface
// under it and the client that is the account owner.
type Accounts interface {
	// Account returns a not_found fault for an unknown key.
	Account(ctx context.Context, key string) (tenant, owner string, err error)
}

// Options are the surface's dependencies; all but Log are required.
type Options struct {
	Accounts Accounts
	Authn    *authn.Authenticator
	Mint     *mint.Minter
	Revoke   *revoke.Service
	// PublicURL is tokend's public URL: a complex signature may name it.
	PublicURL string
	// Secure reports whether a request may carry token requests: sent
	// over https, or plain HTTP where that is allowed (dev mode, from
	// loopback).
	Secure  func(*http.Request) bool
	MaxBody int64
	Log     *slog.Logger
}

// Surface answers /apsdb/rest/{authKey}/{action}.
type Surface struct{ o Options }

// New checks o and builds the surface.
func New(o Options) (*Surface, error) {
	if o.Accounts == nil || o.Authn == nil || o.Mint == nil || o.Revoke == nil || o.Secure == nil {
		return nil, errors.New("apstrata: Accounts, Authn, Mint, Revoke and Secure are required")
	}
	if o.PublicURL == "" || o.MaxBody <= 0 {
		return nil, errors.New("apstrata: PublicURL and a positive MaxBody are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Surface{o: o}, nil
}

// Register adds the routes to mux.
func (s *Surface) Register(mux httpx.Router) {
	mux.HandleFunc("GET /apsdb/rest/{authKey}/{action}", s.serve)
	mux.HandleFunc("POST /apsdb/rest/{authKey}/{action}", s.serve)
	mux.HandleFunc("/apsdb/rest/{authKey}/{action}", s.otherMethod)
}

// otherMethod answers a method other than GET and POST in the legacy
// shape.
func (s *Surface) otherMethod(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, POST")
	w.Header().Set("Cache-Control", "no-store")
	writeFailure(w, readFormat(r.URL.Query()), http.StatusMethodNotAllowed, codeInvalidRequest, "The method "+r.Method+" is not allowed; use GET or POST")
}

// call is one request on its way: parsed, its account resolved.
type call struct {
	r             *http.Request
	w             http.ResponseWriter
	rq            request
	tenant, owner string
}

func (s *Surface) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p, err := readParams(r, s.o.MaxBody)
	f := readFormat(p)
	c := &call{r: r, w: w}
	if err == nil {
		c.rq, err = parse(r.PathValue("authKey"), r.PathValue("action"), p)
	}
	if err == nil {
		c.tenant, c.owner, err = s.o.Accounts.Account(r.Context(), c.rq.AuthKey)
		if fault.CodeOf(err) == fault.CodeNotFound {
			err = &paramError{code: codeInvalidSignature, detail: "The authentication key [" + c.rq.AuthKey + "] is not valid"}
		}
	}
	var res *tokenResult
	if err == nil {
		switch c.rq.Action {
		case actionGenerate:
			res, err = s.generate(c)
		case actionRenew:
			res, err = s.renew(c)
		case actionDelete:
			err = s.delete(c)
		case actionVerify:
			err = s.verify(c)
		}
	}
	if err != nil {
		fl := toFailure(c.rq, err, s.o.Log, r)
		writeFailure(w, f, fl.status, fl.code, fl.detail)
		return
	}
	writeSuccess(w, f, res)
}

// signed verifies a signed request (simple or complex mode).
func (s *Surface) signed(c *call) (authn.Signer, error) {
	rq := c.rq
	if rq.Sig == "" {
		return authn.Signer{}, &paramError{code: codeInvalidRequest, detail: rq.Action + " must not be called anonymously"}
	}
	return s.o.Authn.LegacySigned(c.r.Context(), authn.LegacyRequest{
		Tenant: c.tenant, AccountKey: rq.AuthKey, Owner: c.owner, Action: rq.Action,
		Method: c.r.Method, URLs: s.urls(c.r), Params: rq.Params, Mode: rq.Mode,
		Identifier: rq.ID, Time: rq.Time, Sig: rq.Sig, SigParam: pSig,
	})
}

// token verifies token mode: apsdb.authToken of the apsws.id.
func (s *Surface) token(c *call) (*introspect.Identity, error) {
	if c.rq.Token == "" {
		// A token delivered as a cookie (apsdb.tokenInCookie) comes back
		// in it.
		if ck, err := c.r.Cookie(CookieName); err == nil && ck.Value != "" {
			c.rq.Token = ck.Value
		}
	}
	if c.rq.Token == "" {
		return nil, invalidParameter("The parameter [" + pToken + "] is required with " + pMode + "=token")
	}
	origin, _ := refererOrigin(c.r.Header.Values("Referer"))
	return s.o.Authn.LegacyToken(c.r.Context(), c.tenant, c.rq.ID, c.rq.Token, origin)
}

// urls are the names under which a client may have signed the request
// URL (complex mode): tokend's public URL, and the host it was sent to.
func (s *Surface) urls(r *http.Request) []string {
	path := r.URL.EscapedPath()
	var out []string
	if u, err := url.Parse(s.o.PublicURL); err == nil && u.Host != "" {
		out = append(out, u.Scheme+"://"+u.Host+path)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if local := scheme + "://" + r.Host + path; len(out) == 0 || out[0] != local {
		out = append(out, local)
	}
	return out
}

func (s *Surface) requireSecure(c *call) error {
	if !s.o.Secure(c.r) {
		return &paramError{code: codeInvalidRequest, detail: c.rq.Action + " must be sent over https"}
	}
	return nil
}

func (s *Surface) generate(c *call) (*tokenResult, error) {
	rq := c.rq
	if rq.Mode == "token" {
		return nil, &paramError{code: codeInvalidRequest, detail: "GenerateToken must be signed"}
	}
	if err := s.requireSecure(c); err != nil {
		return nil, err
	}
	if rq.Sig == "" {
		return nil, &paramError{code: codeInvalidRequest, detail: msgAnonymous}
	}
	signer, err := s.signed(c)
	if err != nil {
		return nil, err
	}
	ctx := c.r.Context()
	kind, id, err := s.o.Authn.LegacySubject(ctx, c.tenant, signer, rq.RunAs)
	if err != nil {
		return nil, err
	}
	sp := mint.SubjectSpec{ExpiresIn: rq.ExpiresIn, Lifetime: rq.Lifetime, Format: mint.FormatHex, EternalByDefault: kind == "device", Surface: Name}
	by := mint.Actor{Tenant: c.tenant, Subject: id}
	if rq.RunAs != "" {
		by = mint.Actor{Tenant: c.tenant, Subject: "client:" + signer.ID, ClientID: signer.ID}
	}
	cookie := false
	mintFor := s.o.Mint.Device
	if kind == "user" {
		mintFor = s.o.Mint.User
		// Users' tokens are bound to the Referer's origin unless
		// apsdb.bindReferrer=false; a request without a Referer that did
		// not ask for the binding explicitly is not bound (doc.go).
		refs := c.r.Header.Values("Referer")
		if (rq.BindReferrer == nil && len(refs) > 0) || (rq.BindReferrer != nil && *rq.BindReferrer) {
			o, ok := refererOrigin(refs)
			if !ok {
				return nil, &paramError{code: codeMalformedReferer, detail: "Invalid originating referrer from the Referer header [" + strings.Join(refs, ", ") + "]"}
			}
			sp.BindReferer, sp.BoundOrigin = true, o
		}
		if rq.Cookie {
			cookie, sp.Cookie, sp.CookieRoom = true, true, httpx.CookieRoom(CookieName)
		}
	}
	res, err := mintFor(ctx, by, c.tenant, id, sp)
	if err != nil {
		return nil, err
	}
	return s.result(c, res.Value, res.ExpiresIn(), lifetime(res.IssuedAt.Unix(), res.LifetimeEnd), cookie, res.ExpiresAt), nil
}

// presented is the token a RenewToken or DeleteToken is about: in token
// mode the caller's own; for a signed owner request (wiki "RenewToken":
// owners act through apsdb.runAs) the apsdb.authToken of the device or
// user runAs names.
func (s *Surface) presented(c *call) (*introspect.Identity, error) {
	if c.rq.Mode == "token" {
		if c.rq.RunAs != "" {
			return nil, invalidParameter(msgRunAs)
		}
		return s.token(c)
	}
	signer, err := s.signed(c)
	if err != nil {
		return nil, err
	}
	if !signer.Owner || c.rq.ID != "" {
		return nil, &paramError{code: codeInvalidRequest, detail: c.rq.Action + " must use token authentication (" + pMode + "=token)"}
	}
	if c.rq.RunAs == "" {
		return nil, &paramError{code: codeInvalidRequest, detail: c.rq.Action + " must not be called anonymously"}
	}
	if c.rq.Token == "" {
		return nil, invalidParameter("The parameter [" + pToken + "] is required")
	}
	origin, _ := refererOrigin(c.r.Header.Values("Referer"))
	return s.o.Authn.LegacyToken(c.r.Context(), c.tenant, c.rq.RunAs, c.rq.Token, origin)
}

func (s *Surface) renew(c *call) (*tokenResult, error) {
	if err := s.requireSecure(c); err != nil {
		return nil, err
	}
	id, err := s.presented(c)
	if err != nil {
		return nil, err
	}
	res, err := s.o.Mint.RenewVia(c.r.Context(), Name, c.tenant, id.Claims, id.Format)
	if err != nil {
		return nil, err
	}
	cookie := c.rq.Cookie && id.Claims.SubjectType == "user"
	return s.result(c, res.Value, res.ExpiresIn(), lifetime(res.IssuedAt.Unix(), res.LifetimeEnd), cookie, res.ExpiresAt), nil
}

func (s *Surface) delete(c *call) error {
	id, err := s.presented(c)
	if err != nil {
		return err
	}
	by := revoke.Actor{Name: id.Claims.SubjectType + ":" + id.Claims.Subject}
	_, err = s.o.Revoke.Token(c.r.Context(), by, c.tenant, id.Claims.ID)
	return err
}

func (s *Surface) verify(c *call) error {
	if c.rq.Mode == "token" {
		_, err := s.token(c)
		return err
	}
	_, err := s.signed(c)
	return err
}

// result is the seed's token result; with a cookie the token goes there
// and not in the body.
func (s *Surface) result(c *call, value string, expiresIn, life int64, cookie bool, expires *time.Time) *tokenResult {
	out := &tokenResult{Token: value, Expires: strconv.FormatInt(expiresIn, 10), Lifetime: strconv.FormatInt(life, 10)}
	if cookie {
		http.SetCookie(c.w, httpx.TokenCookie(CookieName, value, expires))
		out.Token = ""
	}
	return out
}

// lifetime is the seconds from issue to the lifetime end, 0 for a token
// without one (an eternal device token).
func lifetime(issuedAt int64, end *time.Time) int64 {
	if end == nil {
		return 0
	}
	return end.Unix() - issuedAt
}
