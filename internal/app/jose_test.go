package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/internal/apptest"
)

// TestCriticalHeadersAndStrictDecoding: RFC 7515 §4.1.11 — a client
// assertion whose header names extensions (crit, in any shape, or RFC
// 7797's b64) is refused, and every JWT tokend accepts (client assertions,
// its own tokens at introspection, the gateway check and the admin API) is
// decoded strictly: a set unused bit in the signature is a different token.
func TestCriticalHeadersAndStrictDecoding(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "jwtc", "public": true,
			"grant_types": []string{"client_credentials"}, "scopes": []string{"read"}, "jwks": json.RawMessage(set)}), 201)
		n := 0
		assertion := func(extra map[string]any) string {
			n++
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{Issuer: "jwtc", Subject: "jwtc",
				Audience: jwt.ClaimStrings{o.tokenURL()}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(2 * time.Minute)),
				IssuedAt: jwt.NewNumericDate(time.Now()), ID: "a" + string(rune('a'+n))})
			tok.Header["kid"] = "k1"
			for k, v := range extra {
				tok.Header[k] = v
			}
			v, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		use := func(a string) response { // each from its own address, below the client's throttle
			return o.formFrom(t, fmt.Sprintf("127.0.2.%d", n), "token", "", "", url.Values{"grant_type": {"client_credentials"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}})
		}
		for name, a := range map[string]string{
			"crit naming an unknown extension": assertion(map[string]any{"crit": []string{"unknown"}, "unknown": true}),
			"crit not an array":                assertion(map[string]any{"crit": "exp"}),
			"b64 false":                        assertion(map[string]any{"b64": false, "crit": []string{"b64"}}),
			"b64 false without crit":           assertion(map[string]any{"b64": false}),
			"unused bit of the signature set":  apptest.FlipLastBit(assertion(nil)),
		} {
			if r := use(a); r.Status != 401 || r.str("error") != "invalid_client" {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		want(t, use(assertion(nil)), 200) // the control: the same key and claims without those

		tok := want(t, o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}), 200).str("access_token")
		bent := apptest.FlipLastBit(tok)
		if !o.active(t, tok) || o.active(t, bent) {
			t.Fatal("introspection: the token must be active and its re-spelled signature not")
		}
		check := func(tok string) int {
			req, _ := http.NewRequest("GET", s.URL+"/t/shop/check", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return send(t, req).Status
		}
		if check(tok) != 200 || check(bent) != 401 {
			t.Fatalf("gateway check: %d for the token, %d for its re-spelled signature", check(tok), check(bent))
		}
		adminSecret := want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "tadmin",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"tokend:admin"}}), 201).str("client_secret")
		admin := want(t, o.form(t, "token", "tadmin", adminSecret, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
		want(t, s.call(t, "GET", "/v1/tenants/shop/clients", admin, nil), 200)
		want(t, s.call(t, "GET", "/v1/tenants/shop/clients", apptest.FlipLastBit(admin), nil), 401)
	})
}
