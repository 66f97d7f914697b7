package dotkernel

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
)

// FuzzParseToken: any body either parses into a password or refresh_token
// request naming its client, or is refused with an error that renders in
// league's shape with a 4xx status; parsing never panics.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		`{"grant_type":"password","client_id":"admin","client_secret":"admin","scope":"api","username":"admin","password":"dotkernel"}`,
		`{"grant_type":"refresh_token","client_id":"frontend","client_secret":"frontend","scope":"api","refresh_token":"def50200ab"}`,
		`{"grant_type":"password","client_id":"admin","client_id":"x"}`, `{"grant_type":null}`, `{"grant_type":1}`,
		`[]`, `{}`, `{"a":{}}`, `{"grant_type":"password"} {}`, "", "\x00", `{"scope":"a  b"}`,
	} {
		f.Add(s, "application/json", "")
	}
	f.Add(`{"grant_type":"password","username":"u","password":"p"}`, "application/json; charset=utf-8", "Basic YWRtaW46YWRtaW4=")
	f.Add(`grant_type=password`, "application/x-www-form-urlencoded", "Bearer x")
	f.Fuzz(func(t *testing.T, body, contentType, auth string) {
		r := httptest.NewRequest("POST", "/security/generate-token", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		req, err := parseToken(r, 4096)
		if err != nil {
			var br *badRequest
			if !errors.As(err, &br) && fault.As(err) == nil {
				t.Fatalf("error of no known kind: %v", err)
			}
			e := tokenError(err, "")
			if e.status < 400 || e.status > 499 || e.Error == "" || e.Description == "" || e.Message != e.Description {
				t.Fatalf("refusal renders as %+v", e)
			}
			return
		}
		if req.GrantType != grant.Password && req.GrantType != grant.RefreshToken {
			t.Fatalf("grant type %q accepted", req.GrantType)
		}
		if req.Client.ID == "" {
			t.Fatal("a request without client accepted")
		}
	})
}

// TestTokenErrorTexts pins the mapping of core faults to league 8.5's and
// Dotkernel's answers.
func TestTokenErrorTexts(t *testing.T) {
	t.Parallel()
	refresh := fault.InvalidGrant("x")
	for _, tc := range []struct {
		name        string
		err         error
		gt          string
		status      int
		code, hint  string
		description string
	}{
		{"wrong password", fault.InvalidGrant("x"), grant.Password, 400, textCredentials, "", textCredentials},
		{"inactive", fault.InvalidGrant("x").WithReason(fault.ReasonUserDisabled), grant.Password, 401, "inactive_user", "", textInactive},
		{"refresh malformed", refresh.WithReason(fault.ReasonMalformed), grant.RefreshToken, 401, "invalid_request", hintDecrypt, textInvalidRefresh},
		{"refresh expired", refresh.WithReason(fault.ReasonExpired), grant.RefreshToken, 401, "invalid_request", hintExpired, textInvalidRefresh},
		{"refresh revoked", refresh.WithReason(fault.ReasonRevoked), grant.RefreshToken, 401, "invalid_request", hintRevoked, textInvalidRefresh},
		{"refresh other client", refresh.WithReason(fault.ReasonOtherClient), grant.RefreshToken, 401, "invalid_request", hintNotLinked, textInvalidRefresh},
		{"client", fault.InvalidClient("x"), grant.Password, 401, "invalid_client", "", textInvalidClient},
		{"client not served", fault.InvalidClient("x").WithReason(fault.ReasonClientNotServed), grant.Password, 401, "invalid_client", "", textInvalidClientID},
		{"scope", fault.InvalidScope("x").WithValue("a<b"), grant.Password, 400, "invalid_scope", "Check the `a&lt;b` scope", textInvalidScope},
		{"missing", fault.InvalidRequest("x").WithReason(fault.ReasonMissing).WithValue("password"), grant.Password, 400, "invalid_request", "Check the `password` parameter", textInvalidRequest},
		{"unavailable", fault.Unavailable(errors.New("db")), grant.Password, 503, "server_error", "", textServerError + "the token store is temporarily unavailable"},
		{"internal", errors.New("boom"), grant.Password, 500, "server_error", "", textServerError + "internal error"},
	} {
		e := tokenError(tc.err, tc.gt)
		if e.status != tc.status || e.Error != tc.code || e.Hint != tc.hint || e.Description != tc.description || e.Message != tc.description {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
}
