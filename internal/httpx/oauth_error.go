package httpx

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/tokend/tokend/internal/fault"
)

// WriteOAuthError renders err the way the OAuth endpoints (token, RFC
// 6749 §5.2; introspection and revocation, which answer their errors in
// that shape) must: only their error codes and statuses. Every problem
// with the request is 400 with a §5.2 code — a malformed, oversized or
// mistyped body, a value out of range, an unknown tenant, a wrong method
// are invalid_request — a failed client authentication 401
// invalid_client, and a throttled caller 429 with Retry-After and the
// wait in the description: invalid_grant for a throttled login (the grant
// is refused for now), slow_down (RFC 8628 §3.5) for a throttled client.
// Outages stay 503 temporarily_unavailable and failures 500 server_error.
func WriteOAuthError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	f := *AsFault(err)
	switch f.Code {
	case fault.CodeValidation, fault.CodeTooLarge, fault.CodeUnsupportedMediaType, fault.CodeMethodNotAllowed,
		fault.CodeNotFound, fault.CodeConflict, fault.CodeUnauthenticated:
		f.Code = fault.CodeInvalidRequest
	case fault.CodeForbidden, fault.CodeAccessDenied:
		f.Code = fault.CodeUnauthorizedClient
	case fault.CodeRateLimited:
		code := fault.CodeSlowDown
		if errors.Is(err, fault.ErrLoginThrottled) {
			code = fault.CodeInvalidGrant
		}
		f.Code = code
		setRetryAfter(w.Header(), f.RetryAfter)
		writeErrorBody(w, http.StatusTooManyRequests, &f)
		return
	}
	WriteError(w, r, log, &f)
}

// writeErrorBody writes f's JSON body with status. RFC 6749 §5.2:
// descriptions, which may quote caller input, hold only %x20-21 /
// %x23-5B / %x5D-7E.
func writeErrorBody(w http.ResponseWriter, status int, f *fault.Error) {
	WriteJSON(w, status, ErrorBody{Error: string(f.Code), Description: quoteSafe(f.Description), Field: f.Field})
}
