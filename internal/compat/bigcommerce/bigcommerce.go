package bigcommerce

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/token"
)

// Name is the surface's name in bindings, metrics and the audit log.
const Name = binding.BigCommerceName

// Minter is the part of the mint core the surface calls; *mint.Minter
// is one.
type Minter interface {
	Kind(ctx context.Context, by mint.Actor, held []string, ten, clientID string, sp mint.KindSpec) (token.Issued, error)
	RevokeKind(ctx context.Context, by mint.Actor, held []string, ten string, id *introspect.Identity) error
	CustomerLoginWith(ctx context.Context, ten, email, password string, sp mint.CustomerSpec) (token.Issued, error)
	CustomerLogout(ctx context.Context, ten string, id *introspect.Identity) error
	Customer(ctx context.Context, ten, id string) (mint.Customer, error)
	StorefrontOrigins(ctx context.Context, ten string) ([]string, error)
	CustomerSession(ctx context.Context, ten, userID string, sp mint.CustomerSpec) (token.Issued, error)
}

// Authn verifies customer login JWTs; *authn.Authenticator is one.
type Authn interface {
	CustomerLoginJWT(ctx context.Context, tenantID, storeHash, raw string) (authn.CustomerLogin, error)
}

// Verifier verifies presented tokens; *introspect.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, raw string) (*introspect.Identity, error)
	ActFor(ctx context.Context, id *introspect.Identity, customer string) (claims.Claims, error)
}

// Resolver finds the tenant of a store hash and its settings;
// *binding.Resolver is one.
type Resolver interface {
	ByKey(ctx context.Context, name, key string) (string, error)
	Settings(ctx context.Context, tenant, name string, into binding.Settings) error
}

// Options configure the surface; Mint, Verifier, Binding and Log are
// required.
type Options struct {
	Mint     Minter
	Verifier Verifier
	Binding  Resolver
	Authn    Authn
	// Domain is the GraphQL hosts' domain: POST /graphql on
	// store-{hash}-{channel}.{Domain} (the BIGCOMMERCE_GRAPHQL_API_DOMAIN
	// of BigCommerce's client). Empty serves GraphQL only under
	// /stores/{hash}/graphql.
	Domain string
	// MaxBody bounds request bodies (httpx.DefaultMaxBody when 0).
	MaxBody int64
	Log     *slog.Logger
}

// Surface serves BigCommerce's storefront token REST API and the GraphQL
// Storefront subset.
type Surface struct {
	o Options
	g *graphQL
}

// New returns the surface.
func New(o Options) (*Surface, error) {
	if o.Mint == nil || o.Verifier == nil || o.Binding == nil || o.Authn == nil || o.Log == nil {
		return nil, errors.New("bigcommerce: Mint, Verifier, Binding, Authn and Log are required")
	}
	if o.MaxBody <= 0 {
		o.MaxBody = httpx.DefaultMaxBody
	}
	o.Domain = strings.ToLower(strings.TrimPrefix(o.Domain, "."))
	g, err := newGraphQL()
	if err != nil {
		return nil, err
	}
	return &Surface{o: o, g: g}, nil
}

// Register adds the surface's routes to mux.
func (s *Surface) Register(mux httpx.Router) {
	p := "/stores/{store_hash}/v3/storefront/"
	mux.HandleFunc("POST "+p+"api-token", s.create(famStorefront))
	mux.HandleFunc("POST "+p+"api-token-private", s.create(famPrivate))
	mux.HandleFunc("POST "+p+"api-token-customer-impersonation", s.create(famImpersonation))
	mux.HandleFunc("DELETE "+p+"api-token", s.revoke)
	mux.HandleFunc("POST /stores/{store_hash}/graphql", s.graphqlByPath)
	mux.HandleFunc("OPTIONS /stores/{store_hash}/graphql", s.graphqlByPath)
	if s.o.Domain != "" {
		mux.HandleFunc("POST /graphql", s.graphqlByHost)
		mux.HandleFunc("OPTIONS /graphql", s.graphqlByHost)
	}
}

// store resolves a store hash to its tenant and settings. An unknown
// store, or one whose tenant has not enabled the surface, is an
// invalid_token fault: no API account of this store can exist.
func (s *Surface) store(ctx context.Context, hash string) (string, *binding.BigCommerce, error) {
	ten, err := s.o.Binding.ByKey(ctx, Name, hash)
	if err != nil {
		if binding.NotFound(err) {
			return "", nil, fault.InvalidToken("unknown store")
		}
		return "", nil, fault.Unavailable(err)
	}
	var set binding.BigCommerce
	if err := s.o.Binding.Settings(ctx, ten, Name, &set); err != nil {
		if errors.Is(err, binding.ErrDisabled) {
			return "", nil, fault.InvalidToken("unknown store")
		}
		return "", nil, fault.Unavailable(err)
	}
	return ten, &set, nil
}

