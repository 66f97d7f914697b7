package dotkernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
)

// Texts of league/oauth2-server 8.5 (src/Exception/OAuthServerException.php)
// and of Dotkernel API (config authentication.invalid_credentials,
// src/App/src/Message.php).
const (
	textInvalidRequest   = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."
	textUnsupportedGrant = "The authorization grant type is not supported by the authorization server."
	hintUnsupported      = "Check that all required parameters have been provided"
	textInvalidClient    = "Client authentication failed"
	textInvalidClientID  = "Invalid client_id."
	textInvalidScope     = "The requested scope is invalid, unknown, or malformed"
	textInvalidRefresh   = "The refresh token is invalid."
	textCredentials      = "Invalid credentials."
	textInactive         = "User account must be activated first."
	textUnauthorized     = "The client is not authorized to request an access token using this method."
	textServerError      = "The authorization server encountered an unexpected condition which prevented it from fulfilling the request: "
	textNotAllowed       = "You are not allowed to access this resource."

	hintDecrypt   = "Cannot decrypt the refresh token"
	hintRevoked   = "Token has been revoked"
	hintExpired   = "Token has expired"
	hintNotLinked = "Token is not linked to client"
)

// tokenResponse is league's BearerTokenResponse, members in its order.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// leagueError is OAuthServerException's payload: error, error_description,
// hint when there is one, and message, a copy of error_description that
// league 8 still writes for older clients.
type leagueError struct {
	status      int
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Hint        string `json:"hint,omitempty"`
	Message     string `json:"message"`
	retryAfter  int
}

func newError(status int, code, desc, hint string) leagueError {
	return leagueError{status: status, Error: code, Description: desc, Hint: hint, Message: desc}
}

// writeToken writes a successful token response with league's headers.
func writeToken(w http.ResponseWriter, res grant.Response) {
	h := w.Header()
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-store")
	writeJSON(w, "application/json; charset=UTF-8", http.StatusOK, tokenResponse{
		TokenType: res.TokenType, ExpiresIn: res.ExpiresIn, AccessToken: res.AccessToken, RefreshToken: res.RefreshToken,
	})
}

// tokenError maps what refused a token request to league's answer, as
// Dotkernel's ErrorResponseMiddleware passes it on (it rewrites a 400
// invalid_grant without hint, the wrong-password answer, to "Invalid
// credentials."). This is the one place a fault becomes a status and text.
func tokenError(err error, gt string) leagueError {
	var br *badRequest
	if errors.As(err, &br) {
		switch {
		case br.unsupported:
			return newError(http.StatusBadRequest, "unsupported_grant_type", textUnsupportedGrant, hintUnsupported)
		case br.tooLarge:
			return newError(http.StatusRequestEntityTooLarge, "invalid_request", textInvalidRequest, "The request body is too large")
		case br.param == "":
			return newError(http.StatusBadRequest, "invalid_request", textInvalidRequest, "The request body must be a JSON object")
		}
		return newError(http.StatusBadRequest, "invalid_request", textInvalidRequest, "Check the `"+br.param+"` parameter")
	}
	f := fault.As(err)
	if f == nil {
		f = fault.Internal(err)
	}
	switch f.Code {
	case fault.CodeInvalidRequest:
		if f.Reason == fault.ReasonMissing {
			return newError(http.StatusBadRequest, "invalid_request", textInvalidRequest, "Check the `"+f.Value+"` parameter")
		}
		return newError(http.StatusBadRequest, "invalid_request", textInvalidRequest, "Check the `client_id` parameter")
	case fault.CodeInvalidClient:
		if f.Reason == fault.ReasonClientNotServed {
			return newError(http.StatusUnauthorized, "invalid_client", textInvalidClientID, "")
		}
		return newError(http.StatusUnauthorized, "invalid_client", textInvalidClient, "")
	case fault.CodeUnsupportedGrantType:
		return newError(http.StatusBadRequest, "unsupported_grant_type", textUnsupportedGrant, hintUnsupported)
	case fault.CodeInvalidScope:
		if f.Value == "" {
			return newError(http.StatusBadRequest, "invalid_scope", textInvalidScope, "Specify a scope in the request or set a default scope")
		}
		return newError(http.StatusBadRequest, "invalid_scope", textInvalidScope, "Check the `"+phpEscape.Replace(f.Value)+"` scope")
	case fault.CodeUnauthorizedClient:
		return newError(http.StatusBadRequest, "unauthorized_client", textUnauthorized, "")
	case fault.CodeInvalidGrant:
		if gt == grant.RefreshToken {
			hint := hintRevoked
			switch f.Reason {
			case fault.ReasonMalformed:
				hint = hintDecrypt
			case fault.ReasonExpired:
				hint = hintExpired
			case fault.ReasonOtherClient:
				hint = hintNotLinked
			}
			return newError(http.StatusUnauthorized, "invalid_request", textInvalidRefresh, hint)
		}
		if f.Reason == fault.ReasonUserDisabled {
			return newError(http.StatusUnauthorized, "inactive_user", textInactive, "")
		}
		return newError(http.StatusBadRequest, textCredentials, textCredentials, "")
	case fault.CodeRateLimited:
		e := newError(http.StatusTooManyRequests, "invalid_request", "Too many failed attempts; try again later.", "")
		e.retryAfter = retrySeconds(f)
		return e
	case fault.CodeUnavailable:
		e := newError(http.StatusServiceUnavailable, "server_error", textServerError+"the token store is temporarily unavailable", "")
		e.retryAfter = retrySeconds(f)
		if e.retryAfter == 0 {
			e.retryAfter = 1
		}
		return e
	}
	return newError(http.StatusInternalServerError, "server_error", textServerError+"internal error", "")
}

