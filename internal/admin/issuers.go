package admin

import (
	"net/http"

	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/store"
)

// issuerView is a trusted issuer as the admin API shows it; the
// introspection secret is never shown, only whether one is held.
type issuerView struct {
	ID                    string              `json:"id"`
	Issuer                string              `json:"issuer"`
	Audiences             []string            `json:"audiences"`
	Algorithms            []string            `json:"algorithms"`
	UserClaim             string              `json:"user_claim"`
	RequireEmailVerified  bool                `json:"require_email_verified"`
	CreateUsers           bool                `json:"create_users"`
	DefaultRoles          []string            `json:"default_roles"`
	DefaultGroups         []string            `json:"default_groups"`
	GroupsClaim           string              `json:"groups_claim"`
	GroupMap              map[string][]string `json:"group_map"`
	RolesClaim            string              `json:"roles_claim"`
	RoleMap               map[string][]string `json:"role_map"`
	MaxAge                int64               `json:"max_age"`
	IntrospectionURL      string              `json:"introspection_url,omitempty"`
	IntrospectionClientID string              `json:"introspection_client_id,omitempty"`
	HasIntrospection      bool                `json:"has_introspection_secret"`
	Disabled              bool                `json:"disabled"`
	CreatedAt             string              `json:"created_at"`
	UpdatedAt             string              `json:"updated_at"`
}

func issuerOf(t store.TrustedIssuer) issuerView {
	s := t.Settings
	m := func(x map[string][]string) map[string][]string {
		if x == nil {
			return map[string][]string{}
		}
		return x
	}
	l := func(x []string) []string {
		if x == nil {
			return []string{}
		}
		return x
	}
	return issuerView{ID: t.ID, Issuer: t.Issuer, Audiences: l(s.Audiences), Algorithms: l(s.Algorithms), UserClaim: s.UserClaim,
		RequireEmailVerified: s.RequireEmailVerified, CreateUsers: s.CreateUsers, DefaultRoles: l(s.DefaultRoles),
		DefaultGroups: l(s.DefaultGroups), GroupsClaim: s.GroupsClaim, GroupMap: m(s.GroupMap), RolesClaim: s.RolesClaim,
		RoleMap: m(s.RoleMap), MaxAge: s.MaxAge, IntrospectionURL: s.IntrospectionURL, IntrospectionClientID: s.IntrospectionClientID,
		HasIntrospection: len(t.IntrospectionSecret) > 0, Disabled: t.Disabled, CreatedAt: ts(t.CreatedAt), UpdatedAt: ts(t.UpdatedAt)}
}

// registerIssuers adds /v1/tenants/{tenant}/trusted-issuers: the external
// issuers whose tokens the tenant exchanges. Trusting an issuer lets it
// vouch for the tenant's users, so it is the tenant admins' own decision,
// as adding a user is.
func (a *API) registerIssuers(mux httpx.Router) {
	d := a.dir
	const base = "/v1/tenants/{tenant}/trusted-issuers"
	a.handle(mux, "GET "+base, tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		l, err := d.Issuers(r.Context(), r.PathValue("tenant"))
		if err != nil {
			return err
		}
		p := store.Page{Limit: len(l) + 1}
		return writeList(w, l, p, issuerOf, func(t store.TrustedIssuer) string { return t.ID })
	})
	a.handle(mux, "POST "+base, tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var sp directory.IssuerSpec
		if err := a.decode(r, &sp); err != nil {
			return err
		}
		t, err := d.CreateIssuer(r.Context(), by.actor(), r.PathValue("tenant"), sp)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, issuerOf(t))
		return nil
	})
	a.handle(mux, "GET "+base+"/{id}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		t, err := d.Issuer(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, issuerOf(t))
		return nil
	})
	a.handle(mux, "PUT "+base+"/{id}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var sp directory.IssuerSpec
		if err := a.decode(r, &sp); err != nil {
			return err
		}
		t, err := d.ReplaceIssuer(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id"), sp)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, issuerOf(t))
		return nil
	})
	a.handle(mux, "DELETE "+base+"/{id}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		if err := d.DeleteIssuer(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("id")); err != nil {
			return err
		}
		return noContent(w)
	})
}
