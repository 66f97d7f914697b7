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

// Modes of the Dotkernel API surface (internal/compat/dotkernel) and the
// native grant they are measured beside.
const (
	// ModePassword posts password grants with the right credentials to
	// the tenant's token endpoint: the native counterpart of
	// ModeDotkernelToken.
	ModePassword = "password"
	// ModeDotkernelToken posts Dotkernel's JSON password grant to
	// {Endpoint}/security/generate-token, client credentials in the body.
	ModeDotkernelToken = "dotkernel-token"
	// ModeDotkernelRefresh rotates refresh tokens through Dotkernel's JSON
	// {Endpoint}/security/refresh-token, one chain per worker: the
	// counterpart of ModeRefresh.
	ModeDotkernelRefresh = "dotkernel-refresh"
)

// needsLogin reports whether mode logs a user in (needs Username and
// Password).
func needsLogin(mode string) bool {
	switch mode {
	case ModeRefresh, ModePassword, ModeDotkernelToken, ModeDotkernelRefresh:
		return true
	}
	return false
}

// preparePassword is ModePassword.
func preparePassword(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	v := url.Values{"grant_type": {"password"}, "username": {c.Username}, "password": {c.Password}}
	if c.Scope != "" {
		v.Set("scope", c.Scope)
	}
	return &target{url: c.oauthURL("token"), auth: auth, body: []byte(v.Encode()), check: expectStatus200}, nil
}

// dotkernelURL is {Endpoint}/security/{what}.
func (c Config) dotkernelURL(what string) string {
	return strings.TrimRight(c.Endpoint, "/") + "/security/" + what
}

// dotkernelBody is a Dotkernel token request: the seed's members, in its
// order.
func (c Config) dotkernelBody(grantType string, extra ...string) []byte {
	m := []string{"grant_type", grantType, "client_id", c.ClientID, "client_secret", c.ClientSecret, "scope", c.Scope}
	m = append(m, extra...)
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(m); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m[i])
		v, _ := json.Marshal(m[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// prepareDotkernelToken is ModeDotkernelToken.
func prepareDotkernelToken(ctx context.Context, c Config, client *http.Client) (*target, error) {
	body := c.dotkernelBody("password", "username", c.Username, "password", c.Password)
	return &target{url: c.dotkernelURL("generate-token"), contentType: "application/json", body: body, check: expectStatus200}, nil
}

// prepareDotkernelRefresh is ModeDotkernelRefresh: each worker logs in
// once through generate-token and then rotates its refresh token.
func prepareDotkernelRefresh(ctx context.Context, c Config, client *http.Client) (*target, error) {
	login := c.dotkernelBody("password", "username", c.Username, "password", c.Password)
	t := &target{url: c.dotkernelURL("refresh-token"), contentType: "application/json"}
	t.next = func(w *worker) (func() []byte, checkFunc, error) {
		st, body, err := w.post(ctx, c.dotkernelURL("generate-token"), login)
		if err != nil {
			return nil, nil, fmt.Errorf("setup: generate-token: %w", err)
		}
		tr, err := parseToken(st, body)
		if err != nil {
			return nil, nil, fmt.Errorf("setup: generate-token: %w", err)
		}
		if tr.RefreshToken == "" {
			return nil, nil, errors.New("setup: generate-token response has no refresh_token")
		}
		current := tr.RefreshToken
		build := func() []byte { return c.dotkernelBody("refresh_token", "refresh_token", current) }
		return build, followRefresh(&current), nil
	}
	return t, nil
}
