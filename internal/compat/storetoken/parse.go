package storetoken

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"
)

// maxID bounds a store id in the path.
const maxID = 128

// generateBody is the optional body of POST /stores/{id}/generate_token,
// beyond the seed: an expiry within the tenant's lifetime and an audience.
type generateBody struct {
	ExpiresIn *int64   `json:"expires_in"`
	Audience  []string `json:"audience"`
}

// signIn is the body of POST /user_token, as Knock's AuthTokenController
// reads it (params.require(:auth).permit(:email, :password)).
type signIn struct {
	Email    string
	Password string
}

// badRequest is a request the surface refuses before calling the core:
// status 400, or 422 when field names a value it does not accept.
type badRequest struct {
	field string
	msg   string
}

func (e *badRequest) Error() string { return e.msg }

func bad(field, format string, args ...any) error {
	return &badRequest{field: field, msg: fmt.Sprintf(format, args...)}
}

// parseStoreID checks the store id of the path: the id as sent, 1 to 128
// printable characters.
func parseStoreID(id string) (string, error) {
	if id == "" || len(id) > maxID || !utf8.ValidString(id) || strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", bad("", "the store id must be 1 to %d printable characters", maxID)
	}
	return id, nil
}

// parseGenerate reads the optional body of generate_token: none, an empty
// body, or a JSON object with expires_in (whole seconds) and audience (an
// array of strings), nothing else.
func parseGenerate(contentType string, body []byte) (generateBody, error) {
	var g generateBody
	if len(bytes.TrimSpace(body)) == 0 {
		return g, nil
	}
	if err := jsonType(contentType); err != nil {
		return g, err
	}
	var raw map[string]json.RawMessage
	if err := strictObject(body, &raw); err != nil {
		return g, err
	}
	for k, v := range raw {
		switch k {
		case "expires_in":
			var n json.Number
			if len(v) == 0 || v[0] < '0' || v[0] > '9' || json.Unmarshal(v, &n) != nil || strings.ContainsAny(n.String(), ".eE-") {
				return g, bad("expires_in", "expires_in must be a positive whole number of seconds")
			}
			i, err := n.Int64()
			if err != nil || i <= 0 {
				return g, bad("expires_in", "expires_in must be a positive whole number of seconds")
			}
			g.ExpiresIn = &i
		case "audience":
			var l []string
			if err := json.Unmarshal(v, &l); err != nil || l == nil {
				return g, bad("audience", "audience must be an array of strings")
			}
			if len(l) == 0 || len(l) > 10 {
				return g, bad("audience", "audience must list 1 to 10 audiences")
			}
			for _, a := range l {
				if a == "" || len(a) > 256 || !utf8.ValidString(a) {
					return g, bad("audience", "each audience must be 1 to 256 characters")
				}
			}
			g.Audience = l
		default:
			return g, bad(k, "unknown field %q (expires_in and audience are accepted)", k)
		}
	}
	return g, nil
}

// parseSignIn reads Knock's sign-in body {"auth":{"email":…,"password":…}}.
func parseSignIn(contentType string, body []byte) (signIn, error) {
	var s signIn
	if err := jsonType(contentType); err != nil {
		return s, err
	}
	var outer map[string]json.RawMessage
	if err := strictObject(body, &outer); err != nil {
		return s, err
	}
	auth, ok := outer["auth"]
	if !ok || len(outer) != 1 {
		return s, bad("", "param is missing or the value is empty: auth")
	}
	var in map[string]json.RawMessage
	if err := strictObject(auth, &in); err != nil {
		return s, bad("", "param is missing or the value is empty: auth")
	}
	for k, v := range in {
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			return s, bad(k, "%s must be a string", k)
		}
		switch k {
		case "email":
			s.Email = str
		case "password":
			s.Password = str
		default:
			return s, bad(k, "unknown field %q (email and password are accepted)", k)
		}
	}
	if len(s.Email) > 320 || len(s.Password) > 1024 {
		return s, bad("", "email or password too long")
	}
	return s, nil
}

func jsonType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return bad("", "the body must be application/json")
	}
	return nil
}

// strictObject decodes exactly one JSON object, no duplicate keys, nothing
// after it.
func strictObject(b []byte, v *map[string]json.RawMessage) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil || *v == nil {
		return bad("", "the body is not a JSON object")
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return bad("", "the body must hold a single JSON object")
	}
	if dupKeys(b) {
		return bad("", "the body repeats a key")
	}
	return nil
}

// dupKeys reports whether the top-level object of b repeats a key.
func dupKeys(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return false
		}
		k, _ := t.(string)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// bearer is the token of Knock's Authenticable#token: the last
// whitespace-separated word of Authorization, so "Bearer X" and "X" both
// work; "" when there is none.
func bearer(authorization string) string {
	f := strings.Fields(authorization)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}
