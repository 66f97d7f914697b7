// Package claims is the wire shape of a tokend token: every claim name is
// defined here, once. It is public so that resource servers can decode
// tokend tokens; it imports nothing from tokend's internals.
//
// Access tokens are JWTs per RFC 9068 (header typ "at+jwt").
package claims

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// JWTType is the "typ" header of tokend access tokens (RFC 9068 §2.1).
const JWTType = "at+jwt"

// Token kinds.
const (
	KindAccess        = "access"
	KindRefresh       = "refresh"
	KindDevice        = "device"
	KindStorefront    = "storefront"
	KindPrivate       = "private"
	KindImpersonation = "impersonation"
	KindCustomer      = "customer"
	KindAdmin         = "admin"
)

// Scopes with a meaning to tokend itself.
const (
	// ScopeAdmin grants the admin API: of every tenant when the token was
	// issued by the system tenant, of its own tenant otherwise.
	ScopeAdmin = "tokend:admin"
)

// SystemTenant is the tenant whose admins manage every tenant.
const SystemTenant = "system"

// Claims is the payload of a tokend JWT.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  Audience `json:"aud,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"` // absent: eternal
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf,omitempty"`
	ID        string   `json:"jti"`
	ClientID  string   `json:"client_id,omitempty"`
	Scope     string   `json:"scope,omitempty"` // space-separated (RFC 8693 §4.2)

	Kind        string   `json:"kind,omitempty"`
	SubjectType string   `json:"sub_type,omitempty"` // user, client, device, customer
	Roles       []string `json:"roles,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	Resources   []string `json:"resources,omitempty"`
	Act         *Actor   `json:"act,omitempty"` // RFC 8693 §4.1
	// IDP is the external issuer whose token an RFC 8693 exchange or RFC
	// 7523 jwt-bearer grant turned into this one.
	IDP       string   `json:"idp,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	Origins   []string `json:"origins,omitempty"`
	Channels  []string `json:"channels,omitempty"`
	// ServerSide lets a storefront token be used without an Origin, by a
	// server (never from a browser).
	ServerSide bool `json:"srv,omitempty"`
	// LifetimeEnd is when renewal stops being possible (unix seconds).
	LifetimeEnd int64 `json:"lte,omitempty"`
	// ScopeList is the scope as an array, as league/oauth2-server writes
	// it ("scopes"); only tokens of the league profile carry it, beside
	// Scope.
	ScopeList []string `json:"scopes,omitempty"`
	// SubjectID is tokend's id of the subject when "sub" carries another
	// name for it (the league profile's login); revocations by subject
	// name the id.
	SubjectID string `json:"uid,omitempty"`
}

// SubjectKey is the subject as tokend's revocations name it: SubjectID
// when the token has one, else Subject.
func (c *Claims) SubjectKey() string {
	if c.SubjectID != "" {
		return c.SubjectID
	}
	return c.Subject
}

// HasRole reports whether the token carries role r. A resource that
// admits only some roles admits a token that carries any one of them
// (see verify.RequireRole); tokend's gateway check and the compatible
// surfaces apply the same rule.
func (c *Claims) HasRole(r string) bool {
	for _, x := range c.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Scopes returns the scope claim split on spaces.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool {
	for _, x := range c.Scopes() {
		if x == s {
			return true
		}
	}
	return false
}

// Actor is the RFC 8693 "act" claim: who acts for the subject.
type Actor struct {
	Subject string `json:"sub"`
	// Issuer is the actor's issuer when it is another provider.
	Issuer   string `json:"iss,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Act      *Actor `json:"act,omitempty"`
}

// Audience is the "aud" claim: one string or an array (RFC 7519 §4.1.3).
type Audience []string

// MarshalJSON writes a single audience as a string.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("claims: aud must be a string or an array of strings")
	}
	*a = l
	return nil
}

// Contains reports whether aud is one of the audiences.
func (a Audience) Contains(aud string) bool {
	for _, x := range a {
		if x == aud {
			return true
		}
	}
	return false
}

// NormalizeOrigin returns scheme://host[:port] in lower case with the
// scheme's default port dropped, and whether o is a valid http(s) origin.
// Storefront tokens carry normalized origins; a request's Origin matches
// when it normalizes to one of them.
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
	if host == "" {
		return "", false
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", false
		}
	}
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

// IsCompactHS256 reports whether raw's header is an HS256 one without a
// kid — a compact legacy token (a Knock store token of ruby-jwt, or one
// PyJWT makes with typ JWT), whose secret is shared with the legacy
// application and never with resource servers — without verifying
// anything. Such tokens are checked by introspection, which answers from
// storage (a rotation is final there at its commit).
func IsCompactHS256(raw string) bool {
	h, _, ok := strings.Cut(raw, ".")
	if !ok || len(h) > 256 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil || !mayNameHS256(b) {
		return false
	}
	var hdr map[string]any
	if json.Unmarshal(b, &hdr) != nil || hdr["alg"] != "HS256" {
		return false
	}
	_, kid := hdr["kid"]
	return !kid
}

// mayNameHS256 reports whether the JSON text hdr may hold the string
// "HS256": it does if it has those bytes, or any escape (a string could
// spell them with one). A JOSE header without either is no HS256 header,
// which spares decoding it (tokend's own tokens are ES256 by default).
func mayNameHS256(hdr []byte) bool {
	return bytes.Contains(hdr, []byte("HS256")) || bytes.IndexByte(hdr, '\\') >= 0
}
