package keys_test

import (
	"testing"

	"github.com/tokend/tokend/internal/keys"
)

// FuzzPeekIssuer: the unverified issuer peek never panics on any input.
func FuzzPeekIssuer(f *testing.F) {
	for _, s := range []string{"a.eyJpc3MiOiJ4In0.b", "..", "x", "a.b.c.d", "a.!!.c", "eyJ9.eyJpc3MiOjF9.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iss, err := keys.PeekIssuer(s)
		if err == nil && iss == "" {
			t.Fatalf("PeekIssuer(%q) returned no issuer and no error", s)
		}
	})
}
