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

// CheckUse applies the rules of a token's kind to the request that
// presents it; tokend's gateway check applies the same function.
//   - refresh tokens are never accepted as access tokens;
//   - storefront tokens need an Origin header equal (scheme, host, port)
//     to one of the token's origins;
//   - private tokens are for server-to-server calls: a request carrying
//     browser signals (Origin, Sec-Fetch-Mode, Sec-Fetch-Site, Cookie) is
//     refused.
func CheckUse(c *claims.Claims, h http.Header) error {
	switch c.Kind {
	case claims.KindRefresh:
		return invalid("a refresh token is not an access token")
	case claims.KindStorefront:
		o := h.Get("Origin")
		if o == "" {
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
	case claims.KindPrivate:
		for _, k := range []string{"Origin", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Cookie"} {
			if h.Get(k) != "" {
				return forbidden("a private token is for server-to-server use; the request carries %s", k)
			}
		}
	}
	return nil
}

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

// NormalizeOrigin returns scheme://host[:port] in lower case with the
// scheme's default port dropped, and whether o is a valid origin.
func NormalizeOrigin(o string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}
