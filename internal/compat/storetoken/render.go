package storetoken

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/mint"
)

// The legacy texts, verbatim from the seed.
const (
	msgUnauthenticated = "You need to sign in or sign up before continuing."
	msgForbidden       = "You are not authorized to perform this action."
	msgFailed          = "Failed to generate token"
	msgUnavailable     = "Service Unavailable"
	msgInternal        = "Internal Server Error"
	msgTooMany         = "Too Many Requests"
)

// notFoundText is Rails' ActiveRecord::RecordNotFound message for
// Store.find(id), with the id as sent.
func notFoundText(id string) string { return "Couldn't find Store with 'id'=" + id }

// writeJSON writes v with status, as Rails renders json:.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"`+msgInternal+`"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeToken is the seed's 201 body: exactly {"jwt":"…"} (Knock's
// AuthToken#to_json).
func writeToken(w http.ResponseWriter, value string) {
	writeJSON(w, http.StatusCreated, map[string]string{"jwt": value})
}

// tokenView is one entry of GET /stores/{id}/tokens.
type tokenView struct {
	JTI       string   `json:"jti"`
	Format    string   `json:"format"`
	Audience  []string `json:"aud"`
	IssuedAt  string   `json:"issued_at"`
	ExpiresAt *string  `json:"expires_at"`
	Current   bool     `json:"current"`
}

func writeTokens(w http.ResponseWriter, l []mint.StoreTokenInfo) {
	out := make([]tokenView, 0, len(l))
	for _, t := range l {
		v := tokenView{JTI: t.ID, Format: t.Format, Audience: t.Audience, IssuedAt: railsTime(t.IssuedAt), Current: t.Current}
		if t.ExpiresAt != nil {
			s := railsTime(*t.ExpiresAt)
			v.ExpiresAt = &s
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// railsTime is ActiveSupport's JSON time: ISO 8601 with milliseconds.
func railsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// writeFault renders a core fault of a store-token request (generate or
// list) for store id as the legacy API answers it. This is the one place
// that maps fault codes to the legacy statuses and texts.
func writeFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, id string, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		if br.field != "" {
			writeMessage(w, http.StatusUnprocessableEntity, br.msg)
			return
		}
		writeMessage(w, http.StatusBadRequest, br.msg)
		return
	}
	f := fault.As(err)
	code := fault.CodeOf(err)
	switch code {
	case fault.CodeInvalidToken, fault.CodeUnauthenticated:
		writeMessage(w, http.StatusUnauthorized, msgUnauthenticated)
	case fault.CodeForbidden, fault.CodeInsufficientScope, fault.CodeAccessDenied:
		writeMessage(w, http.StatusForbidden, msgForbidden)
	case fault.CodeNotFound:
		writeMessage(w, http.StatusNotFound, notFoundText(id))
	case fault.CodeConflict:
		writeMessage(w, http.StatusUnprocessableEntity, msgFailed)
	case fault.CodeInvalidRequest, fault.CodeValidation:
		if f != nil && f.Field != "" {
			writeMessage(w, http.StatusUnprocessableEntity, f.Description)
			return
		}
		writeMessage(w, http.StatusUnprocessableEntity, msgFailed)
	case fault.CodeTooLarge:
		writeMessage(w, http.StatusRequestEntityTooLarge, "Payload Too Large")
	case fault.CodeRateLimited:
		writeMessage(w, http.StatusTooManyRequests, msgTooMany)
	case fault.CodeUnavailable:
		w.Header().Set("Retry-After", "1")
		logFault(r, log, err)
		writeMessage(w, http.StatusServiceUnavailable, msgUnavailable)
	default:
		logFault(r, log, err)
		writeMessage(w, http.StatusInternalServerError, msgInternal)
	}
}

// writeSignInFault renders a fault of POST /user_token: Knock answers bad
// credentials with 404 and an empty body.
func writeSignInFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		writeMessage(w, http.StatusBadRequest, br.msg)
		return
	}
	switch fault.CodeOf(err) {
	case fault.CodeInvalidGrant, fault.CodeInvalidClient, fault.CodeNotFound, fault.CodeForbidden, fault.CodeAccessDenied,
		fault.CodeInvalidRequest, fault.CodeValidation:
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusNotFound)
	case fault.CodeRateLimited:
		if f := fault.As(err); f != nil && f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Seconds())))
		}
		writeMessage(w, http.StatusTooManyRequests, msgTooMany)
	default:
		writeFault(w, r, log, "", err)
	}
}

func logFault(r *http.Request, log *slog.Logger, err error) {
	log.ErrorContext(r.Context(), "storetoken request failed", "path", r.URL.Path, "error", err)
}
