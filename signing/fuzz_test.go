package signing_test

import (
	"net/url"
	"slices"
	"strings"
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

// FuzzCanonical: the string to sign is METHOD, path and the parameters
// (all but sig) in one line from which exactly those parameters parse
// back, so that two different requests never share a string to sign.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"principal=device%3Ak&ts=1", "a=1&a=2&b=%20", "sig=x&z=", "=&&=", "k=%0A&%26=%3D", "b=2&a=1&a=0"} {
		f.Add("post", s)
	}
	f.Fuzz(func(t *testing.T, method, body string) {
		p, err := url.ParseQuery(body)
		if err != nil || strings.Contains(method, "\n") {
			return
		}
		const path = "/t/x/tokens/generate"
		c := signing.Canonical(method, path, p)
		lines := strings.Split(c, "\n")
		if len(lines) != 3 || lines[0] != strings.ToUpper(method) || lines[1] != path {
			t.Fatalf("Canonical(%q, %q) = %q: not METHOD, path and parameters", method, body, c)
		}
		back, err := url.ParseQuery(lines[2])
		if err != nil {
			t.Fatalf("parameter line %q does not parse: %v", lines[2], err)
		}
		p.Del("sig")
		for k, vs := range p {
			vs = slices.Clone(vs)
			slices.Sort(vs)
			if !slices.Equal(vs, back[k]) {
				t.Fatalf("parameter %q: %q in, %q in the string to sign", k, vs, back[k])
			}
		}
		if len(back) != len(p) {
			t.Fatalf("the string to sign has %d parameters, the request %d", len(back), len(p))
		}
		if c2 := signing.Canonical(method, path, back); c2 != c {
			t.Fatalf("the parameters of %q give another string to sign: %q", c, c2)
		}
	})
}
