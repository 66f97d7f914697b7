package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms tokend signs with. "none" and every algorithm not listed
// here are refused when verifying.
const (
	ES256 = "ES256"
	EdDSA = "EdDSA"
	RS256 = "RS256"
	HS256 = "HS256"
)

// methods maps each supported algorithm to its signing method.
var methods = map[string]jwt.SigningMethod{
	ES256: jwt.SigningMethodES256,
	EdDSA: jwt.SigningMethodEdDSA,
	RS256: jwt.SigningMethodRS256,
	HS256: jwt.SigningMethodHS256,
}

// supported is the verification allow-list.
var supported = []string{ES256, EdDSA, RS256, HS256}

// generate makes a new key pair of alg and returns its private material
// (PKCS #8 DER, or the raw secret for HS256) and its public key (PKIX DER,
// nil for HS256).
func generate(alg string) (private, public []byte, err error) {
	var priv crypto.Signer
	switch alg {
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case HS256:
		secret := make([]byte, 32)
		_, err = rand.Read(secret)
		return secret, nil, err
	default:
		return nil, nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, nil, err
	}
	private, err = x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	public, err = x509.MarshalPKIXPublicKey(priv.Public())
	return private, public, err
}

// parsed is a key ready to sign and verify.
type parsed struct {
	kid    string
	alg    string
	method jwt.SigningMethod
	sign   any // private key or HMAC secret
	verify any // public key or HMAC secret
	public any // public key to publish; nil for HS256
	header string
	// untyped is the header of league-profile tokens: typ JWT, no kid.
	untyped string
}

func parse(alg string, private []byte) (*parsed, error) {
	m, ok := methods[alg]
	if !ok {
		return nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
	}
	p := &parsed{alg: alg, method: m}
	if alg == HS256 {
		p.sign, p.verify = private, private
		return p, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(private)
	if err != nil {
		return nil, fmt.Errorf("keys: private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: %T is not a signing key", k)
	}
	p.sign, p.verify, p.public = s, s.Public(), s.Public()
	return p, nil
}
