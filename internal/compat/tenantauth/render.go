package tenantauth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tokend/tokend/internal/fault"
)

// The legacy texts. "failed to generate token" and "invalid token" are
// the original's (authsec-ai/authsec controllers/authmgr_controller.go);
// "client not found" is the seed's 404 in the original's lower case.
const (
	msgNotFound     = "client not found"
	msgUnauthorized = "unauthorized"
	msgFailed       = "failed to generate token"
	msgInvalidToken = "invalid token"
	msgUnavailable  = "service unavailable"
	msgTooMany      = "too many requests"
	msgTooLarge     = "http: request body too large"
	msgInactiveOIDC = "invalid or inactive OIDC token"
)

// writeJSON writes v with status, as gin's c.JSON does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"`+msgFailed+`"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// tokenResponse is the original's sharedmodels.TokenResponse.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func writeToken(w http.ResponseWriter, value string, expiresIn int64) {
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: value, ExpiresIn: expiresIn, TokenType: "Bearer"})
}

// verifyResponse is verifyToken's 200 body.
type verifyResponse struct {
	Valid     bool     `json:"valid"`
	TenantID  string   `json:"tenant_id"`
	ProjectID string   `json:"project_id"`
	ClientID  string   `json:"client_id"`
	EmailID   string   `json:"email_id"`
	Scopes    []string `json:"scopes"`
	Roles     []string `json:"roles"`
	Groups    []string `json:"groups"`
	Resources []string `json:"resources"`
	TokenType string   `json:"token_type"`
	IssuedAt  int64    `json:"issued_at"`
	ExpiresAt int64    `json:"expires_at"`
	Issuer    string   `json:"issuer"`
}

// writeFault renders a fault of a token request (generateToken) as the
// original answers it. This is the one place that maps fault codes to
// the legacy statuses and texts.
func writeFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		writeError(w, http.StatusBadRequest, br.msg)
		return
	}
	f := fault.As(err)
	switch fault.CodeOf(err) {
	case fault.CodeNotFound:
		writeError(w, http.StatusNotFound, msgNotFound)
	case fault.CodeInvalidClient, fault.CodeUnauthenticated, fault.CodeInvalidToken, fault.CodeInvalidGrant,
		fault.CodeAccessDenied, fault.CodeUnauthorizedClient:
		writeError(w, http.StatusUnauthorized, msgUnauthorized)
	case fault.CodeTooLarge:
		writeError(w, http.StatusBadRequest, msgTooLarge)
	case fault.CodeInvalidRequest, fault.CodeValidation:
		if f != nil && f.Description != "" {
			writeError(w, http.StatusBadRequest, f.Description)
			return
		}
		writeError(w, http.StatusBadRequest, "invalid request payload")
	case fault.CodeRateLimited:
		retryAfter(w, f)
		writeError(w, http.StatusTooManyRequests, msgTooMany)
	case fault.CodeUnavailable:
		retryAfter(w, f)
		logFault(r, log, err)
		writeError(w, http.StatusServiceUnavailable, msgUnavailable)
	default:
		// Internal faults, and a tenant without the token type's HMAC
		// secret (forbidden at signing): the original's signing failure.
		logFault(r, log, err)
		writeError(w, http.StatusInternalServerError, msgFailed)
	}
}

// writeVerifyFault renders a fault of verifyToken: every refusal of the
// token is the original's 401 "invalid token"; an outage is a 503.
func writeVerifyFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	switch fault.CodeOf(err) {
	case fault.CodeUnavailable:
		retryAfter(w, fault.As(err))
		logFault(r, log, err)
		writeError(w, http.StatusServiceUnavailable, msgUnavailable)
	case fault.CodeInternal:
		logFault(r, log, err)
		writeError(w, http.StatusInternalServerError, msgInvalidToken)
	default:
		writeError(w, http.StatusUnauthorized, msgInvalidToken)
	}
}

func retryAfter(w http.ResponseWriter, f *fault.Error) {
	s := 1
	if f != nil && f.RetryAfter > 0 {
		s = int(f.RetryAfter.Seconds())
		if s < 1 {
			s = 1
		}
	}
	w.Header().Set("Retry-After", strconv.Itoa(s))
}

func logFault(r *http.Request, log *slog.Logger, err error) {
	log.ErrorContext(r.Context(), "tenantauth request failed", "path", r.URL.Path, "error", err)
}

// writeOIDCFault renders a fault of oidcToken: a bad bearer is 401
// "unauthorized"; an oidc_token the exchange refuses (expired, foreign
// issuer, bad signature, inactive at introspection, no user) is the
// original's 401 "invalid or inactive OIDC token"; missing required
// claims are its 400 "missing required OIDC fields: [...]".
func writeOIDCFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	f := fault.As(err)
	switch fault.CodeOf(err) {
	case fault.CodeInvalidGrant, fault.CodeInvalidToken, fault.CodeInvalidTarget, fault.CodeInvalidScope:
		writeError(w, http.StatusUnauthorized, msgInactiveOIDC)
	case fault.CodeInvalidRequest, fault.CodeValidation:
		if f != nil && f.Field == "oidc_token" {
			writeError(w, http.StatusBadRequest, f.Description)
			return
		}
		writeError(w, http.StatusUnauthorized, msgInactiveOIDC)
	default:
		writeFault(w, r, log, err)
	}
}
