package app_test

import (
	"testing"

	"github.com/tokend/tokend/internal/binding"
)

// exampleSurface stands for a compatible surface's settings in the tests
// of the admin routes that enable surfaces.
type exampleSurface struct {
	Account  string `json:"account,omitempty"`
	Lifetime int64  `json:"lifetime,omitempty"`
}

func (e *exampleSurface) Validate() map[string]string {
	if e.Lifetime < 0 {
		return map[string]string{"lifetime": "must not be negative"}
	}
	return nil
}

func (e *exampleSurface) LookupKey() string { return e.Account }

func init() {
	binding.Register("example-surface", func() binding.Settings { return &exampleSurface{} })
}

func TestSurfaceSettings(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		adm := s.Admin
		for _, id := range []string{"acme", "other"} {
			want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": id}), 201)
		}
		base := "/v1/tenants/acme/surfaces"
		if l := want(t, s.call(t, "GET", base, adm, nil), 200).items(); len(l) != 0 {
			t.Fatalf("surfaces of a new tenant: %v", l)
		}
		want(t, s.call(t, "GET", base+"/example-surface", adm, nil), 404)
		want(t, s.call(t, "PUT", base+"/no-such-surface", adm, map[string]any{}), 404)
		for _, tc := range []struct {
			body  any
			field string
		}{
			{map[string]any{"lifetime": -1}, "settings.lifetime"},
			{map[string]any{"lifetme": 5}, ""},
			{[]int{1}, ""},
		} {
			r := want(t, s.call(t, "PUT", base+"/example-surface", adm, tc.body), 422)
			if tc.field != "" && r.str("field") != tc.field {
				t.Errorf("PUT %v: field %q, want %q (%s)", tc.body, r.str("field"), tc.field, r.Raw)
			}
		}
		want(t, s.call(t, "GET", base+"/example-surface", adm, nil), 404)

		r := want(t, s.call(t, "PUT", base+"/example-surface", adm, map[string]any{"account": "acct-1", "lifetime": 60}), 200)
		if r.str("name") != "example-surface" || r.str("key") != "acct-1" || r.Body["settings"].(map[string]any)["lifetime"] != float64(60) {
			t.Fatalf("PUT answer %s", r.Raw)
		}
		created := r.str("created_at")
		// Another tenant cannot serve the surface under the same key.
		want(t, s.call(t, "PUT", "/v1/tenants/other/surfaces/example-surface", adm, map[string]any{"account": "acct-1"}), 409)
		want(t, s.call(t, "PUT", "/v1/tenants/other/surfaces/example-surface", adm, map[string]any{"account": "acct-2"}), 200)
		r = want(t, s.call(t, "PUT", base+"/example-surface", adm, map[string]any{"account": "acct-1"}), 200)
		if r.str("created_at") != created || r.Body["settings"].(map[string]any)["lifetime"] != nil {
			t.Fatalf("replaced record %s (created %s)", r.Raw, created)
		}
		if l := want(t, s.call(t, "GET", base, adm, nil), 200).items(); len(l) != 1 || l[0]["name"] != "example-surface" {
			t.Fatalf("list %v", l)
		}

		// A tenant admin reads its tenant's surfaces but does not change them.
		want(t, s.call(t, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "ops", "scopes": []string{"tokend:admin"}}), 201)
		op := want(t, s.call(t, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "ops", "scope": "tokend:admin"}), 201).str("access_token")
		want(t, s.call(t, "GET", base+"/example-surface", op, nil), 200)
		want(t, s.call(t, "GET", "/v1/tenants/other/surfaces", op, nil), 403)
		want(t, s.call(t, "PUT", base+"/example-surface", op, map[string]any{}), 403)
		want(t, s.call(t, "DELETE", base+"/example-surface", op, nil), 403)

		want(t, s.call(t, "DELETE", base+"/example-surface", adm, nil), 204)
		want(t, s.call(t, "DELETE", base+"/example-surface", adm, nil), 404)
		want(t, s.call(t, "GET", base+"/example-surface", adm, nil), 404)
		var actions []string
		for _, ev := range want(t, s.call(t, "GET", "/v1/tenants/acme/audit?action=surface.put", adm, nil), 200).items() {
			actions = append(actions, ev["action"].(string))
		}
		if len(actions) != 2 {
			t.Fatalf("surface.put audit events: %v", actions)
		}
	})
}
