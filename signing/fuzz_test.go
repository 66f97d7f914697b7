package signing_test

import (
	"net/url"
	"testing"

	"github.com/tokend/tokend/signing"
)

// FuzzValid: any form body either fails to parse or gets a signature that
// validates, and a different body does not validate with it.
func FuzzValid(f *testing.F) {
	for _, s := range []string{"principal=device%3Ak&ts=1", "a=1&a=2&b=%20", "sig=x&z=", "=&&="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		sig := signing.Sign("secret", "POST", "/t/x/tokens/generate", p)
		if !signing.Valid([]byte("secret"), "POST", "/t/x/tokens/generate", p, sig) {
			t.Fatalf("own signature of %q does not validate", body)
		}
		p.Add("extra", "1")
		if signing.Valid([]byte("secret"), "POST", "/t/x/tokens/generate", p, sig) {
			t.Fatalf("signature of %q validates another body", body)
		}
	})
}
