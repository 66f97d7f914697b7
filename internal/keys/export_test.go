package keys

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"

	"github.com/golang-jwt/jwt/v5"
)

// SignRaw signs any header and payload with the tenant's active key, so
// tests can build tokens tokend itself would never issue.
func SignRaw(ctx context.Context, m *Manager, tenant string, hdr map[string]any, payload string) string {
	s, err := m.set(ctx, tenant)
	if err != nil {
		panic(err)
	}
	h, _ := json.Marshal(hdr)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + payload
	sig, err := s.active.method.Sign(signing, s.active.sign)
	if err != nil {
		panic(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// ConfusedHS256 signs with HS256 using the tenant's public key as the HMAC
// secret: the classic algorithm-confusion attack.
func ConfusedHS256(ctx context.Context, m *Manager, tenant string, hdr map[string]any, payload string) string {
	s, err := m.set(ctx, tenant)
	if err != nil {
		panic(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(s.active.public)
	h, _ := json.Marshal(hdr)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + payload
	sig, _ := jwt.SigningMethodHS256.Sign(signing, der)
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}
