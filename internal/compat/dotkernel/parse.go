package dotkernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
)

// tokenFields are the members a token request body may hold: league's
// parameters of the password and refresh_token grants.
var tokenFields = []string{"grant_type", "client_id", "client_secret", "scope", "username", "password", "refresh_token"}

// badRequest is a request refused before the core sees it, in league's
// invalid_request or unsupported_grant_type shape.
type badRequest struct {
	// param names the offending parameter (league's hint "Check the `x`
	// parameter"); empty for a body that is not a JSON object at all.
	param string
	// unsupported: the grant type is none of the two this endpoint serves.
	unsupported bool
	// tooLarge: the body exceeds the limit.
	tooLarge bool
}

func (b *badRequest) Error() string {
	switch {
	case b.unsupported:
		return "unsupported grant type"
	case b.tooLarge:
		return "request body too large"
	case b.param == "":
		return "request body is not a JSON object"
	}
	return "bad parameter " + b.param
}

// parseToken reads a token request as Dotkernel's clients send it: a JSON
// object of strings (Content-Type application/json), at most limit bytes.
// Each member may appear once; an unknown member, a member that is not a
// string, or a second copy is refused naming it. An empty string counts as
// absent. The grant type must be password or refresh_token (the grants
// Dotkernel enables), then client_id must be present: league checks these
// two before anything else. Client credentials may also come as HTTP Basic
// (league reads the body first and falls back to the header).
func parseToken(r *http.Request, limit int64) (*grant.Request, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &badRequest{}
	}
	body, err := httpx.ReadBody(r, limit)
	if err != nil {
		return nil, &badRequest{tooLarge: true}
	}
	v, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	gt := v["grant_type"]
	if gt != grant.Password && gt != grant.RefreshToken {
		return nil, &badRequest{unsupported: true}
	}
	req := &grant.Request{
		GrantType: gt, Username: v["username"], Password: v["password"], RefreshToken: v["refresh_token"],
	}
	if req.Scope, err = grant.ParseScope(v["scope"]); err != nil {
		return nil, &badRequest{param: "scope"}
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(strings.ToLower(auth), "basic ") || v["client_id"] != "" {
		// The body's credentials win over the header's, as in league.
		auth = ""
	}
	form := map[string][]string{}
	if auth == "" {
		if v["client_id"] == "" {
			return nil, &badRequest{param: "client_id"}
		}
		form["client_id"] = []string{v["client_id"]}
		if v["client_secret"] != "" {
			form["client_secret"] = []string{v["client_secret"]}
		}
	}
	if req.Client, err = authn.ParseCredentials(auth, form); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeObject decodes body as one JSON object whose members are known
// token parameters holding strings (or null, meaning absent).
func decodeObject(body []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, &badRequest{}
	}
	out := map[string]string{}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, &badRequest{}
		}
		key, _ := t.(string)
		known := false
		for _, f := range tokenFields {
			known = known || f == key
		}
		if !known || seen[key] {
			return nil, &badRequest{param: key}
		}
		seen[key] = true
		t, err = dec.Token()
		if err != nil {
			return nil, &badRequest{}
		}
		switch val := t.(type) {
		case string:
			out[key] = val
		case nil:
		case json.Delim:
			return nil, &badRequest{param: key}
		default:
			return nil, &badRequest{param: key}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, &badRequest{}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &badRequest{}
	}
	return out, nil
}

// bearer returns the token of an "Authorization: Bearer" header, and
// whether there is one. Anything else is no token: Dotkernel treats the
// caller as a guest.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}
