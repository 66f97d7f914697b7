package keys_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/keys"
)

func legacyHS256(key []byte, header, payload string) string {
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestLegacySecret: an imported secret signs compact tokens that verify
// with it (and tokens made elsewhere with it verify too); a short secret is
// refused; a replaced secret verifies nothing; the legacy secret never
// signs or verifies tokend's own JWTs and never reaches the JWKS.
func TestLegacySecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	addTenant(t, st, "acme")
	addTenant(t, st, "other")
	m := newManager(t, st, master(t))
	if err := m.Ensure(ctx, "acme", keys.ES256); err != nil {
		t.Fatal(err)
	}
	for _, short := range []string{"", "x", strings.Repeat("a", keys.MinLegacySecret-1)} {
		err := m.ImportLegacy(ctx, "acme", []byte(short))
		if f := fault.As(err); f == nil || f.Field != "secret" {
			t.Fatalf("secret of %d bytes: %v, want a fault naming secret", len(short), err)
		}
	}
	if _, err := m.SignCompact(ctx, "acme", []byte(`{"sub":1}`)); fault.CodeOf(err) != fault.CodeForbidden {
		t.Fatalf("signing without a legacy secret: %v", err)
	}
	secret := []byte(strings.Repeat("k", 64))
	if err := m.ImportLegacy(ctx, "acme", secret); err != nil {
		t.Fatal(err)
	}
	payload := `{"exp":4102444800,"sub":42,"aud":["api"],"jti":"00112233445566778899aabbccddeeff"}`
	tok, err := m.SignCompact(ctx, "acme", []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if want := legacyHS256(secret, `{"alg":"HS256"}`, payload); tok != want {
		t.Fatalf("compact token\n got %s\nwant %s (ruby-jwt's bytes)", tok, want)
	}
	if got, err := m.VerifyCompact(ctx, "acme", tok); err != nil || string(got) != payload {
		t.Fatalf("verify: %q %v", got, err)
	}
	// PyJWT writes typ JWT beside alg: accepted; a kid or another alg is not.
	if _, err := m.VerifyCompact(ctx, "acme", legacyHS256(secret, `{"alg":"HS256","typ":"JWT"}`, payload)); err != nil {
		t.Fatalf("typ JWT header: %v", err)
	}
	for _, h := range []string{`{"alg":"HS256","kid":"x"}`, `{"alg":"HS512"}`, `{"alg":"none"}`, `{"alg":"HS256","crit":["b64"]}`} {
		if _, err := m.VerifyCompact(ctx, "acme", legacyHS256(secret, h, payload)); fault.CodeOf(err) != fault.CodeInvalidToken {
			t.Errorf("header %s: %v, want invalid_token", h, err)
		}
	}
	if _, err := m.VerifyCompact(ctx, "other", tok); fault.CodeOf(err) != fault.CodeInvalidToken {
		t.Fatalf("another tenant verified it: %v", err)
	}
	if _, err := m.VerifyCompact(ctx, "acme", tok[:len(tok)-2]+"AA"); fault.CodeOf(err) != fault.CodeInvalidToken {
		t.Fatalf("bad signature: %v", err)
	}
	// The legacy secret is no kid: a tokend-shaped JWT signed with it fails.
	l, _ := m.Keys(ctx, "acme")
	var legacyKID string
	for _, k := range l {
		if k.State == "legacy" {
			legacyKID = k.ID
		}
	}
	if legacyKID == "" {
		t.Fatal("no legacy key listed")
	}
	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": issuerOf("acme"), "sub": "x", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	forged.Header["typ"], forged.Header["kid"] = "at+jwt", legacyKID
	raw, _ := forged.SignedString(secret)
	if _, err := m.Verify(ctx, "acme", raw); fault.CodeOf(err) != fault.CodeInvalidToken {
		t.Fatalf("JWT signed with the legacy secret: %v, want invalid_token", err)
	}
	jwks, _, _ := m.JWKS(ctx, "acme")
	if strings.Contains(string(jwks), legacyKID) {
		t.Fatalf("legacy key in the JWKS: %s", jwks)
	}
	// Replacing the secret ends the tokens of the old one.
	if err := m.ImportLegacy(ctx, "acme", []byte(strings.Repeat("n", 32))); err != nil {
		t.Fatal(err)
	}
	if _, err := m.VerifyCompact(ctx, "acme", tok); fault.CodeOf(err) != fault.CodeInvalidToken {
		t.Fatalf("token of a replaced secret: %v", err)
	}
	if made, err := m.EnsureLegacy(ctx, "acme"); err != nil || made {
		t.Fatalf("EnsureLegacy with a secret: %v %v", made, err)
	}
	if made, err := m.EnsureLegacy(ctx, "other"); err != nil || !made {
		t.Fatalf("EnsureLegacy without one: %v %v", made, err)
	}
	if ok, _ := m.HasLegacy(ctx, "other"); !ok {
		t.Fatal("other has no legacy secret after EnsureLegacy")
	}
}

func TestIsCompact(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		"eyJhbGciOiJIUzI1NiJ9.e30.x":                                  true,
		legacyHS256([]byte("k"), `{"alg":"HS256","typ":"JWT"}`, "{}"): true,
		legacyHS256([]byte("k"), `{"alg":"ES256"}`, "{}"):             false,
		"no-dots": false,
	} {
		if got := keys.IsCompact(raw); got != want {
			t.Errorf("IsCompact(%q) = %v", raw, got)
		}
	}
}

// TestNamedKIDHeaders: the kid of an HS256 header that names a secret is
// found whether the header spells "HS256" plainly or with a JSON escape;
// other algorithms and tokend's own header shapes name none.
func TestNamedKIDHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header, kid string
		ok          bool
	}{
		{`{"alg":"HS256","kid":"legacy"}`, "legacy", true},
		{`{"alg":"HS256","typ":"JWT","kid":"legacy"}`, "legacy", true},
		{`{"alg":"HS\u0032\u0035\u0036","kid":"legacy"}`, "legacy", true},
		{`{"alg":"ES256","kid":"legacy"}`, "", false},
		{`{"alg":"HS256"}`, "", false},
		{`{"alg":"HS256","kid":"legacy","typ":"at+jwt"}`, "", false},
	} {
		kid, ok := keys.NamedKID(legacyHS256([]byte("k"), tc.header, "{}"))
		if kid != tc.kid || ok != tc.ok {
			t.Errorf("NamedKID(%s) = %q %v, want %q %v", tc.header, kid, ok, tc.kid, tc.ok)
		}
	}
}
