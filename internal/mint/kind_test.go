package mint

import (
	"testing"

	"github.com/tokend/tokend/claims"
)

// TestMayMint: a kind is minted by a caller allowed tokend:mint:<kind>, or
// tokend:admin; no other scope, and no other kind's right, is enough.
func TestMayMint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		scopes []string
		kind   string
		want   bool
	}{
		{name: "the kind's right", scopes: []string{"tokend:mint:storefront"}, kind: claims.KindStorefront, want: true},
		{name: "among other scopes", scopes: []string{"read", "tokend:mint:private", "write"}, kind: claims.KindPrivate, want: true},
		{name: "the admin scope", scopes: []string{claims.ScopeAdmin}, kind: claims.KindImpersonation, want: true},
		{name: "no scopes", kind: claims.KindStorefront},
		{name: "another kind's right", scopes: []string{"tokend:mint:storefront"}, kind: claims.KindImpersonation},
		{name: "an ordinary scope", scopes: []string{"read"}, kind: claims.KindPrivate},
		{name: "the prefix alone", scopes: []string{"tokend:mint:"}, kind: claims.KindPrivate},
		{name: "a wildcard is not a right", scopes: []string{"tokend:mint:*"}, kind: claims.KindPrivate},
		{name: "case matters", scopes: []string{"tokend:mint:Private"}, kind: claims.KindPrivate},
		{name: "a longer scope with the right as prefix", scopes: []string{"tokend:mint:privatex"}, kind: claims.KindPrivate},
		{name: "the admin scope with a suffix", scopes: []string{claims.ScopeAdmin + ":x"}, kind: claims.KindPrivate},
		{name: "store_storefront_api mints storefront tokens", scopes: []string{"store_storefront_api"}, kind: claims.KindStorefront, want: true},
		{name: "store_storefront_api mints private tokens", scopes: []string{"store_storefront_api"}, kind: claims.KindPrivate, want: true},
		{name: "store_storefront_api does not impersonate", scopes: []string{"store_storefront_api"}, kind: claims.KindImpersonation},
		{name: "the impersonation creation scope", scopes: []string{"store_storefront_api_customer_impersonation"}, kind: claims.KindImpersonation, want: true},
		{name: "the impersonation creation scope mints nothing else", scopes: []string{"store_storefront_api_customer_impersonation"}, kind: claims.KindStorefront},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := MayMint(tc.scopes, tc.kind); got != tc.want {
				t.Fatalf("MayMint(%q, %q) = %v, want %v", tc.scopes, tc.kind, got, tc.want)
			}
		})
	}
}

// TestMintRight: rights to mint never travel into a minted token.
func TestMintRight(t *testing.T) {
	t.Parallel()
	for sc, want := range map[string]bool{"tokend:admin": true, "tokend:mint:private": true, "store_storefront_api": true,
		"store_storefront_api_customer_impersonation": true, "Customer": false, "read": false, "store_storefront_apix": false} {
		if got := mintRight(sc); got != want {
			t.Errorf("mintRight(%q) = %v, want %v", sc, got, want)
		}
	}
}
