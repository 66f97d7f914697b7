package verify

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/claims"
)

// Error is a refused token or request, with the RFC 6750 §3.1 error code
// and the HTTP status a resource server answers with.
type Error struct {
	Status      int    // 401 or 403
	Code        string // invalid_token, insufficient_scope or forbidden
	Description string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalid(format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Description: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: "forbidden", Description: fmt.Sprintf(format, args...)}
}

// CheckAudience refuses a token whose aud does not hold audience
// (RFC 9068 §4), with "audience mismatch"; an empty audience accepts any.
// The verifier and tokend's gateway check (?audience=) apply it alike.
func CheckAudience(c *claims.Claims, audience string) error {
	if audience == "" || c.Audience.Contains(audience) {
		return nil
	}
	return audienceMismatch(audience)
}

func audienceMismatch(audience string) *Error {
	return invalid("audience mismatch: the token is not for %q", audience)
}

// CheckUse applies the rules of a token's kind to the request that
// presents it; tokend's gateway check applies the same function.
//   - refresh tokens are never accepted as access tokens;
//   - storefront tokens need an Origin header equal (scheme, host, port)
//     to one of the token's origins, unless minted for server-side use
//     (srv) and used without browser signals;
//   - private and impersonation tokens are for server-to-server calls: a
//     request carrying browser signals (Origin, Sec-Fetch-Site, Cookie;
//     see [FromBrowser]) is refused;
//   - impersonation tokens need the acted-for customer in CustomerHeader
//     (whether that customer exists only tokend's gateway check can say);
//   - any other token bound to origins (a user token bound to its
//     referrer) is accepted only from one of them (Referer, else Origin);
//   - a request with more than one Origin (see [Origin]) is refused.
func CheckUse(c *claims.Claims, h http.Header) error {
	if c.Kind == claims.KindRefresh {
		return invalid("a refresh token is not an access token")
	}
	o, err := Origin(h)
	if err != nil {
		return err
	}
	switch c.Kind {
	case claims.KindStorefront:
		if o == "" {
			// Server-side use, where the tenant's policy allowed it at
			// mint time; a browser always sends Origin or Sec-Fetch-*.
			if c.ServerSide && h.Get("Sec-Fetch-Site") == "" {
				return nil
			}
			return forbidden("a storefront token needs the request's Origin")
		}
		want, ok := NormalizeOrigin(o)
		if !ok {
			return forbidden("malformed Origin")
		}
		for _, allowed := range c.Origins {
			if n, ok := NormalizeOrigin(allowed); ok && n == want {
				return nil
			}
		}
		return forbidden("origin %s is not allowed for this token", want)
	case claims.KindPrivate, claims.KindImpersonation:
		for _, k := range BrowserSignals {
			if h.Get(k) != "" {
				return forbidden("a %s token is for server-to-server use; the request carries %s", c.Kind, k)
			}
		}
		if c.Kind == claims.KindImpersonation && h.Get(CustomerHeader) == "" {
			return forbidden("an impersonation token needs the customer in %s", CustomerHeader)
		}
	default:
		if len(c.Origins) > 0 {
			// Bound to the referrer it was minted from (seed 004).
			from, ok := RequestOrigin(h)
			if !ok || !slices.Contains(c.Origins, from) {
				return forbidden("the token is bound to another origin")
			}
		}
	}
	return nil
}

// RequestOrigin is the origin a request comes from: its Referer's, else
// its Origin header. More than one Referer or Origin gives none.
func RequestOrigin(h http.Header) (string, bool) {
	if ref, ok := single(h, "Referer"); !ok {
		return "", false
	} else if ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Host == "" {
			return "", false
		}
		return claims.NormalizeOrigin(u.Scheme + "://" + u.Host)
	}
	o, err := Origin(h)
	if err != nil || o == "" {
		return "", false
	}
	return claims.NormalizeOrigin(o)
}

// Origin returns the request's Origin header, "" when it has none. A
// browser sends exactly one origin (RFC 6454 §7.3, Fetch §3.2.5): two
// Origin headers, or one holding a list (space-separated as in RFC 6454
// §7.1, or comma-joined by a proxy merging repeated headers), mean the
// request was forged or mangled, and reading only the first would let a
// sender choose which one a check sees. Such a request is refused (403).
func Origin(h http.Header) (string, error) {
	o, ok := single(h, "Origin")
	if !ok || strings.ContainsAny(o, ", \t") {
		return "", forbidden("the request carries more than one Origin")
	}
	return o, nil
}

// single returns the one value of header k ("" when absent); ok is false
// when k appears more than once.
func single(h http.Header, k string) (v string, ok bool) {
	vs := h.Values(k)
	switch len(vs) {
	case 0:
		return "", true
	case 1:
		return strings.TrimSpace(vs[0]), true
	}
	return "", false
}

// CustomerHeader names, on a request made with an impersonation token, the
// customer the caller acts for.
const CustomerHeader = "X-Tokend-Customer-Id"

// RequireScopes refuses a token missing any of scopes (RFC 6750 §3.1
// insufficient_scope).
func RequireScopes(c *claims.Claims, scopes ...string) error {
	have := c.Scopes()
	for _, s := range scopes {
		if !slices.Contains(have, s) {
			return &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Description: "the token lacks scope " + s}
		}
	}
	return nil
}

// RequireRole refuses (403 forbidden) a token that carries none of roles;
// no roles accepts any token. tokend's gateway check (?role=) and its
// compatible surfaces apply the same rule, claims.Claims.HasRole.
func RequireRole(c *claims.Claims, roles ...string) error {
	if len(roles) == 0 {
		return nil
	}
	for _, r := range roles {
		if c.HasRole(r) {
			return nil
		}
	}
	return forbidden("the token carries none of the roles %s", strings.Join(roles, ", "))
}

// NormalizeOrigin is claims.NormalizeOrigin.
func NormalizeOrigin(o string) (string, bool) { return claims.NormalizeOrigin(o) }

// CheckChannel refuses (403 forbidden) a token bound to channels (seed
// 001's channel_ids) used on another channel; a token bound to none, or
// an empty channel, accepts any. The GraphQL Storefront surface, the
// gateway check (?channel=) and resource servers apply it alike.
func CheckChannel(c *claims.Claims, channel string) error {
	if channel == "" || len(c.Channels) == 0 || slices.Contains(c.Channels, channel) {
		return nil
	}
	return forbidden("the token is not valid on channel %s", channel)
}

// BrowserSignals are the request headers that only a browser sends on
// its own: Origin (on every cross-origin request and every POST),
// Sec-Fetch-Site (Fetch Metadata, on every request of a current browser)
// and Cookie. Sec-Fetch-Mode alone is not one: Node's built-in fetch
// (undici), which server-side storefronts use, sends "Sec-Fetch-Mode:
// cors" on every request, while a browser sends it only together with
// Sec-Fetch-Site.
var BrowserSignals = []string{"Origin", "Sec-Fetch-Site", "Cookie"}

// FromBrowser reports whether a request carries any of BrowserSignals.
func FromBrowser(h http.Header) bool {
	for _, k := range BrowserSignals {
		if h.Get(k) != "" {
			return true
		}
	}
	return false
}
