package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"time"

	"github.com/tokend/tokend/revocation"
)

// Tags of opaque values. A tag is lowercase letters only.
const (
	TagAccess       = "at" // opaque access token / API key
	TagRefresh      = "rt"
	TagClientSecret = "cs"
	TagDeviceSecret = "ds"
	TagAdmin        = "adm"
)

const (
	prefix      = "tkd_"
	randomBytes = 32
	randomChars = 43 // base64url, no padding, of 32 bytes
	sumChars    = 6
	base62      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// ErrMalformed reports a value that is not a well-formed opaque value.
var ErrMalformed = errors.New("token: malformed opaque value")

// NewOpaque returns a fresh opaque value with tag.
func NewOpaque(tag string) string {
	var b [randomBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	body := prefix + tag + "_" + base64.RawURLEncoding.EncodeToString(b[:])
	return body + checksum(body)
}

// DeriveOpaque returns the opaque value with tag whose 256 bits are
// HMAC-SHA256(key, from) instead of fresh randomness: the same key and
// input always give the same value, and without key no one can compute it
// from from. key must be a secret of at least 32 bytes.
func DeriveOpaque(tag string, key []byte, from string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(from))
	body := prefix + tag + "_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	return body + checksum(body)
}

// ParseOpaque checks the shape and checksum of v and returns its tag; a
// league-profile refresh token (NewLeagueRefresh) has tag TagRefresh.
func ParseOpaque(v string) (tag string, err error) {
	if IsLeague(v) {
		if err := parseLeague(v); err != nil {
			return "", err
		}
		return TagRefresh, nil
	}
	if !strings.HasPrefix(v, prefix) {
		return "", ErrMalformed
	}
	rest := v[len(prefix):]
	i := strings.IndexByte(rest, '_')
	if i < 1 || i > 8 {
		return "", ErrMalformed
	}
	tag = rest[:i]
	for _, c := range tag {
		if c < 'a' || c > 'z' {
			return "", ErrMalformed
		}
	}
	if len(rest)-i-1 != randomChars+sumChars {
		return "", ErrMalformed
	}
	body, sum := v[:len(v)-sumChars], v[len(v)-sumChars:]
	if _, err := base64.RawURLEncoding.DecodeString(body[len(prefix)+i+1:]); err != nil {
		return "", ErrMalformed
	}
	if checksum(body) != sum {
		return "", ErrMalformed
	}
	return tag, nil
}

// IsOpaque reports whether v looks like an opaque value (prefix only),
// league-profile refresh tokens included.
func IsOpaque(v string) bool { return strings.HasPrefix(v, prefix) || IsLeague(v) }

// Hash returns the stored form of an opaque value or generated secret.
func Hash(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

func checksum(body string) string {
	n := crc32.ChecksumIEEE([]byte(body))
	out := make([]byte, sumChars)
	for i := sumChars - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

var idEncoding = base32.NewEncoding(revocation.IDAlphabet).WithPadding(base32.NoPadding)

// NewID returns a random 128-bit identifier as 26 lowercase base32hex
// characters, usable as a jti, a user id or a session id.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return idEncoding.EncodeToString(b[:])
}

// NewTimeID returns a random identifier whose first 8 bytes are the
// microsecond Unix time t, so the id says, exactly, when it was made: a
// revocation cutoff can then tell a token issued just before it from one
// issued just after it within the same second. It has the shape of NewID.
func NewTimeID(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMicro()))
	if _, err := rand.Read(b[8:]); err != nil {
		panic(err)
	}
	return idEncoding.EncodeToString(b[:])
}

// TimeOfID returns the time in an id made by NewTimeID.
func TimeOfID(id string) (time.Time, bool) { return revocation.TimeOfID(id) }

// HexOfID returns the 16 bytes of an id made by NewID or NewTimeID as 32
// lowercase hex characters, the shape of a Rails SecureRandom.hex jti;
// "" when id is not such an id.
func HexOfID(id string) string {
	if len(id) != 26 {
		return ""
	}
	b, err := idEncoding.DecodeString(id)
	if err != nil || len(b) != 16 {
		return ""
	}
	return hex.EncodeToString(b)
}

// IsHexID reports whether s is 32 lowercase hex characters (a jti as
// Rails' SecureRandom.hex makes it).
func IsHexID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// leaguePrefix starts every refresh token of the league profile, as the
// version header of defuse/php-encryption starts the encrypted refresh
// tokens of league/oauth2-server.
const leaguePrefix = "def50200"

// leagueChars is the length of a league-profile refresh token: the prefix,
// 64 hex digits of randomness and 8 of checksum.
const leagueChars = len(leaguePrefix) + 2*randomBytes + 8

// NewLeagueRefresh returns a fresh refresh token of the league profile
// (store.ProfileLeague): "def50200", 256 random bits in hex and a CRC-32
// checksum in hex. It is as strong as NewOpaque's and parses with
// ParseOpaque as a TagRefresh value.
func NewLeagueRefresh() string {
	var b [randomBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return leagueValue(b[:])
}

// DeriveLeagueRefresh is DeriveOpaque for league-profile refresh tokens.
func DeriveLeagueRefresh(key []byte, from string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(from))
	return leagueValue(m.Sum(nil))
}

// IsLeague reports whether v has the shape of a league-profile refresh
// token (prefix only).
func IsLeague(v string) bool { return strings.HasPrefix(v, leaguePrefix) }

func leagueValue(b []byte) string {
	body := leaguePrefix + hex.EncodeToString(b)
	return body + fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body)))
}

func parseLeague(v string) error {
	if len(v) != leagueChars || strings.ToLower(v) != v {
		return ErrMalformed
	}
	body, sum := v[:len(v)-8], v[len(v)-8:]
	if _, err := hex.DecodeString(body[len(leaguePrefix):]); err != nil {
		return ErrMalformed
	}
	if fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))) != sum {
		return ErrMalformed
	}
	return nil
}

// NewLeagueID returns a token id of the league profile: 80 lowercase hex
// digits (league's bin2hex(random_bytes(40))) whose first 8 bytes are the
// microsecond Unix time t, so that TimeOfID reads it like a NewTimeID.
func NewLeagueID(t time.Time) string {
	var b [40]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMicro()))
	if _, err := rand.Read(b[8:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}
