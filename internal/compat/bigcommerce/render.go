package bigcommerce

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/tokend/tokend/internal/fault"
)

// errorType is the "type" of every v3 error body (BigCommerce's status
// code reference, as its v3 APIs answer).
const errorType = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"

// The REST titles, from the responses of storefront_tokens.v3.yml.
const (
	titleUnauthorized = "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store."
	titleForbidden    = "Missing scope - the v3 Auth token is valid but does not have proper permissions to access this endpoint."
	titleInvalidBody  = "Invalid JSON request body - missing or invalid data."
	// titleInvalidBodyImpersonation is the same text as the spec writes
	// it for api-token-customer-impersonation: without the period.
	titleInvalidBodyImpersonation = "Invalid JSON request body - missing or invalid data"
	titleInvalidJWT               = "Invalid JWT Token provided or missing JWT token header"
	titleUnsupported              = "Unsupported Media Type - the request's Content-Type must be application/json."
	titleNotAcceptable            = "Not Acceptable - the request's Accept header must allow application/json."
	titleTooLarge                 = "Request Entity Too Large"
	titleTooMany                  = "Too Many Requests"
	titleUnavailable              = "Service Unavailable"
	titleInternal                 = "Internal Server Error"
)

// v3Error is BigCommerce's v3 error body (ErrorResponse: BaseError and
// DetailedErrors).
type v3Error struct {
	Status int               `json:"status"`
	Title  string            `json:"title"`
	Type   string            `json:"type"`
	Errors map[string]string `json:"errors"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"status":500,"title":"`+titleInternal+`","type":"`+errorType+`","errors":{}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeV3(w http.ResponseWriter, status int, title string, fields map[string]string) {
	if fields == nil {
		fields = map[string]string{}
	}
	writeJSON(w, status, v3Error{Status: status, Title: title, Type: errorType, Errors: fields})
}

// writeToken is Token_Full: {"data":{"token":…},"meta":{}}.
func writeToken(w http.ResponseWriter, value string) {
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"token": value}, "meta": map[string]any{}})
}

// writeRESTFault renders a fault of a REST request of family fam (""
// for the revocation) in the v3 shape. This is the one place that maps
// fault codes to the REST statuses and titles.
func writeRESTFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, fam string, err error) {
	invalid := titleInvalidBody
	switch fam {
	case famImpersonation:
		invalid = titleInvalidBodyImpersonation
	case "":
		invalid = titleInvalidJWT
	}
	var me *mediaError
	if errors.As(err, &me) {
		if me.status == http.StatusNotAcceptable {
			writeV3(w, me.status, titleNotAcceptable, nil)
			return
		}
		writeV3(w, me.status, titleUnsupported, nil)
		return
	}
	var ib *invalidBody
	if errors.As(err, &ib) {
		writeV3(w, http.StatusUnprocessableEntity, invalid, ib.fields)
		return
	}
	var sf *sfTokenError
	if errors.As(err, &sf) {
		writeV3(w, http.StatusUnprocessableEntity, titleInvalidJWT, map[string]string{"Sf-Api-Token": sf.msg})
		return
	}
	f := fault.As(err)
	switch fault.CodeOf(err) {
	case fault.CodeInvalidToken, fault.CodeUnauthenticated:
		writeV3(w, http.StatusUnauthorized, titleUnauthorized, nil)
	case fault.CodeForbidden, fault.CodeInsufficientScope, fault.CodeAccessDenied:
		writeV3(w, http.StatusForbidden, titleForbidden, nil)
	case fault.CodeInvalidRequest, fault.CodeValidation, fault.CodeConflict, fault.CodeNotFound:
		field := "body"
		if f != nil && f.Field != "" {
			field = f.Field
		} else if fault.CodeOf(err) == fault.CodeConflict {
			field = "token_limit"
		}
		msg := "is invalid"
		if f != nil && f.Description != "" {
			msg = f.Description
		}
		writeV3(w, http.StatusUnprocessableEntity, invalid, map[string]string{field: msg})
	case fault.CodeTooLarge:
		writeV3(w, http.StatusRequestEntityTooLarge, titleTooLarge, nil)
	case fault.CodeRateLimited:
		writeV3(w, http.StatusTooManyRequests, titleTooMany, nil)
	case fault.CodeUnavailable:
		logFault(r, log, err)
		writeV3(w, http.StatusServiceUnavailable, titleUnavailable, nil)
	default:
		logFault(r, log, err)
		writeV3(w, http.StatusInternalServerError, titleInternal, nil)
	}
}

// sfTokenError is a missing or unusable Sf-Api-Token header (422).
type sfTokenError struct{ msg string }

func (e *sfTokenError) Error() string { return "Sf-Api-Token: " + e.msg }

func logFault(r *http.Request, log *slog.Logger, err error) {
	log.ErrorContext(r.Context(), "bigcommerce request failed", "path", r.URL.Path, "error", err)
}

// GraphQL messages. The 401 texts are BigCommerce's, verbatim
// (docs/start/about/status-codes.mdx, "GraphQL Storefront API"); the
// wrong-context text is the seed's.
const (
	msgNoToken       = "GraphQL credentials were missing. No token was sent."
	msgNotJWT        = "GraphQL invalid credentials. String is not a JWT"
	msgSignature     = "GraphQL invalid credentials. JWT signature is invalid"
	msgExpired       = "GraphQL invalid credentials. JWT is expired"
	msgChannel       = "GraphQL invalid credentials. JWT channel id doesn't match channel id of the URL"
	msgStore         = "GraphQL invalid credentials. JWT store id doesn't match store id of the URL"
	msgRevoked       = "Unknown JWT token"
	msgNoJSON        = "GraphQL invalid credentials. JWT has no valid Json"
	msgUnknownFormat = "GraphQL invalid credentials. JWT has Json of an unknown format"
	msgScope         = "The provided token does not include the scopes required to resolve this field."
	msgWrongContext  = "Customer access token was requested in the body, but it's only returned for server-to-server requests. For browser requests it's set as an httpOnly cookie instead."
	// The rest are tokend's own, in the same style.
	msgInvalidCredentials = "Invalid credentials"
	msgLoginJWT           = "Invalid customer login JWT"
	msgTooManyLogins      = "Too many failed sign-in attempts; try again later."
	msgInvalidSession     = "Customer access token is invalid."
	msgNoSession          = "A customer access token (X-Bc-Customer-Access-Token) is required."
	msgTokenFromBrowser   = "Customer access tokens are only accepted in server-to-server requests."
	msgUnavailable        = "Service Unavailable"
	msgInternal           = "Internal Server Error"
)

// gqlAuthError is a refused bearer token: HTTP 401 with one of
// BigCommerce's messages ("All GraphQL errors return a 401").
type gqlAuthError struct{ msg string }

func (e *gqlAuthError) Error() string { return e.msg }

// gqlUseError is a token used against its kind's rules (a private token
// from a browser, a storefront token from a foreign origin): 403.
type gqlUseError struct{ msg string }

func (e *gqlUseError) Error() string { return e.msg }

// authFailure maps a verification fault to BigCommerce's message.
func authFailure(err error) error {
	f := fault.As(err)
	if f == nil {
		return &gqlAuthError{msgSignature}
	}
	switch f.Reason {
	case fault.ReasonExpired:
		return &gqlAuthError{msgExpired}
	case fault.ReasonRevoked:
		return &gqlAuthError{msgRevoked}
	case fault.ReasonMalformed:
		return &gqlAuthError{msgNotJWT}
	case fault.ReasonSignature:
		return &gqlAuthError{msgSignature}
	}
	if f.Description == "unknown issuer" || f.Description == "wrong issuer" {
		// A JWT of no tenant of this server, or of another one.
		return &gqlAuthError{msgStore}
	}
	return &gqlAuthError{msgSignature}
}

// loginFault turns a core fault of a resolver into its GraphQL error.
func loginFault(err error) error {
	switch fault.CodeOf(err) {
	case fault.CodeInvalidGrant, fault.CodeInvalidClient, fault.CodeNotFound, fault.CodeForbidden, fault.CodeAccessDenied,
		fault.CodeInvalidRequest, fault.CodeValidation, fault.CodeInvalidToken:
		return &fieldError{msg: msgInvalidCredentials}
	case fault.CodeRateLimited:
		return &fieldError{msg: msgTooManyLogins}
	}
	return err
}

// loginJWTFault turns a fault of loginWithCustomerLoginJwt into its error.
func loginJWTFault(err error) error {
	switch fault.CodeOf(err) {
	case fault.CodeUnavailable, fault.CodeInternal:
		return err
	}
	return &fieldError{msg: msgLoginJWT}
}

type gqlResponse struct {
	Data   any           `json:"data"`
	Errors gqlerror.List `json:"errors,omitempty"`
}

// writeGraphQLErrors writes a request error: errors, and data only when
// withData (null).
func writeGraphQLErrors(w http.ResponseWriter, status int, errs gqlerror.List, withData bool) {
	if withData {
		writeJSON(w, status, gqlResponse{Errors: errs})
		return
	}
	writeJSON(w, status, map[string]any{"errors": errs})
}

func writeGraphQLStatus(w http.ResponseWriter, status int, msg string) {
	writeGraphQLErrors(w, status, gqlerror.List{{Message: msg}}, false)
}

// writeGraphQLResult writes an executed operation: 200 with data and the
// field errors; a storage outage met by a resolver is a 503 instead.
func writeGraphQLResult(w http.ResponseWriter, r *http.Request, log *slog.Logger, data ordered, x *executor) {
	if x.outage != nil {
		writeGraphQLFault(w, r, log, x.outage)
		return
	}
	var d any = data
	if x.nullData {
		d = nil
	}
	writeJSON(w, http.StatusOK, gqlResponse{Data: d, Errors: x.errs})
}

// writeGraphQLFault renders a refusal before execution, or an outage.
// This is the one place that maps GraphQL faults to statuses and texts.
func writeGraphQLFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var ae *gqlAuthError
	var ue *gqlUseError
	switch {
	case errors.As(err, &ae):
		writeGraphQLStatus(w, http.StatusUnauthorized, ae.msg)
		return
	case errors.As(err, &ue):
		writeGraphQLStatus(w, http.StatusForbidden, ue.msg)
		return
	}
	switch fault.CodeOf(err) {
	case fault.CodeTooLarge:
		writeGraphQLStatus(w, http.StatusRequestEntityTooLarge, "The request body is too large.")
	case fault.CodeUnavailable:
		logFault(r, log, err)
		writeGraphQLStatus(w, http.StatusServiceUnavailable, msgUnavailable)
	case fault.CodeRateLimited:
		writeGraphQLStatus(w, http.StatusTooManyRequests, msgTooManyLogins)
	default:
		logFault(r, log, err)
		writeGraphQLStatus(w, http.StatusInternalServerError, msgInternal)
	}
}