// account authenticates X-Auth-Token: an access token of a client of the
// store's tenant (an API account), whose scopes are its creation rights.
func (s *Surface) account(r *http.Request, ten string) (*introspect.Identity, error) {
	vs := r.Header.Values("X-Auth-Token")
	if len(vs) != 1 || vs[0] == "" {
		return nil, fault.Unauthenticated("X-Auth-Token is required")
	}
	id, err := s.o.Verifier.Verify(r.Context(), strings.TrimSpace(vs[0]))
	if err != nil {
		return nil, err
	}
	if id.Tenant != ten || id.Claims.SubjectType != "client" || id.Claims.Kind != claims.KindAccess {
		return nil, fault.InvalidToken("not an API account token of this store")
	}
	return id, nil
}

func actorOf(ten string, id *introspect.Identity) mint.Actor {
	return mint.Actor{Tenant: ten, Subject: id.Claims.Subject, ClientID: id.Claims.ClientID}
}

// create serves the three POST endpoints: authenticate the API account,
// check the media types, parse the body, mint.
func (s *Surface) create(fam string) http.HandlerFunc {
	kind := map[string]string{famStorefront: claims.KindStorefront, famPrivate: claims.KindPrivate,
		famImpersonation: claims.KindImpersonation}[fam]
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.serveCreate(w, r, fam, kind); err != nil {
			writeRESTFault(w, r, s.o.Log, fam, err)
		}
	}
}

func (s *Surface) serveCreate(w http.ResponseWriter, r *http.Request, fam, kind string) error {
	ten, set, err := s.store(r.Context(), r.PathValue("store_hash"))
	if err != nil {
		return err
	}
	acct, err := s.account(r, ten)
	if err != nil {
		return err
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if err := checkAccept(r.Header.Values("Accept")); err != nil {
		return err
	}
	body, err := httpx.ReadBody(r, s.o.MaxBody)
	if err != nil {
		return err
	}
	in, err := parseCreate(fam, body)
	if err != nil {
		return err
	}
	sp := mint.KindSpec{Kind: kind, ChannelIDs: in.Channels, ExpiresAt: &in.ExpiresAt, AllowedCORSOrigins: in.Origins,
		Format: mint.FormatJWT, AllowedChannels: set.ChannelIDs(), Untyped: true, Surface: Name}
	if fam == famPrivate {
		sp.Scopes = in.Scopes
	}
	res, err := s.o.Mint.Kind(r.Context(), actorOf(ten, acct), acct.Claims.Scopes(), ten, acct.Claims.Subject, sp)
	if err != nil {
		return err
	}
	writeToken(w, res.Value)
	return nil
}

// revoke serves DELETE /storefront/api-token: the storefront or private
// token in Sf-Api-Token is revoked.
func (s *Surface) revoke(w http.ResponseWriter, r *http.Request) {
	if err := s.serveRevoke(w, r); err != nil {
		writeRESTFault(w, r, s.o.Log, "", err)
	}
}

func (s *Surface) serveRevoke(w http.ResponseWriter, r *http.Request) error {
	ten, _, err := s.store(r.Context(), r.PathValue("store_hash"))
	if err != nil {
		return err
	}
	acct, err := s.account(r, ten)
	if err != nil {
		return err
	}
	if err := checkAccept(r.Header.Values("Accept")); err != nil {
		return err
	}
	vs := r.Header.Values("Sf-Api-Token")
	if len(vs) != 1 || strings.TrimSpace(vs[0]) == "" {
		return &sfTokenError{"is required: the storefront or private token to revoke"}
	}
	raw := strings.TrimSpace(vs[0])
	if !looksLikeJWT(raw) {
		return &sfTokenError{"is not a JWT"}
	}
	id, err := s.o.Verifier.Verify(r.Context(), raw)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeUnavailable {
			return err
		}
		return &sfTokenError{"is not a valid token of this store"}
	}
	if id.Tenant != ten || (id.Claims.Kind != claims.KindStorefront && id.Claims.Kind != claims.KindPrivate) {
		return &sfTokenError{"is not a storefront or private token of this store"}
	}
	if err := s.o.Mint.RevokeKind(r.Context(), actorOf(ten, acct), acct.Claims.Scopes(), ten, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{}, "meta": map[string]any{}})
	return nil
}
