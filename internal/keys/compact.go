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
	"strings"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// MinLegacySecret is the shortest legacy HMAC secret accepted: RFC 7518
// §3.2 requires a key of at least the hash output size for HS256.
const MinLegacySecret = 32

// maxLegacySecret bounds an imported secret (Rails' secret_key_base is
// 128 hex characters).
const maxLegacySecret = 1024

// compactHeader is the base64url of {"alg":"HS256"}, the header ruby-jwt
// writes for HS256 (no typ, no kid).
const compactHeader = "eyJhbGciOiJIUzI1NiJ9"

// maxCompact bounds a compact token before any decoding.
const maxCompact = 8 << 10

// ImportLegacy makes secret the tenant's legacy HMAC secret for compact
// HS256 tokens (store.FormatCompact), replacing any earlier one: tokens
// signed with the earlier secret stop verifying. The secret is sealed
// under the master key; it never signs or verifies tokend's own JWTs and
// never appears in the JWKS. A secret shorter than MinLegacySecret bytes
// is an invalid_request fault naming "secret".
func (m *Manager) ImportLegacy(ctx context.Context, tenant string, secret []byte) error {
	return m.importHMAC(ctx, tenant, HS256, secret)
}

// importHMAC stores secret, sealed, as the tenant's KeyLegacy secret of
// alg (HS256 for the legacy secret, namedAlgPrefix+name for a named one),
// retiring the one it replaces, after checking its length.
func (m *Manager) importHMAC(ctx context.Context, tenant, alg string, secret []byte) error {
	switch {
	case len(secret) < MinLegacySecret:
		return fault.Invalid("secret", "secret: must be at least %d bytes (RFC 7518 §3.2), got %d", MinLegacySecret, len(secret))
	case len(secret) > maxLegacySecret:
		return fault.Invalid("secret", "secret: must be at most %d bytes, got %d", maxLegacySecret, len(secret))
	}
	err := m.o.Store.Tx(ctx, func(st store.Store) error {
		l, err := st.Keys().List(ctx, tenant)
		if err != nil {
			return err
		}
		now := m.now()
		for _, k := range l {
			if k.State != store.KeyLegacy || k.Alg != alg {
				continue
			}
			k.State, k.RetiredAt = store.KeyLegacyRetired, &now
			if err := st.Keys().Update(ctx, k); err != nil {
				return err
			}
		}
		kid := token.NewTimeID(now)
		sealed, err := seal(m.o.Master, tenant, kid, secret)
		if err != nil {
			return err
		}
		return st.Keys().Create(ctx, store.Key{Tenant: tenant, ID: kid, Alg: alg, State: store.KeyLegacy, Private: sealed, CreatedAt: now})
	})
	m.Invalidate(tenant)
	return store.Fault(err)
}

// EnsureLegacy gives the tenant a random legacy HMAC secret if it has
// none, and reports whether it made one.
func (m *Manager) EnsureLegacy(ctx context.Context, tenant string) (bool, error) {
	s, err := m.set(ctx, tenant)
	if err != nil {
		return false, store.Fault(err)
	}
	if s.legacy != nil {
		return false, nil
	}
	secret := make([]byte, MinLegacySecret)
	if _, err := rand.Read(secret); err != nil {
		return false, err
	}
	return true, m.ImportLegacy(ctx, tenant, secret)
}

// HasLegacy reports whether the tenant has a legacy HMAC secret.
func (m *Manager) HasLegacy(ctx context.Context, tenant string) (bool, error) {
	s, err := m.set(ctx, tenant)
	if err != nil {
		return false, store.Fault(err)
	}
	return s.legacy != nil, nil
}

// SignCompact signs payload, a JSON object, as a compact HS256 token with
// the tenant's legacy secret.
func (m *Manager) SignCompact(ctx context.Context, tenant string, payload []byte) (string, error) {
	s, err := m.set(ctx, tenant)
	if err != nil {
		return "", store.Fault(err)
	}
	if s.legacy == nil {
		return "", fault.Forbidden("the tenant has no legacy HMAC secret for compact HS256 tokens")
	}
	var b strings.Builder
	b.Grow(len(compactHeader) + 1 + base64.RawURLEncoding.EncodedLen(len(payload)) + 44)
	b.WriteString(compactHeader)
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(payload))
	mac := hmac.New(sha256.New, s.legacy)
	mac.Write([]byte(b.String()))
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
	return b.String(), nil
}

// IsCompact reports whether raw looks like a compact HS256 token (its
// header is HS256 without a kid), without verifying anything.
func IsCompact(raw string) bool {
	h, _, ok := strings.Cut(raw, ".")
	if !ok || len(h) > 256 {
		return false
	}
	if h == compactHeader {
		return true
	}
	_, err := compactHeaderOK(h)
	return err == nil
}

// compactHeaderOK accepts the header of a compact token: a JSON object
// with alg HS256 and at most typ "JWT" beside it (PyJWT writes that typ),
// nothing else (no kid, no crit).
func compactHeaderOK(h string) (bool, error) {
	if h == compactHeader {
		return true, nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(h)
	if err != nil {
		return false, err
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&v); err != nil || d.More() {
		return false, errors.New("header is not one JSON object")
	}
	if v["alg"] != HS256 {
		return false, errors.New("alg is not HS256")
	}
	for k, val := range v {
		switch {
		case k == "alg":
		case k == "typ" && val == "JWT":
		default:
			return false, errors.New("unexpected header field")
		}
	}
	return true, nil
}

// VerifyCompact checks the signature of a compact HS256 token with the
// tenant's legacy secret (constant time) and returns its payload, still
// to be validated as claims. Failures are invalid_token faults; a store
// that cannot be read is an unavailable fault.
func (m *Manager) VerifyCompact(ctx context.Context, tenant, raw string) ([]byte, error) {
	if len(raw) > maxCompact {
		return nil, fault.InvalidToken("malformed token")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fault.InvalidToken("malformed token")
	}
	if _, err := compactHeaderOK(parts[0]); err != nil {
		return nil, fault.InvalidToken("malformed token")
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		return nil, fault.InvalidToken("malformed token")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return nil, fault.InvalidToken("malformed token")
	}
	s, err := m.set(ctx, tenant)
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	if s.legacy == nil {
		return nil, fault.InvalidToken("unknown issuer")
	}
	mac := hmac.New(sha256.New, s.legacy)
	mac.Write([]byte(raw[:len(parts[0])+1+len(parts[1])]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return nil, fault.InvalidToken("bad signature")
	}
	return payload, nil
}
