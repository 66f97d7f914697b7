package grant

import (
	"slices"
	"testing"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
)

// TestScopeNarrowing: RFC 6749 §3.3 — a token's scope lies within the
// client's scopes, a user's authority and, on a refresh, the original
// grant; no request means all of it.
func TestScopeNarrowing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		requested []string // nil: no scope parameter
		client    []string
		authority *principal.Authority
		granted   []string
		want      []string
		refused   bool
	}{
		{name: "no request: all the client's", client: []string{"write", "read"}, want: []string{"read", "write"}},
		{name: "no request, client without scopes", want: nil},
		{name: "within the client's", requested: []string{"read"}, client: []string{"read", "write"}, want: []string{"read"}},
		{name: "beyond the client's", requested: []string{"admin"}, client: []string{"read"}, refused: true},
		{name: "user: client's and roles' intersection", client: []string{"read", "write", "admin"}, authority: &principal.Authority{Scopes: []string{"write", "read", "other"}}, want: []string{"read", "write"}},
		{name: "user: a scope the client may but the roles do not grant", requested: []string{"admin"}, client: []string{"read", "admin"}, authority: &principal.Authority{Scopes: []string{"read"}}, refused: true},
		{name: "user without roles: nothing", client: []string{"read"}, authority: &principal.Authority{}, want: nil},
		{name: "refresh: no request keeps the grant", client: []string{"read", "write"}, granted: []string{"read"}, want: []string{"read"}},
		{name: "refresh: may narrow", requested: []string{"read"}, client: []string{"read", "write"}, granted: []string{"read", "write"}, want: []string{"read"}},
		{name: "refresh: may not widen", requested: []string{"write"}, client: []string{"read", "write"}, granted: []string{"read"}, refused: true},
		{name: "refresh: the client lost a scope since", client: []string{"read"}, granted: []string{"read", "write"}, want: []string{"read"}},
		{name: "duplicates and order", requested: []string{"write", "read", "write"}, client: []string{"read", "write"}, want: []string{"read", "write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := (&Engine{}).scope(&Request{Scope: tc.requested}, store.Client{Scopes: tc.client}, &Subject{Authority: tc.authority, Granted: tc.granted})
			if tc.refused {
				if fault.CodeOf(err) != fault.CodeInvalidScope {
					t.Fatalf("scope = %q, %v; want invalid_scope", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("scope = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestAudienceNarrowing: RFC 8707 §2 and RFC 9068 §2.2 — the audience
// requested, else the original grant's, else the client's, else the
// tenant's default; a requested audience outside the client's (or, for a
// client without audiences, the default) needs a project lookup.
func TestAudienceNarrowing(t *testing.T) {
	t.Parallel()
	def := []string{"https://id.example.com/t/shop"}
	for _, tc := range []struct {
		name       string
		requested  []string
		granted    []string
		client     []string
		want       []string
		wantUnsure []string
	}{
		{name: "nothing anywhere: the tenant's default", want: def},
		{name: "no request: the client's", client: []string{"api", "billing"}, want: []string{"api", "billing"}},
		{name: "no request on a refresh: the grant's", granted: []string{"api"}, client: []string{"api", "billing"}, want: []string{"api"}},
		{name: "one of the client's", requested: []string{"billing"}, client: []string{"api", "billing"}, want: []string{"billing"}},
		{name: "several of the client's, sorted", requested: []string{"billing", "api"}, client: []string{"api", "billing"}, want: []string{"api", "billing"}},
		{name: "not the client's: a project's at best", requested: []string{"orders"}, client: []string{"api"}, want: []string{"orders"}, wantUnsure: []string{"orders"}},
		{name: "the default, for a client with audiences", requested: def, client: []string{"api"}, want: def, wantUnsure: def},
		{name: "the default, for a client without", requested: def, want: def},
		{name: "client without audiences: a project's", requested: []string{"orders"}, want: []string{"orders"}, wantUnsure: []string{"orders"}},
		{name: "mixed, unsure in request order", requested: []string{"zeta", "api", "alpha"}, client: []string{"api"}, want: []string{"alpha", "api", "zeta"}, wantUnsure: []string{"zeta", "alpha"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, unsure := narrowAudience(tc.requested, tc.granted, tc.client, def)
			if !slices.Equal(got, tc.want) || !slices.Equal(unsure, tc.wantUnsure) {
				t.Fatalf("narrowAudience = %q, unsure %q; want %q, unsure %q", got, unsure, tc.want, tc.wantUnsure)
			}
		})
	}
}
