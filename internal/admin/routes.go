package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
	"github.com/tokend/tokend/verify"
)

// Register adds every admin route to mux.
func (a *API) Register(mux httpx.Router) {
	d := a.dir
	a.handle(mux, "GET /v1/whoami", tenantAdmin, a.whoami)
	a.registerSurfaces(mux)
	a.registerIssuers(mux)

	a.handle(mux, "GET /v1/tenants", systemOnly, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		p, err := page(r)
		if err != nil {
			return err
		}
		l, err := d.Tenants(r.Context(), p)
		if err != nil {
			return err
		}
		return writeList(w, l, p, a.tenantView, func(t store.Tenant) string { return t.ID })
	})
	a.handle(mux, "POST /v1/tenants", systemOnly, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var sp directory.TenantSpec
		if err := a.decode(r, &sp); err != nil {
			return err
		}
		t, err := d.CreateTenant(r.Context(), by.actor(), sp)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, a.tenantView(t))
		return nil
	})
	a.handle(mux, "GET /v1/tenants/{tenant}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		t, err := d.Tenant(r.Context(), r.PathValue("tenant"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, a.tenantView(t))
		return nil
	})
	a.handle(mux, "PATCH /v1/tenants/{tenant}", systemOnly, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var sp directory.TenantSpec
		if err := a.decode(r, &sp); err != nil {
			return err
		}
		t, err := d.UpdateTenant(r.Context(), by.actor(), r.PathValue("tenant"), sp)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, a.tenantView(t))
		return nil
	})
	a.handle(mux, "DELETE /v1/tenants/{tenant}", systemOnly, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		if err := d.DeleteTenant(r.Context(), by.actor(), r.PathValue("tenant")); err != nil {
			return err
		}
		return noContent(w)
	})

	register(a, mux, "projects", crud[store.Project, directory.ProjectSpec, projectView]{
		create: func(ctx context.Context, by directory.Actor, t string, sp directory.ProjectSpec) (projectView, error) {
			p, err := d.CreateProject(ctx, by, t, sp)
			return projectOf(p), err
		},
		get: d.Project, list: d.Projects, update: d.UpdateProject, del: d.DeleteProject,
		view: projectOf, key: func(p store.Project) string { return p.ID },
	})
	register(a, mux, "clients", crud[store.Client, directory.ClientSpec, clientView]{
		create: func(ctx context.Context, by directory.Actor, t string, sp directory.ClientSpec) (clientView, error) {
			c, secret, err := d.CreateClient(ctx, by, t, sp)
			v := clientOf(c)
			v.ClientSecret = secret
			return v, err
		},
		get: d.Client, list: d.Clients, update: d.UpdateClient, del: d.DeleteClient,
		view: clientOf, key: func(c store.Client) string { return c.ID },
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/clients/{id}/secret", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		s, err := d.RotateClientSecret(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"client_id": r.PathValue("id"), "client_secret": s})
		return nil
	})
	register(a, mux, "users", crud[store.User, directory.UserSpec, userView]{
		create: func(ctx context.Context, by directory.Actor, t string, sp directory.UserSpec) (userView, error) {
			u, err := d.CreateUser(ctx, by, t, sp)
			return userOf(u), err
		},
		get: d.User, list: d.Users, update: d.UpdateUser, del: d.DeleteUser,
		view: userOf, key: func(u store.User) string { return u.ID },
		find: func(ctx context.Context, t string, r *http.Request) ([]store.User, bool, error) {
			login := r.URL.Query().Get("login")
			if login == "" {
				return nil, false, nil
			}
			u, err := d.UserByLogin(ctx, t, login)
			if fault.CodeOf(err) == fault.CodeNotFound {
				return []store.User{}, true, nil
			}
			return []store.User{u}, true, err
		},
	})
	register(a, mux, "devices", crud[store.Device, directory.DeviceSpec, deviceView]{
		create: func(ctx context.Context, by directory.Actor, t string, sp directory.DeviceSpec) (deviceView, error) {
			dv, secret, err := d.CreateDevice(ctx, by, t, sp)
			v := deviceOf(dv)
			v.DeviceSecret = secret
			return v, err
		},
		get: d.Device, list: d.Devices, update: d.UpdateDevice, del: d.DeleteDevice,
		view: deviceOf, key: func(x store.Device) string { return x.ID },
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/devices/{id}/secret", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		s, err := d.RotateDeviceSecret(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"device_id": r.PathValue("id"), "device_secret": s})
		return nil
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/devices/{id}/jti", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var body struct {
			JTI string `json:"jti"`
		}
		if err := a.decode(r, &body); err != nil {
			return err
		}
		if err := a.mint.ImportStoreJTI(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id"), body.JTI); err != nil {
			return err
		}
		return noContent(w)
	})
	register(a, mux, "roles", crud[store.Role, directory.RoleSpec, roleView]{
		create: func(ctx context.Context, by directory.Actor, t string, sp directory.RoleSpec) (roleView, error) {
			x, err := d.CreateRole(ctx, by, t, sp)
			return roleOf(x), err
		},
		get: d.Role, list: d.Roles, update: d.UpdateRole, del: d.DeleteRole,
		view: roleOf, key: func(x store.Role) string { return x.Name },
	})
	register(a, mux, "groups", crud[store.Group, directory.GroupSpec, groupView]{
		create: func(ctx context.Context, by directory.Actor, t string, sp directory.GroupSpec) (groupView, error) {
			x, err := d.CreateGroup(ctx, by, t, sp)
			return groupOf(x), err
		},
		get: d.Group, list: d.Groups, update: d.UpdateGroup, del: d.DeleteGroup,
		view: groupOf, key: func(x store.Group) string { return x.Name },
	})
	a.registerKeysTokensAudit(mux)
}

