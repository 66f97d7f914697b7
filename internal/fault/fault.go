package fault

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error code.
type Code string

// Codes shared by every surface. The OAuth codes follow RFC 6749 §5.2,
// RFC 6750 §3.1 and RFC 7009 §2.2.1.
const (
	CodeInvalidRequest       Code = "invalid_request"
	CodeInvalidClient        Code = "invalid_client"
	CodeInvalidGrant         Code = "invalid_grant"
	CodeUnauthorizedClient   Code = "unauthorized_client"
	CodeUnsupportedGrantType Code = "unsupported_grant_type"
	CodeInvalidScope         Code = "invalid_scope"
	CodeInvalidToken         Code = "invalid_token"
	CodeAccessDenied         Code = "access_denied"
	CodeInsufficientScope    Code = "insufficient_scope"
	CodeUnsupportedTokenType Code = "unsupported_token_type"
	// CodeInvalidTarget is RFC 8707 §2: an unknown, malformed or refused
	// audience or resource.
	CodeInvalidTarget Code = "invalid_target"
	// CodeSlowDown is RFC 8628 §3.5: the caller must wait before asking
	// again (a throttled client at the OAuth endpoints).
	CodeSlowDown Code = "slow_down"

	CodeUnauthenticated      Code = "unauthenticated"
	CodeForbidden            Code = "forbidden"
	CodeNotFound             Code = "not_found"
	CodeConflict             Code = "conflict"
	CodeValidation           Code = "validation_failed"
	CodeTooLarge             Code = "request_too_large"
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeMethodNotAllowed     Code = "method_not_allowed"
	CodeRateLimited          Code = "rate_limited"
	CodeUnavailable          Code = "temporarily_unavailable"
	CodeInternal             Code = "server_error"
)

// Causes of rate_limited faults, for surfaces whose protocol tells them
// apart (the OAuth endpoints: invalid_grant for a throttled login,
// slow_down for a throttled client).
var (
	ErrLoginThrottled  = errors.New("login throttled")
	ErrClientThrottled = errors.New("client authentication throttled")
)

// Reason refines a Code; the set is closed, one constant per case a
// surface has to tell apart.
type Reason string

// Reasons.
const (
	// ReasonMissing: a required parameter is missing; Value names it.
	ReasonMissing Reason = "missing"
	// ReasonMalformed: a refresh token that is none of tokend's, or a
	// presented token that is not one at all.
	ReasonMalformed Reason = "malformed"
	// ReasonExpired: a refresh or presented token past its expiry.
	ReasonExpired Reason = "expired"
	// ReasonRevoked: a refresh token revoked, spent or replayed, or a
	// presented token revoked.
	ReasonRevoked Reason = "revoked"
	// ReasonSignature: a presented JWT whose signature does not verify
	// with its issuer's keys.
	ReasonSignature Reason = "signature"
	// ReasonOtherClient: a refresh token issued to another client.
	ReasonOtherClient Reason = "other_client"
	// ReasonUserDisabled: right credentials of a disabled user.
	ReasonUserDisabled Reason = "user_disabled"
	// ReasonClientNotServed: an authenticated client the endpoint does
	// not serve (see grant.Request.Clients).
	ReasonClientNotServed Reason = "client_not_served"
)

// Error is the core's error. Description is safe for clients; Cause is only
// logged.
type Error struct {
	Code        Code
	Description string
	// Field names the offending input for validation errors, if any.
	Field string
	// Reason, when set, refines Code with one of the Reason constants,
	// for surfaces whose legacy answers tell such cases apart.
	Reason Reason
	// Value is the offending value, when it is safe to echo (a scope
	// name the caller sent).
	Value string
	Cause error
	// RetryAfter, when positive, is how long the caller should wait before
	// trying again (the Retry-After of a 429 or 503 answer).
	RetryAfter time.Duration
	// Limit, when set, is the bound the input broke (a maximum, a token
	// limit), so that a surface can name it in its own words.
	Limit *Limit
}

// Limit is a named bound and its value.
type Limit struct {
	// Name is the policy setting or input the bound comes from, e.g.
	// max_access_ttl, max_lifetime, lifetime or token_limit.
	Name  string
	Value int64
	// Got is the value asked for, when the bound is on one.
	Got int64
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// WithCause returns a copy of e carrying cause.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var f *Error
	if errors.As(err, &f) {
		return f
	}
	return nil
}

