package admin

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/store"
)

// TokenVerifier authenticates bearer tokens.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*introspect.Identity, error)
}

// API is the admin surface.
type API struct {
	dir     *directory.Service
	mint    *mint.Minter
	verify  TokenVerifier
	log     *slog.Logger
	maxBody int64
	public  string
}

// New returns the admin API.
func New(dir *directory.Service, m *mint.Minter, verify TokenVerifier, publicURL string, maxBody int64, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{dir: dir, mint: m, verify: verify, log: log, maxBody: maxBody, public: publicURL}
}

// access says who may call a route.
type access int

const (
	systemOnly  access = iota // system admins
	tenantAdmin               // system admins and admins of {tenant}
)

type handlerFunc func(w http.ResponseWriter, r *http.Request, by *caller) error

// caller is the authenticated admin.
type caller struct {
	id     *introspect.Identity
	system bool
}

func (c *caller) actor() directory.Actor {
	return directory.Actor{Tenant: c.id.Tenant, Subject: c.id.Claims.Subject, ClientID: c.id.Claims.ClientID}
}

func (a *API) handle(mux httpx.Router, pattern string, who access, h handlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		by, err := a.authenticate(r, who)
		if err == nil {
			err = h(w, r, by)
		}
		if err != nil {
			httpx.WriteError(w, r, a.log, err)
		}
	})
}

func (a *API) authenticate(r *http.Request, who access) (*caller, error) {
	raw, err := authn.Bearer(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	id, err := a.verify.Verify(r.Context(), raw)
	if err != nil {
		return nil, err
	}
	system, err := authn.Admin(id, r.PathValue("tenant"), who == systemOnly)
	if err != nil {
		return nil, err
	}
	return &caller{id: id, system: system}, nil
}

// page parses ?limit= and ?after=.
func page(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{After: q.Get("after"), Limit: 100}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return p, fault.InvalidRequest("limit must be a whole number from 1 to 1000")
		}
		p.Limit = n
	}
	return p, nil
}

// list is the JSON shape of a page of items.
type list struct {
	Items any    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// writeList renders items and the next cursor when the page was full.
func writeList[T any, V any](w http.ResponseWriter, items []T, p store.Page, view func(T) V, key func(T) string) error {
	out := make([]V, 0, len(items))
	for _, it := range items {
		out = append(out, view(it))
	}
	l := list{Items: out}
	if len(items) == p.Limit && len(items) > 0 {
		l.Next = key(items[len(items)-1])
	}
	httpx.WriteJSON(w, http.StatusOK, l)
	return nil
}

func (a *API) decode(r *http.Request, v any) error { return httpx.DecodeJSON(r, a.maxBody, v) }

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
