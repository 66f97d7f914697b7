package keys

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// namedAlgPrefix marks, in a store.KeyLegacy row's alg, an HMAC secret of
// kid-named HS256 tokens: "HS256/<name>".
const namedAlgPrefix = HS256 + "/"

// validName is the shape of a named secret's name, which is also the kid
// of the tokens it signs.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// ImportNamed makes secret the tenant's HMAC secret named name, for
// HS256 tokens whose header kid is that name (a legacy product that keeps
// one secret per token type, such as AuthSec's JWT_DEF_SECRET and
// JWT_SDK_SECRET), replacing any earlier secret of that name. Like the
// unnamed legacy secret it is sealed under the master key, never signs
// tokend's own JWTs and never appears in the JWKS. A secret shorter than
// MinLegacySecret bytes is an invalid_request fault naming "secret"; a
// malformed name one naming "name".
func (m *Manager) ImportNamed(ctx context.Context, tenant, name string, secret []byte) error {
	if !validName.MatchString(name) {
		return fault.Invalid("name", "name: must be 1 to 32 lower-case letters, digits, '.', '_' or '-'")
	}
	return m.importHMAC(ctx, tenant, namedAlgPrefix+name, secret)
}

// EnsureNamed gives the tenant a random secret named name if it has none,
// and reports whether it made one.
func (m *Manager) EnsureNamed(ctx context.Context, tenant, name string) (bool, error) {
	s, err := m.set(ctx, tenant)
	if err != nil {
		return false, store.Fault(err)
	}
	if s.named[name] != nil {
		return false, nil
	}
	secret := make([]byte, MinLegacySecret)
	if _, err := rand.Read(secret); err != nil {
		return false, err
	}
	return true, m.ImportNamed(ctx, tenant, name, secret)
}

// namedHeader is the header golang-jwt writes for HS256 with a kid:
// {"alg":"HS256","kid":name,"typ":"JWT"}.
func namedHeader(name string) string {
	b, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{HS256, name, "JWT"})
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignNamed signs payload, a JSON object, as an HS256 token with header
// kid name and the tenant's secret of that name. A tenant without that
// secret is a forbidden fault.
func (m *Manager) SignNamed(ctx context.Context, tenant, name string, payload []byte) (string, error) {
	s, err := m.set(ctx, tenant)
	if err != nil {
		return "", store.Fault(err)
	}
	secret := s.named[name]
	if secret == nil {
		return "", fault.Forbidden("the tenant has no HMAC secret named %q", name)
	}
	var b strings.Builder
	b.WriteString(namedHeader(name))
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(b.String()))
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
	return b.String(), nil
}

// NamedKID returns the kid of raw when its header is an HS256 one with a
// kid (and at most typ JWT beside), without verifying anything.
func NamedKID(raw string) (string, bool) {
	h, _, ok := strings.Cut(raw, ".")
	if !ok || len(h) > 256 {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(h)
	if err != nil || !mayNameHS256(b) {
		return "", false
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&v); err != nil || d.More() || v["alg"] != HS256 {
		return "", false
	}
	kid, _ := v["kid"].(string)
	if !validName.MatchString(kid) {
		return "", false
	}
	for k, val := range v {
		switch {
		case k == "alg", k == "kid":
		case k == "typ" && val == "JWT":
		default:
			return "", false
		}
	}
	return kid, true
}

// VerifyNamed checks the signature of a kid-named HS256 token with the
// tenant's secret of that name (constant time) and returns the name and
// the payload, still to be validated as claims. Failures are
// invalid_token faults; a store that cannot be read is unavailable.
func (m *Manager) VerifyNamed(ctx context.Context, tenant, raw string) (string, []byte, error) {
	if len(raw) > maxCompact {
		return "", nil, fault.InvalidToken("malformed token")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", nil, fault.InvalidToken("malformed token")
	}
	name, ok := NamedKID(raw)
	if !ok {
		return "", nil, fault.InvalidToken("malformed token")
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		return "", nil, fault.InvalidToken("malformed token")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return "", nil, fault.InvalidToken("malformed token")
	}
	s, err := m.set(ctx, tenant)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", nil, fault.InvalidToken("unknown issuer")
		}
		return "", nil, fault.Unavailable(err)
	}
	secret := s.named[name]
	if secret == nil {
		return "", nil, fault.InvalidToken("unknown key")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(raw[:len(parts[0])+1+len(parts[1])]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return "", nil, fault.InvalidToken("bad signature")
	}
	return name, payload, nil
}

// mayNameHS256 reports whether the JSON text hdr may hold the string
// "HS256": it does if it has those bytes, or any escape (a string could
// spell them with one). A JOSE header without either is no HS256 header,
// which spares decoding it (tokend's own tokens are ES256 by default).
func mayNameHS256(hdr []byte) bool {
	return bytes.Contains(hdr, []byte("HS256")) || bytes.IndexByte(hdr, '\\') >= 0
}
