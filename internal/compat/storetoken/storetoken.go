package storetoken

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/token"
)

// Name is the surface's name in bindings, metrics and the audit log.
const Name = binding.StoreTokenName

// Minter is the part of the mint core the surface calls;
// *mint.Minter is one.
type Minter interface {
	StoreToken(ctx context.Context, ten, storeID string, sp mint.StoreSpec) (token.Issued, error)
	StoreTokens(ctx context.Context, ten, storeID string, sp mint.StoreSpec) ([]mint.StoreTokenInfo, error)
	UserToken(ctx context.Context, ten, login, password string, sp mint.UserSpec) (token.Issued, error)
}

// Resolver tells which tenant a request is for and that tenant's
// settings; *binding.Resolver is one.
type Resolver interface {
	ByHost(name, host string) (string, bool)
	ByKey(ctx context.Context, name, key string) (string, error)
	Settings(ctx context.Context, tenant, name string, into binding.Settings) error
}

// Options configure the surface; all but MaxBody are required.
type Options struct {
	Mint    Minter
	Binding Resolver
	// MaxBody bounds request bodies (httpx.DefaultMaxBody when 0).
	MaxBody int64
	Log     *slog.Logger
}

// Surface serves the Rails/Knock store-token API.
type Surface struct {
	mint    Minter
	binding Resolver
	maxBody int64
	log     *slog.Logger
}

// New returns the surface.
func New(o Options) (*Surface, error) {
	if o.Mint == nil || o.Binding == nil || o.Log == nil {
		return nil, errors.New("storetoken: Mint, Binding and Log are required")
	}
	if o.MaxBody <= 0 {
		o.MaxBody = httpx.DefaultMaxBody
	}
	return &Surface{mint: o.Mint, binding: o.Binding, maxBody: o.MaxBody, log: o.Log}, nil
}

// Register adds the surface's routes to mux.
func (s *Surface) Register(mux httpx.Router) {
	mux.HandleFunc("POST /stores/{id}/generate_token", s.generate)
	mux.HandleFunc("GET /stores/{id}/tokens", s.tokens)
	mux.HandleFunc("POST /user_token", s.userToken)
}

// tenant resolves the request's tenant (host map or bound tenant, else a
// tenant whose settings name the host) and reads its settings.
func (s *Surface) tenant(r *http.Request) (string, *binding.StoreToken, error) {
	ten, ok := s.binding.ByHost(Name, r.Host)
	if !ok {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		t, err := s.binding.ByKey(r.Context(), Name, strings.ToLower(host))
		if err != nil {
			if binding.NotFound(err) {
				return "", nil, fault.InvalidToken("no tenant serves this host")
			}
			return "", nil, fault.Unavailable(err)
		}
		ten = t
	}
	var set binding.StoreToken
	if err := s.binding.Settings(r.Context(), ten, Name, &set); err != nil {
		if errors.Is(err, binding.ErrDisabled) {
			return "", nil, fault.InvalidToken("the surface is not enabled for this tenant")
		}
		return "", nil, fault.Unavailable(err)
	}
	return ten, &set, nil
}

func (s *Surface) spec(r *http.Request, set *binding.StoreToken) mint.StoreSpec {
	return mint.StoreSpec{Bearer: bearer(r.Header.Get("Authorization")), Lifetime: set.Lifetime(), AdminRole: set.Admin(), Surface: Name}
}

// generate serves POST /stores/{id}/generate_token (StoresController
// #generate_token): authenticate, find the store, authorize, rotate.
func (s *Surface) generate(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("id")
	id, err := parseStoreID(raw)
	if err != nil {
		writeFault(w, r, s.log, raw, fault.NotFound("store"))
		return
	}
	body, err := httpx.ReadBody(r, s.maxBody)
	if err != nil {
		writeFault(w, r, s.log, raw, err)
		return
	}
	g, err := parseGenerate(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeFault(w, r, s.log, raw, err)
		return
	}
	ten, set, err := s.tenant(r)
	if err != nil {
		writeFault(w, r, s.log, raw, err)
		return
	}
	sp := s.spec(r, set)
	sp.ExpiresIn, sp.Audience = g.ExpiresIn, g.Audience
	res, err := s.mint.StoreToken(r.Context(), ten, id, sp)
	if err != nil {
		writeFault(w, r, s.log, raw, err)
		return
	}
	writeToken(w, res.Value)
}

// tokens serves GET /stores/{id}/tokens: the store's active tokens.
func (s *Surface) tokens(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("id")
	id, err := parseStoreID(raw)
	if err != nil {
		writeFault(w, r, s.log, raw, fault.NotFound("store"))
		return
	}
	ten, set, err := s.tenant(r)
	if err != nil {
		writeFault(w, r, s.log, raw, err)
		return
	}
	l, err := s.mint.StoreTokens(r.Context(), ten, id, s.spec(r, set))
	if err != nil {
		writeFault(w, r, s.log, raw, err)
		return
	}
	writeTokens(w, l)
}

// userToken serves POST /user_token (Knock::AuthTokenController#create).
func (s *Surface) userToken(w http.ResponseWriter, r *http.Request) {
	body, err := httpx.ReadBody(r, s.maxBody)
	if err != nil {
		writeSignInFault(w, r, s.log, err)
		return
	}
	in, err := parseSignIn(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeSignInFault(w, r, s.log, err)
		return
	}
	ten, set, err := s.tenant(r)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeInvalidToken {
			err = fault.InvalidGrant("no tenant")
		}
		writeSignInFault(w, r, s.log, err)
		return
	}
	res, err := s.mint.UserToken(r.Context(), ten, in.Email, in.Password, mint.UserSpec{Audience: set.Audience(), Surface: Name})
	if err != nil {
		writeSignInFault(w, r, s.log, err)
		return
	}
	writeToken(w, res.Value)
}
