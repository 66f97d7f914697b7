package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// TestClientAssertions covers RFC 7523 client authentication at the token
// endpoint: private_key_jwt with a registered JWKS and client_secret_jwt
// with the client's signing secret.
func TestClientAssertions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
		raw, _ := json.Marshal(set)
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "jwtc", "public": true,
			"grant_types": []string{"client_credentials"}, "scopes": []string{"read"}, "jwks": json.RawMessage(raw)}), 201)
		private, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1"}}})
		if r := s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "bad", "jwks": json.RawMessage(private)}); r.Status != 422 || r.str("field") != "jwks" {
			t.Fatalf("a private key as JWKS: %d %s", r.Status, r.Raw)
		}
		tokenURL := o.tokenURL()
		assertion := func(method jwt.SigningMethod, k any, kid, aud string, exp time.Time, jti string) string {
			tok := jwt.NewWithClaims(method, jwt.RegisteredClaims{Issuer: "jwtc", Subject: "jwtc", Audience: jwt.ClaimStrings{aud},
				ExpiresAt: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(time.Now()), ID: jti})
			if kid != "" {
				tok.Header["kid"] = kid
			}
			v, err := tok.SignedString(k)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		n := 0
		use := func(a string) response {
			// Each from its own address, so that the failures do not add
			// up to a block of the client.
			n++
			return o.formFrom(t, fmt.Sprintf("127.0.1.%d", n), "token", "", "", url.Values{"grant_type": {"client_credentials"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}})
		}
		soon := time.Now().Add(2 * time.Minute)
		good := assertion(jwt.SigningMethodES256, key, "k1", tokenURL, soon, "j1")
		r := want(t, use(good), 200)
		if payload(t, r.str("access_token"))["sub"] != "jwtc" {
			t.Fatalf("assertion token %s", r.Raw)
		}
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		for name, a := range map[string]string{
			"replayed":       good,
			"other key":      assertion(jwt.SigningMethodES256, other, "k1", tokenURL, soon, "j2"),
			"wrong aud":      assertion(jwt.SigningMethodES256, key, "k1", "https://elsewhere/token", soon, "j3"),
			"expired":        assertion(jwt.SigningMethodES256, key, "k1", tokenURL, time.Now().Add(-2*time.Minute), "j4"),
			"no jti":         assertion(jwt.SigningMethodES256, key, "k1", tokenURL, soon, ""),
			"unknown kid":    assertion(jwt.SigningMethodES256, key, "k9", tokenURL, soon, "j5"),
			"too long-lived": assertion(jwt.SigningMethodES256, key, "k1", tokenURL, time.Now().Add(3*time.Hour), "j6"),
		} {
			if r := use(a); r.Status != 401 || r.str("error") != "invalid_client" {
				t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		// client_secret_jwt: HS256 keyed with the client's signing secret.
		secret := want(t, s.call(t, "POST", "/v1/tenants/shop/clients/jwtc/signing-secret", s.Admin, nil), 200).str("signing_secret")
		want(t, use(assertion(jwt.SigningMethodHS256, []byte(secret), "", s.URL+"/t/shop", soon, "h1")), 200)
		if r := use(assertion(jwt.SigningMethodHS256, []byte("guess"), "", tokenURL, soon, "h2")); r.Status != 401 {
			t.Fatalf("HS256 with a wrong secret: %d", r.Status)
		}
		// Mixing methods is refused.
		r = o.form(t, "token", "jwtc", "x", url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {good}})
		if r.Status != 400 {
			t.Fatalf("basic auth and an assertion: %d %s", r.Status, r.Raw)
		}
	})
}
