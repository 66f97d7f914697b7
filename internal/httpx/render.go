package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/reqctx"
	"github.com/tokend/tokend/internal/store"
)

// ErrorBody is the JSON shape of every tokend error (RFC 6749 §5.2 names).
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Field       string `json:"field,omitempty"`
}

// Status maps a fault code to its HTTP status.
func Status(code fault.Code) int {
	switch code {
	case fault.CodeInvalidRequest, fault.CodeInvalidGrant, fault.CodeUnauthorizedClient,
		fault.CodeUnsupportedGrantType, fault.CodeInvalidScope, fault.CodeUnsupportedTokenType, fault.CodeInvalidTarget:
		return http.StatusBadRequest
	case fault.CodeInvalidClient, fault.CodeInvalidToken, fault.CodeUnauthenticated:
		return http.StatusUnauthorized
	case fault.CodeForbidden, fault.CodeAccessDenied, fault.CodeInsufficientScope:
		return http.StatusForbidden
	case fault.CodeNotFound:
		return http.StatusNotFound
	case fault.CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case fault.CodeConflict:
		return http.StatusConflict
	case fault.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case fault.CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case fault.CodeValidation:
		return http.StatusUnprocessableEntity
	case fault.CodeRateLimited, fault.CodeSlowDown:
		return http.StatusTooManyRequests
	case fault.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// AsFault turns any error into a *fault.Error: storage errors map to their
// codes, anything unknown becomes an internal error (its text only logged).
func AsFault(err error) *fault.Error {
	if f := fault.As(err); f != nil {
		return f
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.NotFound("not found").WithCause(err)
	case errors.Is(err, store.ErrConflict):
		return fault.Conflict("already exists").WithCause(err)
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Out of time (the request's deadline) is a dependency that did
		// not answer in time, never an internal error.
		return fault.Unavailable(err)
	default:
		return fault.Internal(err)
	}
}

// WriteError renders err as a JSON error. 401 responses carry an RFC 6750
// WWW-Authenticate challenge for bearer-token errors; invalid_client carries
// a Basic challenge (RFC 6749 §5.2). Server errors are logged with their
// cause; the client sees only the safe description.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	f := AsFault(err)
	status := Status(f.Code)
	if status >= 500 && log != nil {
		log.ErrorContext(r.Context(), "request failed", "error", f.Error(), "request_id", reqctx.From(r.Context()).RequestID)
	}
	switch f.Code {
	case fault.CodeInvalidClient:
		w.Header().Set("WWW-Authenticate", `Basic realm="tokend"`)
	case fault.CodeInvalidToken, fault.CodeInsufficientScope:
		w.Header().Set("WWW-Authenticate", BearerChallenge(f))
	case fault.CodeUnauthenticated:
		w.Header().Set("WWW-Authenticate", `Bearer realm="tokend"`)
	}
	setRetryAfter(w.Header(), f.RetryAfter)
	writeErrorBody(w, status, f)
}

// BearerChallenge returns the RFC 6750 §3 WWW-Authenticate value for f.
func BearerChallenge(f *fault.Error) string {
	return `Bearer realm="tokend", error="` + string(f.Code) + `", error_description="` + quoteSafe(f.Description) + `"`
}

// quoteSafe maps s into the characters an error_description may hold
// (RFC 6749 §5.2, RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E): a double
// quote becomes a single one, any other character outside the set
// (backslash, control, non-ASCII) a '?'.
func quoteSafe(s string) string {
	b := make([]byte, 0, len(s))
	for _, c := range s {
		switch {
		case c == '"':
			b = append(b, '\'')
		case c == '\\' || c < 0x20 || c > 0x7e:
			b = append(b, '?')
		default:
			b = append(b, byte(c))
		}
	}
	return string(b)
}

// WriteJSON writes v as JSON with status. Token responses must also set
// Cache-Control: no-store themselves (RFC 6749 §5.1).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
