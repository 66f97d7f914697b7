package authn

import (
	"testing"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
)

// TestAdmin: only access and admin tokens with tokend:admin administer; a
// system token may do anything, a tenant's token only its own tenant and
// never a system-only route.
func TestAdmin(t *testing.T) {
	t.Parallel()
	id := func(tenant, kind, scope string) *introspect.Identity {
		return &introspect.Identity{Tenant: tenant, Claims: claims.Claims{Kind: kind, Scope: scope}}
	}
	for _, tc := range []struct {
		name       string
		id         *introspect.Identity
		tenant     string
		systemOnly bool
		system     bool
		code       fault.Code
	}{
		{name: "system admin", id: id(claims.SystemTenant, claims.KindAdmin, claims.ScopeAdmin), tenant: "acme", systemOnly: true, system: true},
		{name: "tenant admin, own tenant", id: id("acme", claims.KindAccess, "read "+claims.ScopeAdmin), tenant: "acme"},
		{name: "tenant admin, no tenant named", id: id("acme", "", claims.ScopeAdmin)},
		{name: "tenant admin, other tenant", id: id("acme", claims.KindAccess, claims.ScopeAdmin), tenant: "other", code: fault.CodeForbidden},
		{name: "tenant admin, system route", id: id("acme", claims.KindAccess, claims.ScopeAdmin), systemOnly: true, code: fault.CodeForbidden},
		{name: "device token", id: id("acme", claims.KindDevice, claims.ScopeAdmin), tenant: "acme", code: fault.CodeForbidden},
		{name: "no admin scope", id: id(claims.SystemTenant, claims.KindAccess, "read"), code: fault.CodeInsufficientScope},
	} {
		system, err := Admin(tc.id, tc.tenant, tc.systemOnly)
		if (tc.code == "" && err != nil) || (tc.code != "" && fault.CodeOf(err) != tc.code) || system != tc.system {
			t.Errorf("%s: system %v, error %v; want %v, %q", tc.name, system, err, tc.system, tc.code)
		}
	}
}

// TestBearer reads RFC 6750 §2.1 Authorization values.
func TestBearer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header, token string
		code          fault.Code
	}{
		{header: "Bearer abc", token: "abc"},
		{header: "bearer  abc ", token: "abc"},
		{header: "", code: fault.CodeUnauthenticated},
		{header: "Basic abc", code: fault.CodeInvalidToken},
		{header: "Bearer ", code: fault.CodeInvalidToken},
		{header: "Bearer", code: fault.CodeInvalidToken},
	} {
		tok, err := Bearer(tc.header)
		if tc.code != "" {
			if fault.CodeOf(err) != tc.code {
				t.Errorf("Bearer(%q): error %v, want %s", tc.header, err, tc.code)
			}
			continue
		}
		if err != nil || tok != tc.token {
			t.Errorf("Bearer(%q) = %q, %v; want %q", tc.header, tok, err, tc.token)
		}
	}
}