// phpEscape is PHP's htmlspecialchars with ENT_QUOTES, which league
// applies to the scope it names in a hint.
var phpEscape = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "'", "&#039;", "<", "&lt;", ">", "&gt;")

func retrySeconds(f *fault.Error) int {
	if f.RetryAfter <= 0 {
		return 0
	}
	return int((f.RetryAfter + 999_999_999) / 1_000_000_000)
}

// writeTokenError writes e; an invalid_client answer to a request that
// carried an Authorization header challenges its scheme (RFC 6749 §5.2,
// as league does).
func writeTokenError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, e leagueError) {
	h := w.Header()
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-store")
	if e.Error == "invalid_client" {
		if auth := r.Header.Get("Authorization"); auth != "" {
			scheme := "Basic"
			if strings.HasPrefix(auth, "Bearer") {
				scheme = "Bearer"
			}
			h.Set("WWW-Authenticate", scheme+` realm="OAuth"`)
		}
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.status >= 500 {
		log.ErrorContext(r.Context(), "dotkernel token request failed", "err", err, "status", e.status)
	}
	writeJSON(w, "application/json", e.status, e)
}

// forbidden is Dotkernel's AuthorizationMiddleware answer to a guest, or
// to an account whose roles do not reach the route.
type forbidden struct {
	Error struct {
		Messages []string `json:"messages"`
	} `json:"error"`
}

func writeForbidden(w http.ResponseWriter) {
	var b forbidden
	b.Error.Messages = []string{textNotAllowed}
	writeJSON(w, "application/json", http.StatusForbidden, b)
}

// writeUnavailable answers a resource request the store could not serve,
// in Dotkernel's error shape.
func writeUnavailable(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	log.ErrorContext(r.Context(), "dotkernel resource request failed", "err", err)
	var b forbidden
	b.Error.Messages = []string{"The service is temporarily unavailable."}
	w.Header().Set("Retry-After", "1")
	writeJSON(w, "application/json", http.StatusServiceUnavailable, b)
}

// writeJSON writes v without escaping <, > and & (as PHP's json_encode
// writes them).
func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	b := []byte(`{"error":"server_error"}`)
	if err := enc.Encode(v); err == nil {
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	} else {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// phpDate is how PHP's json_encode writes a DateTimeImmutable, the type
// of Dotkernel's created and updated fields.
type phpDate struct {
	Date         string `json:"date"`
	TimezoneType int    `json:"timezone_type"`
	Timezone     string `json:"timezone"`
}

func dateOf(t time.Time) phpDate {
	return phpDate{Date: t.UTC().Format("2006-01-02 15:04:05.000000"), TimezoneType: 3, Timezone: "UTC"}
}

type role struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

type link struct {
	Href string `json:"href"`
}

type links struct {
	Self link `json:"self"`
}

// adminResource is Dotkernel's Admin entity (getArrayCopy) as mezzio-hal
// renders it, its self link the admin.view route.
type adminResource struct {
	UUID      string  `json:"uuid"`
	Identity  string  `json:"identity"`
	FirstName string  `json:"firstName"`
	LastName  string  `json:"lastName"`
	Status    string  `json:"status"`
	Roles     []role  `json:"roles"`
	Created   phpDate `json:"created"`
	Updated   phpDate `json:"updated"`
	Links     links   `json:"_links"`
}

type userDetail struct {
	FirstName string  `json:"firstName"`
	LastName  string  `json:"lastName"`
	Email     string  `json:"email"`
	Created   phpDate `json:"created"`
	Updated   phpDate `json:"updated"`
}

// userResource is Dotkernel's User entity (getArrayCopy) as mezzio-hal
// renders it, its self link the user.view route.
type userResource struct {
	UUID           string     `json:"uuid"`
	Hash           string     `json:"hash"`
	Identity       string     `json:"identity"`
	Status         string     `json:"status"`
	IsDeleted      bool       `json:"isDeleted"`
	Avatar         any        `json:"avatar"`
	Detail         userDetail `json:"detail"`
	Roles          []role     `json:"roles"`
	ResetPasswords []any      `json:"resetPasswords"`
	Created        phpDate    `json:"created"`
	Updated        phpDate    `json:"updated"`
	Links          links      `json:"_links"`
}

func (a acct) roleList(tenant string) []role {
	out := make([]role, 0, len(a.roles))
	for _, r := range a.roles {
		out = append(out, role{UUID: nameUUID(tenant, "role", r), Name: r})
	}
	return out
}

func (a acct) admin(tenant string) adminResource {
	status := "active"
	if a.disabled {
		status = "inactive"
	}
	return adminResource{UUID: a.uuid, Identity: a.identity, FirstName: a.first, LastName: a.last, Status: status,
		Roles: a.roleList(tenant), Created: dateOf(a.created), Updated: dateOf(a.updated),
		Links: links{Self: link{Href: "/admin/" + a.uuid}}}
}

func (a acct) user(tenant string) userResource {
	status := "active"
	if a.disabled {
		status = "pending"
	}
	email := ""
	if strings.Contains(a.identity, "@") {
		email = a.identity
	}
	return userResource{UUID: a.uuid, Hash: a.hash, Identity: a.identity, Status: status,
		Detail:         userDetail{FirstName: a.first, LastName: a.last, Email: email, Created: dateOf(a.created), Updated: dateOf(a.updated)},
		Roles:          a.roleList(tenant),
		ResetPasswords: []any{}, Created: dateOf(a.created), Updated: dateOf(a.updated),
		Links: links{Self: link{Href: "/user/" + a.uuid}}}
}

// writeHAL writes a HAL resource (mezzio-hal's media type for JSON).
func writeHAL(w http.ResponseWriter, v any) {
	writeJSON(w, "application/hal+json", http.StatusOK, v)
}

// writeNotFound answers a request on a host whose tenant does not serve
// the surface, in Dotkernel's error shape.
func writeNotFound(w http.ResponseWriter) {
	var b forbidden
	b.Error.Messages = []string{"Resource not found."}
	writeJSON(w, "application/json", http.StatusNotFound, b)
}
