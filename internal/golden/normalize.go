package golden

import (
	"regexp"
	"strings"
)

// Volatile names the JSON members whose values change from run to run and
// are not caught by their shape: times in Unix seconds, the jti, and key
// ids and public key material of a JWK Set.
var Volatile = []string{"jti", "iat", "exp", "nbf", "auth_time", "expires_at", "lifetime_end", "lte", "kid", "x", "y", "n"}

// rule replaces what re matches by repl (regexp.Expand syntax).
type rule struct {
	re   *regexp.Regexp
	repl string
}

// rules are applied in order; each leaves the others' placeholders alone,
// so Normalize(Normalize(b)) == Normalize(b).
var rules = []rule{
	// A JWT (RFC 7519 compact form: two base64url JSON segments and a signature).
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`), `<jwt>`},
	// An opaque token or generated secret (tkd_<tag>_<43 random><6 checksum>): the tag stays.
	{regexp.MustCompile(`tkd_([a-z]{1,8})_[A-Za-z0-9_-]{49}`), `tkd_${1}_<opaque>`},
	// A volatile JSON member: its name and spacing stay, a string value becomes
	// "<name>" and a number <name>, so a change of type still shows.
	{regexp.MustCompile(`"(` + strings.Join(Volatile, "|") + `)"(\s*:\s*)"(?:[^"\\]|\\.)*"`), `"${1}"${2}"<${1}>"`},
	{regexp.MustCompile(`"(` + strings.Join(Volatile, "|") + `)"(\s*:\s*)-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`), `"${1}"${2}<${1}>`},
	// A generated id (token.NewID, token.NewTimeID: 26 base32hex characters):
	// user ids, session ids, token ids, key ids.
	{regexp.MustCompile(`\b[0-9a-v]{26}\b`), `<id>`},
	// An RFC 3339 time that is a whole JSON string (one inside a text, such
	// as an example in an error description, stays).
	{regexp.MustCompile(`"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})"`), `"<time>"`},
	// An HTTP date (RFC 9110 §5.6.7), as in a cookie's Expires.
	{regexp.MustCompile(`(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT`), `<http-date>`},
	// The port of a loopback URL (test servers listen on a random one).
	{regexp.MustCompile(`(://(?:127\.0\.0\.1|localhost|\[::1\])):[0-9]+`), `${1}:<port>`},
}

// Normalize replaces the volatile values in b by stable placeholders and
// leaves every other byte as it is (member order, spacing, newlines):
//
//	eyJ….eyJ….sig                    <jwt>
//	tkd_rt_<49 characters>           tkd_rt_<opaque>
//	"exp":1767225600, "kid":"…"      "exp":<exp>, "kid":"<kid>"   (the names in [Volatile])
//	26 base32hex characters          <id>
//	"2026-01-02T15:04:05.123Z"       "<time>"
//	Fri, 02 Jan 2026 15:04:05 GMT    <http-date>
//	http://127.0.0.1:41234           http://127.0.0.1:<port>
func Normalize(b []byte) []byte {
	for _, r := range rules {
		b = r.re.ReplaceAll(b, []byte(r.repl))
	}
	return b
}
