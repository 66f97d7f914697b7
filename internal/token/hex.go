package token

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// HexChars is the length of a hex value (NewHex).
const HexChars = 32

// NewHex returns 128 random bits as 32 upper-case hex characters, the
// form of seed 004's tokens (store.FormatHex). Like every opaque value it
// is shown once and stored only as its Hash.
func NewHex() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// IsHex reports whether v has the form of a NewHex value: 32 hex
// characters. Lower case is accepted, since a client may re-case it, and
// CanonicalHex restores the form that was hashed.
func IsHex(v string) bool {
	if len(v) != HexChars {
		return false
	}
	for i := range len(v) {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// CanonicalHex returns a hex value in upper case, the form NewHex made
// and Hash saw.
func CanonicalHex(v string) string { return strings.ToUpper(v) }
