package token

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"
)

// sessionHexChars is the length of a session value's random part.
const sessionHexChars = 64

// NewSession returns a customer access token in BigCommerce's form
// (store.FormatSession): 256 random bits as 64 lower-case hex characters,
// "_", and exp in unix seconds ("53ea…0de7_1721406629"). Shown once and
// stored only as its Hash.
func NewSession(exp time.Time) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:]) + "_" + strconv.FormatInt(exp.Unix(), 10)
}

// IsSession reports whether v has the form of a NewSession value.
func IsSession(v string) bool {
	if len(v) < sessionHexChars+2 || len(v) > sessionHexChars+1+19 || v[sessionHexChars] != '_' {
		return false
	}
	for i := range sessionHexChars {
		if c := v[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	n, err := strconv.ParseInt(v[sessionHexChars+1:], 10, 64)
	return err == nil && n > 0 && v[sessionHexChars+1] != '0'
}
