package mint

import (
	"testing"

	"github.com/tokend/tokend/claims"
)

func TestMayMint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		scopes []string
		kind   string
		want   bool
	}{
		{name: "no scopes", scopes: nil, kind: claims.KindStorefront, want: false},
		{name: "admin mints every kind", scopes: []string{claims.ScopeAdmin}, kind: claims.KindImpersonation, want: true},
		{name: "own creation scope", scopes: []string{"read", MintScopePrefix + claims.KindPrivate}, kind: claims.KindPrivate, want: true},
		{name: "another kind's creation scope", scopes: []string{MintScopePrefix + claims.KindStorefront}, kind: claims.KindPrivate, want: false},
		{name: "a prefix is not a scope", scopes: []string{MintScopePrefix}, kind: claims.KindStorefront, want: false},
	} {
		if got := MayMint(tc.scopes, tc.kind); got != tc.want {
			t.Errorf("%s: MayMint(%v, %q) = %v, want %v", tc.name, tc.scopes, tc.kind, got, tc.want)
		}
	}
}
