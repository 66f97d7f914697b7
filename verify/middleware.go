package verify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/tokend/tokend/claims"
)

type ctxKey struct{}

// FromContext returns the claims Middleware verified for this request.
func FromContext(ctx context.Context) (*claims.Claims, bool) {
	c, ok := ctx.Value(ctxKey{}).(*claims.Claims)
	return c, ok
}

// Check verifies the bearer token of r (RFC 6750 §2.1) and applies the
// kind rules and the required scopes.
func (v *Verifier) Check(r *http.Request, scopes ...string) (*claims.Claims, error) {
	raw, ok := BearerToken(r)
	if !ok {
		return nil, &Error{Status: http.StatusUnauthorized, Description: "no bearer token"}
	}
	c, err := v.Verify(r.Context(), raw)
	if err != nil {
		return nil, err
	}
	if err := CheckUse(c, r.Header); err != nil {
		return nil, err
	}
	if err := RequireScopes(c, scopes...); err != nil {
		return nil, err
	}
	return c, nil
}

// Middleware lets through requests whose bearer token verifies, carries
// scopes and passes its kind's rules, with the claims in the request
// context; others get 401 or 403 with a JSON error and WWW-Authenticate
// (RFC 6750 §3).
func (v *Verifier) Middleware(next http.Handler, scopes ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.Check(r, scopes...)
		if err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
	})
}

// BearerToken returns the token of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// WriteError answers a refused request per RFC 6750 §3: a challenge with
// the error code (none when no token was sent) and a JSON body.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "the token could not be checked"}
	}
	challenge := `Bearer`
	if e.Code != "" && e.Code != "temporarily_unavailable" {
		challenge += ` error="` + e.Code + `", error_description="` + strings.ReplaceAll(e.Description, `"`, `'`) + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2") // RFC 9110 §10.2.3
	}
	w.WriteHeader(e.Status)
	code := e.Code
	if code == "" {
		code = "invalid_request"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": e.Description})
}
