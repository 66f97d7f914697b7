package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // SHA-256 for RS256, PS256, ES256
	_ "crypto/sha512" // SHA-384 and SHA-512
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// compact is a compact JWS (RFC 7515 §7.1) split once: go-oidc has parsed
// and checked it (one signature, its alg on the list) before the key set
// is asked, so the key set only needs the parts to verify, not a second
// full parse.
type compact struct {
	alg, kid string
	input    string // BASE64URL(header) "." BASE64URL(payload)
	payload  string
	sig      []byte
}

func splitCompact(raw string) (*compact, error) {
	h, rest, ok := strings.Cut(raw, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(s, ".") {
		return nil, errors.New("not a compact JWS")
	}
	hb, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return nil, errors.New("malformed JWS header")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg == "" {
		return nil, errors.New("malformed JWS header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("malformed JWS signature")
	}
	return &compact{alg: hdr.Alg, kid: hdr.Kid, input: raw[:len(h)+1+len(p)], payload: p, sig: sig}, nil
}

var algHash = map[string]crypto.Hash{
	"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
	"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512,
	"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512,
}

var algCurve = map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}

// verify checks c's signature with key under c.alg (RFC 7518 §3, RFC 8037
// §3.1) and returns the decoded payload; a key of another type than the
// algorithm's is no match.
func (c *compact) verify(key jose.JSONWebKey) ([]byte, bool) {
	ok := false
	switch pub := key.Key.(type) {
	case *rsa.PublicKey:
		h, known := algHash[c.alg]
		if !known || c.alg[0] == 'E' {
			return nil, false
		}
		d := digest(h, c.input)
		if c.alg[0] == 'P' {
			ok = rsa.VerifyPSS(pub, h, d, c.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(pub, h, d, c.sig) == nil
		}
	case *ecdsa.PublicKey:
		curve, known := algCurve[c.alg]
		if !known || pub.Curve != curve {
			return nil, false
		}
		n := (curve.Params().BitSize + 7) / 8
		if len(c.sig) != 2*n {
			return nil, false
		}
		r, s := new(big.Int).SetBytes(c.sig[:n]), new(big.Int).SetBytes(c.sig[n:])
		ok = ecdsa.Verify(pub, digest(algHash[c.alg], c.input), r, s)
	case ed25519.PublicKey:
		ok = c.alg == "EdDSA" && ed25519.Verify(pub, []byte(c.input), c.sig)
	}
	if !ok {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.payload)
	return b, err == nil
}

func digest(h crypto.Hash, s string) []byte {
	w := h.New()
	w.Write([]byte(s))
	return w.Sum(nil)
}
