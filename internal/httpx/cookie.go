package httpx

import (
	"net/http"
	"time"
)

// SessionCookie is the cookie a browser session token is delivered in,
// by every surface that delivers one.
const SessionCookie = "tokend_session"

// MaxCookie is the cookie size RFC 6265 §6.1 lets a server count on: a
// user agent stores at least 4096 bytes per cookie, name, value and
// attributes together. A larger cookie may be dropped silently.
const MaxCookie = 4096

// TokenCookie returns the cookie that delivers a token: HttpOnly, Secure,
// SameSite=Strict, for the whole site, expiring with the token (nil
// expires: a session cookie).
func TokenCookie(name, value string, expires *time.Time) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
	if expires != nil {
		c.Expires = *expires
	}
	return c
}

// CookieRoom is the longest token TokenCookie(name, …) carries within
// MaxCookie, whatever its expiry (an Expires attribute has one length).
func CookieRoom(name string) int {
	probe := time.Unix(0, 0)
	return MaxCookie - len(TokenCookie(name, "", &probe).String())
}
