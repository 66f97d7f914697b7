package exchange

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/internal/store"
)

// Algorithms are the JWS algorithms a trusted issuer may be allowed
// (RFC 7518 §3.1, RFC 8037): asymmetric only. none is never accepted, and
// HS* never, since an HMAC key is not something an issuer publishes.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Limits on what is read from a presented token.
const (
	// MaxTokenBytes bounds a subject, actor or assertion token.
	MaxTokenBytes = 16 << 10
	// MaxAudiences bounds the aud entries of a presented token.
	MaxAudiences = 64
)

// CheckSettings reports the first problem of a trusted issuer's URL and
// settings as (field, message); "" when there is none. It fills in the
// defaults (user claim sub, groups and roles claims).
func CheckSettings(issuer string, s *store.IssuerSettings) (field, msg string) {
	if m := CheckURL(issuer); m != "" {
		return "issuer", m
	}
	if len(s.Audiences) == 0 {
		return "audiences", "at least one accepted audience is required"
	}
	for _, a := range s.Audiences {
		if a == "" || len(a) > 512 {
			return "audiences", "an audience must be 1 to 512 bytes"
		}
	}
	if len(s.Algorithms) == 0 {
		return "algorithms", "an explicit list of signing algorithms is required, e.g. [\"RS256\"]"
	}
	for _, a := range s.Algorithms {
		if !slices.Contains(Algorithms, a) {
			if a == "none" || strings.HasPrefix(a, "HS") {
				return "algorithms", fmt.Sprintf("%q is never accepted from another issuer", a)
			}
			return "algorithms", fmt.Sprintf("unknown algorithm %q (one of %s)", a, strings.Join(Algorithms, ", "))
		}
	}
	if s.UserClaim == "" {
		s.UserClaim = "sub"
	}
	if s.GroupsClaim == "" {
		s.GroupsClaim = "groups"
	}
	if s.RolesClaim == "" {
		s.RolesClaim = "roles"
	}
	for f, c := range map[string]string{"user_claim": s.UserClaim, "groups_claim": s.GroupsClaim, "roles_claim": s.RolesClaim} {
		if len(c) > 64 || strings.ContainsAny(c, " \t\r\n\"") {
			return f, "a claim name of at most 64 characters without spaces or quotes"
		}
	}
	if s.MaxAge < 0 {
		return "max_age", "must not be negative"
	}
	if s.IntrospectionURL != "" {
		if m := CheckURL(s.IntrospectionURL); m != "" {
			return "introspection_url", m
		}
		if s.IntrospectionClientID == "" {
			return "introspection_client_id", "is required with introspection_url"
		}
	}
	return "", ""
}

// CheckURL reports what makes u unfit as an issuer or endpoint URL: it
// must be absolute, https (http only for a loopback host), without query
// or fragment.
func CheckURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() || p.Host == "" {
		return "must be an absolute URL"
	}
	if p.RawQuery != "" || p.Fragment != "" || strings.Contains(u, "#") {
		return "must have no query or fragment"
	}
	switch p.Scheme {
	case "https":
	case "http":
		if !Loopback(p.Hostname()) {
			return "must use https (plain http only for a loopback host)"
		}
	default:
		return "must use https"
	}
	return ""
}

// Loopback reports whether host names this machine: localhost or a
// loopback address.
func Loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