// crud is one tenant-scoped resource family.
type crud[R, S, V any] struct {
	create func(ctx context.Context, by directory.Actor, tenant string, sp S) (V, error)
	get    func(ctx context.Context, tenant, id string) (R, error)
	list   func(ctx context.Context, tenant string, p store.Page) ([]R, error)
	update func(ctx context.Context, by directory.Actor, tenant, id string, sp S) (R, error)
	del    func(ctx context.Context, by directory.Actor, tenant, id string) error
	view   func(R) V
	key    func(R) string
	// find, when set, answers list requests with a query it recognises.
	find func(ctx context.Context, tenant string, r *http.Request) ([]R, bool, error)
}

func register[R, S, V any](a *API, mux httpx.Router, name string, c crud[R, S, V]) {
	base := "/v1/tenants/{tenant}/" + name
	a.handle(mux, "GET "+base, tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		p, err := page(r)
		if err != nil {
			return err
		}
		if c.find != nil {
			l, ok, err := c.find(r.Context(), r.PathValue("tenant"), r)
			if err != nil {
				return err
			}
			if ok {
				return writeList(w, l, store.Page{Limit: len(l) + 1}, c.view, c.key)
			}
		}
		l, err := c.list(r.Context(), r.PathValue("tenant"), p)
		if err != nil {
			return err
		}
		return writeList(w, l, p, c.view, c.key)
	})
	a.handle(mux, "POST "+base, tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var sp S
		if err := a.decode(r, &sp); err != nil {
			return err
		}
		v, err := c.create(r.Context(), by.actor(), r.PathValue("tenant"), sp)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, v)
		return nil
	})
	a.handle(mux, "GET "+base+"/{id}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		x, err := c.get(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, c.view(x))
		return nil
	})
	a.handle(mux, "PATCH "+base+"/{id}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var sp S
		if err := a.decode(r, &sp); err != nil {
			return err
		}
		x, err := c.update(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id"), sp)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, c.view(x))
		return nil
	})
	a.handle(mux, "DELETE "+base+"/{id}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		if err := c.del(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id")); err != nil {
			return err
		}
		return noContent(w)
	})
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request, by *caller) error {
	c := by.id.Claims
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"tenant": by.id.Tenant, "subject": c.Subject, "subject_type": c.SubjectType, "client_id": c.ClientID,
		"scope": c.Scope, "system_admin": by.system, "token_id": c.ID,
	})
	return nil
}

