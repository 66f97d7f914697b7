package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// sealVersion is the first byte of sealed material: the layout
// version || nonce (12 bytes) || AES-256-GCM ciphertext and tag.
const sealVersion = 1

// errOpen is returned for sealed material that does not open: wrong master
// key, corruption, or material moved to another tenant or kid.
var errOpen = errors.New("keys: sealed key does not open under this master key, tenant and kid")

// aad binds sealed material to its tenant and kid, so a sealed key copied
// to another tenant or key id fails to open. Both parts are length-prefixed
// so that no two (tenant, kid) pairs share an encoding.
func aad(tenant, kid string) []byte {
	b := make([]byte, 0, 16+len(tenant)+len(kid))
	b = append(b, "tokend-key-v1"...)
	b = appendLenPrefixed(b, tenant)
	b = appendLenPrefixed(b, kid)
	return b
}

func appendLenPrefixed(b []byte, s string) []byte {
	n := len(s)
	b = append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(b, s...)
}

func newGCM(master []byte) (cipher.AEAD, error) {
	if len(master) != MasterSize {
		return nil, fmt.Errorf("keys: master key must be %d bytes", MasterSize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plain under master with a random 12-byte nonce, bound to
// tenant and kid.
func seal(master []byte, tenant, kid string, plain []byte) ([]byte, error) {
	gcm, err := newGCM(master)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+gcm.NonceSize(), 1+gcm.NonceSize()+len(plain)+gcm.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return gcm.Seal(out, out[1:], plain, aad(tenant, kid)), nil
}

// open decrypts what seal produced for the same master, tenant and kid.
func open(master []byte, tenant, kid string, sealed []byte) ([]byte, error) {
	gcm, err := newGCM(master)
	if err != nil {
		return nil, err
	}
	ns := gcm.NonceSize()
	if len(sealed) < 1+ns+gcm.Overhead() || sealed[0] != sealVersion {
		return nil, errOpen
	}
	plain, err := gcm.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad(tenant, kid))
	if err != nil {
		return nil, errOpen
	}
	return plain, nil
}

// DeriveKey returns a 32-byte secret for purpose, derived from the master
// key with HKDF-SHA256 (RFC 5869): replicas sharing the master key derive
// the same secret, and a derived secret reveals neither the master key nor
// the secret of another purpose.
func (m *Manager) DeriveKey(purpose string) ([]byte, error) {
	return hkdf.Key(sha256.New, m.o.Master, nil, "tokend-derived-v1:"+purpose, 32)
}
