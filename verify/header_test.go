package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/verify"
)

// TestVerifierRefusesCriticalHeaders: RFC 7515 §4.1.11 — a header naming
// extensions in crit (or b64, RFC 7797) is refused whatever its shape, and
// a signature is decoded strictly. The issuer here is a stand-in serving
// discovery and a JWKS, so that the test can sign any header.
func TestVerifierRefusesCriticalHeaders(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss := srv.URL + "/t/x"
	mux.HandleFunc("GET /t/x/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	v, err := verify.New(context.Background(), verify.Options{Issuer: iss, Audience: "api", Algorithms: []string{"ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	sign := func(extra map[string]any) string {
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": iss, "sub": "svc", "aud": "api",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j" + now.Format(time.RFC3339Nano)})
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", "k1"
		for k, x := range extra {
			tok.Header[k] = x
		}
		raw, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	good := sign(nil)
	if _, err := v.Verify(context.Background(), good); err != nil {
		t.Fatalf("control token: %v", err)
	}
	for name, raw := range map[string]string{
		"crit naming an unknown extension": sign(map[string]any{"crit": []string{"unknown"}, "unknown": 1}),
		"crit not an array":                sign(map[string]any{"crit": "unknown"}),
		"b64 false":                        sign(map[string]any{"b64": false, "crit": []string{"b64"}}),
		"b64 false without crit":           sign(map[string]any{"b64": false}),
		"unused bit of the signature set":  apptest.FlipLastBit(sign(nil)),
	} {
		if _, err := v.Verify(context.Background(), raw); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// TestVerifierDecodesStrictly: a real tokend token with an unused bit of
// its signature flipped is refused by the library.
func TestVerifierDecodesStrictly(t *testing.T) {
	t.Parallel()
	s := startTokend(t)
	v, err := verify.New(context.Background(), verify.Options{Issuer: s.url + "/t/shop", Audience: "api", Algorithms: []string{"ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	tok := s.token(t, "read")
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("control token: %v", err)
	}
	if _, err := v.Verify(context.Background(), apptest.FlipLastBit(tok)); err == nil {
		t.Fatal("a token with a flipped unused signature bit verified")
	}
}
