package admin

import (
	"encoding/json"
	"net/http"

	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/store"
)

// surfaceView is a tenant's record of one compatible surface.
type surfaceView struct {
	Name      string          `json:"name"`
	Key       string          `json:"key,omitempty"`
	Settings  json.RawMessage `json:"settings"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
}

func surfaceOf(s store.Surface) surfaceView {
	set := s.Settings
	if len(set) == 0 {
		set = json.RawMessage("{}")
	}
	return surfaceView{s.Name, s.Key, set, ts(s.CreatedAt), ts(s.UpdatedAt)}
}

// registerSurfaces adds the routes that enable compatible surfaces per
// tenant. Enabling one may let a tenant issue the weaker tokens its legacy
// clients need, so, like the tenant's policy, only a system admin changes
// it; the tenant's admins may read it.
func (a *API) registerSurfaces(mux httpx.Router) {
	d := a.dir
	a.handle(mux, "GET /v1/tenants/{tenant}/surfaces", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		l, err := d.Surfaces(r.Context(), r.PathValue("tenant"))
		if err != nil {
			return err
		}
		p := store.Page{Limit: len(l) + 1} // never a next cursor: one page holds them all
		return writeList(w, l, p, surfaceOf, func(s store.Surface) string { return s.Name })
	})
	a.handle(mux, "GET /v1/tenants/{tenant}/surfaces/{name}", tenantAdmin, func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		s, err := d.Surface(r.Context(), r.PathValue("tenant"), r.PathValue("name"))
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, surfaceOf(s))
		return nil
	})
	a.handle(mux, "PUT /v1/tenants/{tenant}/surfaces/{name}", systemOnly, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		var raw json.RawMessage
		if err := a.decode(r, &raw); err != nil {
			return err
		}
		s, err := d.PutSurface(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("name"), raw)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, surfaceOf(s))
		return nil
	})
	a.handle(mux, "DELETE /v1/tenants/{tenant}/surfaces/{name}", systemOnly, func(w http.ResponseWriter, r *http.Request, by *caller) error {
		if err := d.DeleteSurface(r.Context(), by.actor(), r.PathValue("tenant"), r.PathValue("name")); err != nil {
			return err
		}
		return noContent(w)
	})
}
