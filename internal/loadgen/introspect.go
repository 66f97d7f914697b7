package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// prepareIntrospect is ModeIntrospect and ModeIntrospectRevoked: one token,
// revoked first for the latter, introspected over and over.
func prepareIntrospect(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	tok, err := issueToken(ctx, c, client, auth)
	if err != nil {
		return nil, err
	}
	if c.Mode == ModeIntrospectRevoked {
		w := setupWorker(client, &target{auth: auth})
		st, body, err := w.post(ctx, c.oauthURL("revoke"), tokenBody(tok))
		if err != nil {
			return nil, fmt.Errorf("setup: revoke request: %w", err)
		}
		if st != http.StatusOK {
			return nil, fmt.Errorf("setup: revoke request: %w", statusError(st, body))
		}
	}
	return &target{url: c.oauthURL("introspect"), auth: auth, body: tokenBody(tok),
		check: expectActive(c.Mode == ModeIntrospect)}, nil
}

// prepareCheck is ModeCheck: one token presented to the gateway check.
func prepareCheck(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	tok, err := issueToken(ctx, c, client, auth)
	if err != nil {
		return nil, err
	}
	return &target{method: http.MethodGet, url: strings.TrimRight(c.Endpoint, "/") + "/t/" + url.PathEscape(c.Tenant) + "/check",
		auth: "Bearer " + tok, check: expectStatus200}, nil
}

// tokenBody is the form token=<tok> of introspection and revocation.
func tokenBody(tok string) []byte {
	return []byte(url.Values{"token": {tok}}.Encode())
}

// expectActive returns the check of an introspection response: 200 and
// "active" equal to want.
func expectActive(want bool) checkFunc {
	return func(status int, body []byte) error {
		if status != http.StatusOK {
			return statusError(status, body)
		}
		var r struct {
			Active *bool `json:"active"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return fmt.Errorf("introspection response: %w", err)
		}
		if r.Active == nil {
			return errors.New(`introspection response has no "active"`)
		}
		if *r.Active != want {
			return fmt.Errorf(`introspection response has "active": %t, want %t`, *r.Active, want)
		}
		return nil
	}
}
