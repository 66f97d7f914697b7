package loadgen

import (
	"context"
	"net/http"
	"net/url"
)

// ModeTokenExchange posts RFC 8693 token exchange requests of one subject
// token (Config.SubjectToken, e.g. an ID token of a trusted issuer) over
// and over: each costs tokend the subject token's signature check (the
// provider's keys cached) beside its own signature.
const ModeTokenExchange = "token-exchange"

// prepareTokenExchange is ModeTokenExchange.
func prepareTokenExchange(_ context.Context, c Config, _ *http.Client, auth string) (*target, error) {
	typ := c.SubjectTokenType
	if typ == "" {
		typ = "urn:ietf:params:oauth:token-type:id_token"
	}
	v := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {c.SubjectToken},
		"subject_token_type": {typ}}
	if c.Scope != "" {
		v.Set("scope", c.Scope)
	}
	return &target{url: c.oauthURL("token"), auth: auth, body: []byte(v.Encode()), check: expectStatus200}, nil
}
