package dotkernel

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/reqctx"
)

// Name is the surface's name in tenant bindings and configuration.
const Name = "dotkernel"

// Bindings tells which tenant a request serves and with what settings;
// *binding.Resolver implements it.
type Bindings interface {
	ByHost(name, host string) (tenant string, ok bool)
	Settings(ctx context.Context, tenant, name string, into binding.Settings) error
}

// Options configure the surface; every field but Log and MaxBody is
// required.
type Options struct {
	Engine   *grant.Engine
	Verifier *introspect.Verifier
	Authn    *authn.Authenticator
	Bindings Bindings
	MaxBody  int64
	Log      *slog.Logger
}

// Surface serves Dotkernel API's token endpoints and my-account resources.
type Surface struct {
	o Options
}

// New returns the surface, or an error naming a missing dependency.
func New(o Options) (*Surface, error) {
	var missing []string
	if o.Engine == nil {
		missing = append(missing, "Engine")
	}
	if o.Verifier == nil {
		missing = append(missing, "Verifier")
	}
	if o.Authn == nil {
		missing = append(missing, "Authn")
	}
	if o.Bindings == nil {
		missing = append(missing, "Bindings")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("dotkernel: %s required", strings.Join(missing, ", "))
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 10
	}
	return &Surface{o: o}, nil
}

// Register adds the surface's routes to mux.
func (s *Surface) Register(mux httpx.Router) {
	// One handler for both paths, as in Dotkernel: the grant_type of the
	// body decides.
	mux.HandleFunc("POST /security/generate-token", s.token)
	mux.HandleFunc("POST /security/refresh-token", s.token)
	mux.HandleFunc("GET /admin/my-account", s.account(adminAccount))
	mux.HandleFunc("GET /user/my-account", s.account(userAccount))
}

// bound resolves the request's tenant from its host and reads the
// tenant's settings; ok is false when no tenant here serves the surface,
// and err is set when the settings could not be read.
func (s *Surface) bound(r *http.Request) (tenant string, set *binding.Dotkernel, ok bool, err error) {
	tenant, ok = s.o.Bindings.ByHost(Name, r.Host)
	if !ok {
		return "", nil, false, nil
	}
	set = &binding.Dotkernel{}
	if err := s.o.Bindings.Settings(r.Context(), tenant, Name, set); err != nil {
		if errors.Is(err, binding.ErrDisabled) {
			return "", nil, false, nil
		}
		return "", nil, false, err
	}
	return tenant, set, true, nil
}

// token serves POST /security/generate-token and /security/refresh-token:
// the JSON body becomes a grant.Request for the tenant's own token
// endpoint pipeline, restricted to the surface's two clients.
func (s *Surface) token(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(reqctx.WithSurface(r.Context(), Name))
	tenant, set, ok, err := s.bound(r)
	if err != nil {
		writeTokenError(w, r, s.o.Log, err, tokenError(fault.Unavailable(err), ""))
		return
	}
	if !ok {
		writeNotFound(w)
		return
	}
	req, err := parseToken(r, s.o.MaxBody)
	if err != nil {
		writeTokenError(w, r, s.o.Log, err, tokenError(err, ""))
		return
	}
	req.Tenant, req.Clients = tenant, set.Clients()
	res, err := s.o.Engine.Token(r.Context(), req)
	if err != nil {
		writeTokenError(w, r, s.o.Log, err, tokenError(err, req.GrantType))
		return
	}
	writeToken(w, res)
}

// accountKind is one of Dotkernel's two account tables.
type accountKind int

const (
	adminAccount accountKind = iota
	userAccount
)

// account serves GET /admin/my-account or /user/my-account: a bearer
// token of the tenant that carries the route's role (claims.HasRole, the
// rule of tokend's gateway check and verifier library) gets its own user
// record as Dotkernel's HAL resource; no token, a token that does not
// verify, or one without the role is a guest, and a guest gets 403.
func (s *Surface) account(kind accountKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant, set, ok, err := s.bound(r)
		if err != nil {
			writeUnavailable(w, r, s.o.Log, err)
			return
		}
		if !ok {
			writeNotFound(w)
			return
		}
		raw, ok := bearer(r)
		if !ok {
			writeForbidden(w)
			return
		}
		id, err := s.o.Verifier.Verify(r.Context(), raw)
		if err != nil {
			if fault.CodeOf(err) == fault.CodeUnavailable {
				writeUnavailable(w, r, s.o.Log, err)
				return
			}
			writeForbidden(w)
			return
		}
		role := set.UserRoleName()
		if kind == adminAccount {
			role = set.AdminRoleName()
		}
		if id.Tenant != tenant || id.Claims.Kind != claims.KindAccess || !id.Claims.HasRole(role) {
			writeForbidden(w)
			return
		}
		u, err := s.o.Authn.Account(r.Context(), tenant, &id.Claims)
		if err != nil {
			if fault.CodeOf(err) == fault.CodeUnavailable {
				writeUnavailable(w, r, s.o.Log, err)
				return
			}
			writeForbidden(w)
			return
		}
		a := accountOf(tenant, u.ID, u.Login, u.DisplayName, u.Roles, u.Disabled, u.CreatedAt, u.UpdatedAt)
		if kind == adminAccount {
			writeHAL(w, a.admin(tenant))
			return
		}
		writeHAL(w, a.user(tenant))
	}
}

// acct is what the HAL resources show of a tokend user.
type acct struct {
	uuid, hash, identity, first, last string
	roles                             []string
	disabled                          bool
	created, updated                  time.Time
}

// accountOf maps a tokend user onto Dotkernel's account fields: uuid and
// hash are derived from the tenant and user id (stable, not secret),
// firstName and lastName split the display name at its first space.
func accountOf(tenant, id, login, display string, roles []string, disabled bool, created, updated time.Time) acct {
	first, last, _ := strings.Cut(strings.TrimSpace(display), " ")
	h := sha256.Sum256([]byte("tokend/dotkernel/hash\x00" + tenant + "\x00" + id))
	r := slices.Clone(roles)
	slices.Sort(r)
	return acct{uuid: nameUUID(tenant, "user", id), hash: hex.EncodeToString(h[:]), identity: login,
		first: first, last: strings.TrimSpace(last), roles: r, disabled: disabled, created: created, updated: updated}
}

// nameUUID is an RFC 9562 version 5 (name-based, SHA-1) UUID of a tokend
// record, so that the same record always shows the same uuid.
func nameUUID(tenant, kind, id string) string {
	h := sha1.Sum([]byte("tokend:" + tenant + ":" + kind + ":" + id))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
