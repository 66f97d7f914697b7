package oidc

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestCompactVerify: JWSs made by go-jose for every algorithm a trusted
// issuer may use verify with their key, and with no other key, algorithm
// or changed byte.
func TestCompactVerify(t *testing.T) {
	t.Parallel()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	e256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	e521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		alg       jose.SignatureAlgorithm
		key       int // which key pair
		priv, pub any
	}{
		{jose.RS256, 0, rk, &rk.PublicKey}, {jose.RS512, 0, rk, &rk.PublicKey}, {jose.PS256, 0, rk, &rk.PublicKey}, {jose.PS384, 0, rk, &rk.PublicKey},
		{jose.ES256, 1, e256, &e256.PublicKey}, {jose.ES384, 2, e384, &e384.PublicKey}, {jose.ES512, 3, e521, &e521.PublicKey},
		{jose.EdDSA, 4, ed, ed.Public()},
	}
	for _, tc := range cases {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: tc.priv}, nil)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := s.Sign([]byte(`{"sub":"u"}`))
		raw, _ := o.CompactSerialize()
		c, err := splitCompact(raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.alg, err)
		}
		if b, ok := c.verify(jose.JSONWebKey{Key: tc.pub}); !ok || string(b) != `{"sub":"u"}` {
			t.Errorf("%s: does not verify (%s)", tc.alg, b)
		}
		for _, other := range cases {
			if other.key == tc.key {
				continue
			}
			if _, ok := c.verify(jose.JSONWebKey{Key: other.pub}); ok {
				t.Errorf("%s verified with the key of %s", tc.alg, other.alg)
			}
		}
		bad := *c
		bad.sig = append([]byte(nil), c.sig...)
		bad.sig[len(bad.sig)/2] ^= 1
		if _, ok := bad.verify(jose.JSONWebKey{Key: tc.pub}); ok {
			t.Errorf("%s: a changed signature verifies", tc.alg)
		}
		swapped := *c
		swapped.alg = map[bool]string{true: "ES256", false: "RS256"}[tc.alg[0] != 'E']
		if _, ok := swapped.verify(jose.JSONWebKey{Key: tc.pub}); ok {
			t.Errorf("%s verifies under %s", tc.alg, swapped.alg)
		}
	}
}

// FuzzSplitCompact: any input splits or fails without panicking.
func FuzzSplitCompact(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.AAAA")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := splitCompact(raw)
		if err == nil {
			_, _ = c.verify(jose.JSONWebKey{Key: ed25519.PublicKey(make([]byte, 32))})
		}
	})
}
