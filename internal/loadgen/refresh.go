package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// prepareRefresh is ModeRefresh: one refresh chain per worker, started by a
// password grant.
func prepareRefresh(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	login := url.Values{"grant_type": {"password"}, "username": {c.Username}, "password": {c.Password}}
	if c.Scope != "" {
		login.Set("scope", c.Scope)
	}
	loginBody := []byte(login.Encode())
	t := &target{url: c.oauthURL("token"), auth: auth}
	t.next = func(w *worker) (func() []byte, checkFunc, error) {
		st, body, err := w.post(ctx, t.url, loginBody)
		if err != nil {
			return nil, nil, fmt.Errorf("setup: password grant: %w", err)
		}
		tr, err := parseToken(st, body)
		if err != nil {
			return nil, nil, fmt.Errorf("setup: password grant: %w", err)
		}
		if tr.RefreshToken == "" {
			return nil, nil, errors.New("setup: password grant response has no refresh_token")
		}
		current := tr.RefreshToken
		const prefix = "grant_type=refresh_token&refresh_token="
		var b []byte
		build := func() []byte {
			b = append(append(b[:0], prefix...), url.QueryEscape(current)...)
			return b
		}
		return build, followRefresh(&current), nil
	}
	return t, nil
}

// followRefresh checks a refresh answer and makes its new refresh token
// the one *current names, so that each worker rotates its own chain.
func followRefresh(current *string) func(status int, body []byte) error {
	return func(status int, body []byte) error {
		tr, err := parseToken(status, body)
		if err != nil {
			return err
		}
		if tr.RefreshToken == "" {
			return errors.New("refresh response has no refresh_token")
		}
		*current = tr.RefreshToken
		return nil
	}
}
