package keys_test

import (
	"context"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/keys"
)

// TestNamedSecrets: a secret per name (token type), refused below 32
// bytes; each signs tokens whose header kid is its name, which golang-jwt
// verifies with that secret and keys verifies back; tokens made elsewhere
// with the secret verify too; a token signed with one name's secret under
// another's kid fails; replacing a name's secret leaves the other names
// and the unnamed legacy secret alone.
func TestNamedSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	addTenant(t, st, "acme")
	m := newManager(t, st, master(t))
	for _, short := range []string{"", "x", strings.Repeat("a", keys.MinLegacySecret-1)} {
		if f := fault.As(m.ImportNamed(ctx, "acme", "default", []byte(short))); f == nil || f.Field != "secret" {
			t.Fatalf("secret of %d bytes accepted", len(short))
		}
	}
	if f := fault.As(m.ImportNamed(ctx, "acme", "Bad Name", []byte(strings.Repeat("a", 32)))); f == nil || f.Field != "name" {
		t.Fatal("malformed name accepted")
	}
	if _, err := m.SignNamed(ctx, "acme", "default", []byte(`{}`)); fault.CodeOf(err) != fault.CodeForbidden {
		t.Fatalf("signing without the secret: %v", err)
	}
	def, sdk, legacy := []byte(strings.Repeat("d", 32)), []byte(strings.Repeat("s", 40)), []byte(strings.Repeat("l", 32))
	for name, s := range map[string][]byte{"default": def, "sdk-agent": sdk} {
		if err := m.ImportNamed(ctx, "acme", name, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.ImportLegacy(ctx, "acme", legacy); err != nil {
		t.Fatal(err)
	}
	tok, err := m.SignNamed(ctx, "acme", "sdk-agent", []byte(`{"token_type":"sdk-agent"}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).Parse(tok, func(tk *jwt.Token) (any, error) { return sdk, nil })
	if err != nil || p.Header["kid"] != "sdk-agent" || p.Header["typ"] != "JWT" {
		t.Fatalf("golang-jwt: %v %v", err, p)
	}
	if name, payload, err := m.VerifyNamed(ctx, "acme", tok); err != nil || name != "sdk-agent" || string(payload) != `{"token_type":"sdk-agent"}` {
		t.Fatalf("verify: %q %s %v", name, payload, err)
	}
	// Made elsewhere (the legacy service) with the default secret.
	ext, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"token_type": "default"}).SignedString(def)
	if _, _, err := m.VerifyNamed(ctx, "acme", ext); err == nil {
		t.Fatal("a token without kid verified as a named one")
	}
	wk := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"token_type": "default"})
	wk.Header["kid"] = "default"
	ext, _ = wk.SignedString(def)
	if name, _, err := m.VerifyNamed(ctx, "acme", ext); err != nil || name != "default" {
		t.Fatalf("legacy-made token: %q %v", name, err)
	}
	wk.Header["kid"] = "sdk-agent"
	forged, _ := wk.SignedString(def)
	if _, _, err := m.VerifyNamed(ctx, "acme", forged); fault.CodeOf(err) != fault.CodeInvalidToken {
		t.Fatalf("default secret under the sdk-agent kid: %v", err)
	}
	// Replace default: old default tokens fail, sdk-agent and the legacy
	// secret still work.
	if err := m.ImportNamed(ctx, "acme", "default", []byte(strings.Repeat("D", 32))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.VerifyNamed(ctx, "acme", ext); fault.CodeOf(err) != fault.CodeInvalidToken {
		t.Fatalf("token of a replaced secret: %v", err)
	}
	if _, _, err := m.VerifyNamed(ctx, "acme", tok); err != nil {
		t.Fatalf("sdk-agent after replacing default: %v", err)
	}
	c, err := m.SignCompact(ctx, "acme", []byte(`{"sub":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.VerifyCompact(ctx, "acme", c); err != nil {
		t.Fatalf("legacy secret after named imports: %v", err)
	}
	if made, err := m.EnsureNamed(ctx, "acme", "oidc"); err != nil || !made {
		t.Fatalf("ensure oidc: %v %v", made, err)
	}
	if made, err := m.EnsureNamed(ctx, "acme", "oidc"); err != nil || made {
		t.Fatalf("ensure oidc again: %v %v", made, err)
	}
}