func (a *API) registerKeysTokensAudit(mux httpx.Router) {
	d := a.dir
	a.handle(mux, "GET /v1/tenants/{tenant}/keys", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		l, err := d.Keys(r.Context(), r.PathValue("tenant"))
		if err != nil {
			return err
		}
		return writeList(w, l, store.Page{Limit: len(l) + 1}, keyOf, func(k store.Key) string { return k.ID })
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/keys/rotate", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var body struct {
			Alg string `json:"alg"`
			Now bool   `json:"now"`
		}
		if r.ContentLength != 0 {
			if err := a.decode(r, &body); err != nil {
				return err
			}
		}
		k, err := d.RotateKey(r.Context(), by.actor(), r.PathValue("tenant"), body.Alg, body.Now)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, keyOf(k))
		return nil
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/keys/legacy", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var body struct {
			Secret string `json:"secret"`
		}
		if err := a.decode(r, &body); err != nil {
			return err
		}
		if err := d.ImportLegacyKey(r.Context(), by.actor(), r.PathValue("tenant"), []byte(body.Secret)); err != nil {
			return err
		}
		return noContent(w)
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/keys/named", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var body struct {
			Name   string `json:"name"`
			Secret string `json:"secret"`
		}
		if err := a.decode(r, &body); err != nil {
			return err
		}
		if err := d.ImportNamedKey(r.Context(), by.actor(), r.PathValue("tenant"), body.Name, []byte(body.Secret)); err != nil {
			return err
		}
		return noContent(w)
	})
	a.handle(mux, "GET /v1/tenants/{tenant}/tokens", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		p, err := page(r)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		f := store.TokenFilter{SubjectType: q.Get("subject_type"), Subject: q.Get("subject"), ClientID: q.Get("client_id"), Kind: q.Get("kind"), Page: p}
		switch q.Get("active") {
		case "", "false":
		case "true":
			now := time.Now()
			f.ActiveAt = &now
		default:
			return fault.InvalidRequest("active must be true or false")
		}
		l, err := d.Tokens(r.Context(), r.PathValue("tenant"), f)
		if err != nil {
			return err
		}
		return writeList(w, l, p, tokenOf, func(t store.Token) string { return t.ID })
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/tokens", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var sp mint.ClientSpec
		if err := a.decode(r, &sp); err != nil {
			return err
		}
		res, err := a.mint.Client(r.Context(), by.actor(), r.PathValue("tenant"), sp)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		httpx.WriteJSON(w, http.StatusCreated, map[string]any{
			"id": res.ID, "access_token": res.Value, "token_type": "Bearer", "expires_in": res.ExpiresIn(), "scope": strings.Join(res.Scope, " "),
		})
		return nil
	})
	subjectMint := func(mintFor func(ctx context.Context, by mint.Actor, ten, id string, sp mint.SubjectSpec) (token.Issued, error), user bool) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request, by *caller) error {
			var sp mint.SubjectSpec
			if err := a.decode(r, &sp); err != nil {
				return err
			}
			if sp.Cookie && !user {
				return fault.Invalid("cookie", "cookie: device tokens cannot be delivered as cookies")
			}
			if sp.Cookie {
				sp.CookieRoom = httpx.CookieRoom(httpx.SessionCookie)
			}
			if sp.BindReferer {
				if !user {
					return fault.Invalid("bind_referer", "bind_referer: device tokens cannot be bound to a referrer")
				}
				o, ok := verify.RequestOrigin(http.Header{"Referer": r.Header.Values("Referer")})
				if !ok {
					return fault.InvalidRequest("invalid originating referrer from the Referer header [%s]", r.Header.Get("Referer"))
				}
				sp.BoundOrigin = o
			}
			res, err := mintFor(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id"), sp)
			if err != nil {
				return err
			}
			w.Header().Set("Cache-Control", "no-store")
			out := map[string]any{"id": res.ID, "token_type": "Bearer", "expires_in": res.ExpiresIn(), "scope": strings.Join(res.Scope, " ")}
			if res.LifetimeEnd != nil {
				out["lifetime_end"] = res.LifetimeEnd.Unix()
			}
			if sp.Cookie {
				http.SetCookie(w, httpx.TokenCookie(httpx.SessionCookie, res.Value, res.ExpiresAt))
			} else {
				out["access_token"] = res.Value
			}
			httpx.WriteJSON(w, http.StatusCreated, out)
			return nil
		}
	}
	for _, kind := range []string{"device", "user", "client"} {
		a.handle(mux, "POST /v1/tenants/{tenant}/"+kind+"s/{id}/signing-secret", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
			secret, err := d.RotateSigningSecret(r.Context(), by.actor(), r.PathValue("tenant"), kind, r.PathValue("id"))
			if err != nil {
				return err
			}
			w.Header().Set("Cache-Control", "no-store")
			httpx.WriteJSON(w, http.StatusOK, map[string]string{kind + "_id": r.PathValue("id"), "signing_secret": secret})
			return nil
		})
	}
	for _, kind := range []string{"device", "user", "client"} {
		// Seed 004's credentials, imported from the legacy system: never
		// shown back.
		a.handle(mux, "PUT /v1/tenants/{tenant}/"+kind+"s/{id}/legacy-secret", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
			var sp directory.LegacySecretSpec
			if err := a.decode(r, &sp); err != nil {
				return err
			}
			if err := d.SetLegacySecret(r.Context(), by.actor(), r.PathValue("tenant"), kind, r.PathValue("id"), sp); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	}
	a.handle(mux, "POST /v1/tenants/{tenant}/clients/{id}/tokens", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var sp mint.KindSpec
		if err := a.decode(r, &sp); err != nil {
			return err
		}
		res, err := a.mint.Kind(r.Context(), by.actor(), by.id.Claims.Scopes(), r.PathValue("tenant"), r.PathValue("id"), sp)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		out := map[string]any{"id": res.ID, "token": res.Value, "kind": sp.Kind}
		if res.ExpiresAt != nil {
			out["expires_at"] = res.ExpiresAt.Unix()
		}
		httpx.WriteJSON(w, http.StatusCreated, out)
		return nil
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/devices/{id}/tokens", tenantAdmin, subjectMint(a.mint.Device, false))
	a.handle(mux, "POST /v1/tenants/{tenant}/users/{id}/tokens", tenantAdmin, subjectMint(a.mint.User, true))
	a.handle(mux, "POST /v1/tenants/{tenant}/tokens/{id}/renew", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		res, err := a.mint.RenewFor(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id"))
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		out := map[string]any{"id": res.ID, "access_token": res.Value, "token_type": "Bearer", "expires_in": res.ExpiresIn()}
		if res.LifetimeEnd != nil {
			out["lifetime_end"] = res.LifetimeEnd.Unix()
		}
		httpx.WriteJSON(w, http.StatusOK, out)
		return nil
	})
	a.handle(mux, "GET /v1/tenants/{tenant}/tokens/{id}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		t, err := d.Token(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, tokenOf(t))
		return nil
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/tokens/{id}/revoke", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		t, err := d.RevokeToken(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, tokenOf(t))
		return nil
	})
	a.handle(mux, "POST /v1/tenants/{tenant}/revocations", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var body struct {
			Scope       *string `json:"scope"`
			SubjectType string  `json:"subject_type"`
			Key         string  `json:"key"`
		}
		if err := a.decode(r, &body); err != nil {
			return err
		}
		if body.Scope == nil {
			return fault.Invalid("scope", "scope: is required (subject, session, client or tenant)")
		}
		if body.SubjectType != "" && *body.Scope != store.RevokeSubject {
			return fault.Invalid("subject_type", "subject_type: only a subject revocation has one")
		}
		rev, err := d.RevokeBefore(r.Context(), by.actor(), r.PathValue("tenant"),
			revoke.Target{Scope: *body.Scope, SubjectType: body.SubjectType, Key: body.Key})
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, revocationOf(rev))
		return nil
	})
	a.handle(mux, "GET /v1/tenants/{tenant}/audit", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		f, err := auditFilter(r)
		if err != nil {
			return err
		}
		l, err := d.Audit(r.Context(), r.PathValue("tenant"), f)
		if err != nil {
			return err
		}
		return writeList(w, l, store.Page{Limit: f.Limit}, auditOf, func(e store.AuditEvent) string { return strconv.FormatInt(e.Seq, 10) })
	})
	a.handle(mux, "GET /v1/tenants/{tenant}/audit/export", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		return exportAudit(w, r, d, a.log)
	})
	a.handle(mux, "GET /v1/tenants/{tenant}/audit/verify", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		res, err := d.VerifyAudit(r.Context(), r.PathValue("tenant"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, res)
		return nil
	})
}

