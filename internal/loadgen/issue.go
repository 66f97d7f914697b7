package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// prepareIssue is ModeIssue: client_credentials token requests.
func prepareIssue(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	return &target{url: c.oauthURL("token"), auth: auth, body: c.issueBody(), check: expectStatus200}, nil
}

// issueBody is the form of a client_credentials token request.
func (c Config) issueBody() []byte {
	v := url.Values{"grant_type": {"client_credentials"}}
	if c.Scope != "" {
		v.Set("scope", c.Scope)
	}
	return []byte(v.Encode())
}

// issueToken gets one access token with a client_credentials request: the
// setup of the modes that present one token over and over.
func issueToken(ctx context.Context, c Config, client *http.Client, auth string) (string, error) {
	w := setupWorker(client, &target{auth: auth})
	st, body, err := w.post(ctx, c.oauthURL("token"), c.issueBody())
	if err != nil {
		return "", fmt.Errorf("setup: token request: %w", err)
	}
	tr, err := parseToken(st, body)
	if err != nil {
		return "", fmt.Errorf("setup: token request: %w", err)
	}
	if tr.AccessToken == "" {
		return "", errors.New("setup: token response has no access_token")
	}
	return tr.AccessToken, nil
}
