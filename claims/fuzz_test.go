package claims_test

import (
	"strings"
	"testing"

	"github.com/tokend/tokend/claims"
)

// FuzzNormalizeOrigin: never panics; a normalized origin normalizes to
// itself and has no path, query, fragment or user.
func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{"https://Example.com:443", "http://[::1]:8080", "null", "https://u@x/", "http://x:99999", "HTTP://A.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := claims.NormalizeOrigin(s)
		if !ok {
			return
		}
		again, ok := claims.NormalizeOrigin(n)
		if !ok || again != n {
			t.Fatalf("%q normalized to %q, which normalizes to %q (%v)", s, n, again, ok)
		}
		if strings.ContainsAny(strings.TrimPrefix(strings.TrimPrefix(n, "https://"), "http://"), "/?#@") {
			t.Fatalf("%q normalized to %q", s, n)
		}
	})
}