// CodeOf returns the code of err, CodeInternal when err is not a *Error.
func CodeOf(err error) Code {
	if f := As(err); f != nil {
		return f.Code
	}
	return CodeInternal
}

func newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// InvalidRequest reports a malformed request.
func InvalidRequest(format string, args ...any) *Error {
	return newf(CodeInvalidRequest, format, args...)
}

// InvalidClient reports failed client authentication.
func InvalidClient(format string, args ...any) *Error {
	return newf(CodeInvalidClient, format, args...)
}

// InvalidGrant reports an invalid, expired or revoked grant.
func InvalidGrant(format string, args ...any) *Error {
	return newf(CodeInvalidGrant, format, args...)
}

// UnauthorizedClient reports a client not allowed to use a grant.
func UnauthorizedClient(format string, args ...any) *Error {
	return newf(CodeUnauthorizedClient, format, args...)
}

// UnsupportedGrantType reports an unknown grant type.
func UnsupportedGrantType(format string, args ...any) *Error {
	return newf(CodeUnsupportedGrantType, format, args...)
}

// InvalidScope reports a scope that is unknown or not allowed.
func InvalidScope(format string, args ...any) *Error {
	return newf(CodeInvalidScope, format, args...)
}

// InvalidTarget reports a requested audience or resource that is unknown,
// malformed or not allowed (RFC 8707 §2).
func InvalidTarget(format string, args ...any) *Error {
	return newf(CodeInvalidTarget, format, args...)
}

// InvalidToken reports a bearer token that is missing, malformed, expired or
// revoked (RFC 6750 §3.1).
func InvalidToken(format string, args ...any) *Error {
	return newf(CodeInvalidToken, format, args...)
}

// Unauthenticated reports a request without valid credentials.
func Unauthenticated(format string, args ...any) *Error {
	return newf(CodeUnauthenticated, format, args...)
}

// Forbidden reports an authenticated caller without the right to act.
func Forbidden(format string, args ...any) *Error {
	return newf(CodeForbidden, format, args...)
}

// InsufficientScope reports a token lacking a required scope (RFC 6750 §3.1).
func InsufficientScope(format string, args ...any) *Error {
	return newf(CodeInsufficientScope, format, args...)
}

// NotFound reports an unknown resource.
func NotFound(format string, args ...any) *Error {
	return newf(CodeNotFound, format, args...)
}

// Conflict reports a duplicate or a conflicting state.
func Conflict(format string, args ...any) *Error {
	return newf(CodeConflict, format, args...)
}

// Invalid reports a well-formed request whose field value is not acceptable.
func Invalid(field, format string, args ...any) *Error {
	e := newf(CodeValidation, format, args...)
	e.Field = field
	return e
}

// TooLarge reports an oversized request.
func TooLarge(format string, args ...any) *Error {
	return newf(CodeTooLarge, format, args...)
}

// UnsupportedMediaType reports a wrong content type.
func UnsupportedMediaType(format string, args ...any) *Error {
	return newf(CodeUnsupportedMediaType, format, args...)
}

// RateLimited reports throttling.
func RateLimited(format string, args ...any) *Error {
	return newf(CodeRateLimited, format, args...)
}

// Unavailable reports a dependency that could not be reached.
func Unavailable(cause error) *Error {
	return &Error{Code: CodeUnavailable, Description: "the service is temporarily unavailable", Cause: cause}
}

// Internal reports an unexpected failure; the cause is only logged.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternal, Description: "internal error", Cause: cause}
}

// WithReason returns a copy of e refined by r.
func (e *Error) WithReason(r Reason) *Error {
	c := *e
	c.Reason = r
	return &c
}

// WithValue returns a copy of e carrying the offending value v, which
// must be safe to show to the caller.
func (e *Error) WithValue(v string) *Error {
	c := *e
	c.Value = v
	return &c
}

// WithField returns a copy of e naming the offending input.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// WithRetryAfter returns a copy of e telling the caller to retry after d.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// WithLimit returns a copy of e naming the bound the input broke.
func (e *Error) WithLimit(name string, value, got int64) *Error {
	c := *e
	c.Limit = &Limit{Name: name, Value: value, Got: got}
	return &c
}