func auditFilter(r *http.Request) (store.AuditFilter, error) {
	q := r.URL.Query()
	f := store.AuditFilter{Action: q.Get("action"), Actor: q.Get("actor"), Subject: q.Get("subject"), ClientID: q.Get("client_id"), Limit: 100}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, fault.InvalidRequest("%s must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z", name)
			}
			*dst = t
		}
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, fault.InvalidRequest("after must be an audit sequence number")
		}
		f.AfterSeq = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, fault.InvalidRequest("limit must be a whole number from 1 to 1000")
		}
		f.Limit = n
	}
	return f, nil
}

// Audit export: pages of exportPage events, each read within exportRead
// and written within exportWrite.
const (
	exportPage  = 1000
	exportRead  = 30 * time.Second
	exportWrite = 30 * time.Second
)

// exportAudit streams a tenant's audit events matching the list filters
// as NDJSON (one audit.View per line, oldest first) until the last one. An
// error before the first line is an ordinary error answer; one after it
// aborts the connection, so that the client sees a truncated stream and
// resumes with after= the last seq it got, instead of taking a cut
// stream for the whole log.
func exportAudit(w http.ResponseWriter, r *http.Request, d *directory.Service, log *slog.Logger) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("limit") {
		return fault.InvalidRequest("limit is not a parameter of the export, which streams every event; resume with after")
	}
	f.Limit = exportPage
	ten := r.PathValue("tenant")
	page := func() ([]store.AuditEvent, error) {
		ctx, cancel := context.WithTimeout(r.Context(), exportRead)
		defer cancel()
		return d.Audit(ctx, ten, f)
	}
	l, err := page()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(exportWrite))
		for _, e := range l {
			if err := enc.Encode(auditOf(e)); err != nil {
				return nil // the client went away
			}
			f.AfterSeq = e.Seq
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		if len(l) < f.Limit {
			return nil
		}
		if l, err = page(); err != nil {
			log.WarnContext(r.Context(), "audit export cut short", "tenant", ten, "after", f.AfterSeq, "error", err)
			panic(http.ErrAbortHandler)
		}
	}
}
