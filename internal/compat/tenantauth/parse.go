package tenantauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"
)

// maxField bounds each string of a request.
const maxField = 256

// maxOIDCToken bounds the oidc_token of an oidcToken request.
const maxOIDCToken = 16 << 10

// tokenRequest is the body of generateToken (the original's
// sharedmodels.TokenRequest); SecretID is nil when not sent.
type tokenRequest struct {
	TenantID  string
	ProjectID string
	ClientID  string
	EmailID   string
	SecretID  *string
}

// oidcRequest is the body of oidcToken.
type oidcRequest struct {
	OIDCToken string
}

// badRequest is a request refused before the core is called: 400 with
// msg, the text gin's binding would give (it names the field).
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func bad(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// required is gin's validator text for a missing required field of
// struct typ (the Go names of the original's request types).
func required(typ, goName string) error {
	return bad("Key: '%s.%s' Error:Field validation for '%s' failed on the 'required' tag", typ, goName, goName)
}

// tokenFields are generateToken's fields: JSON name → Go name in the
// original's TokenRequest, and whether it is required.
var tokenFields = []struct {
	json, goName string
	required     bool
}{
	{"client_id", "ClientID", true},
	{"email_id", "EmailID", true},
	{"project_id", "ProjectID", true},
	{"secret_id", "SecretID", false},
	{"tenant_id", "TenantID", true},
}

// parseToken reads a generateToken body strictly: one JSON object (an
// application/json body, or no content type, as gin's ShouldBindJSON
// reads any), the four required strings non-empty, secret_id a string
// when present (null counts as absent, as a Go pointer decodes it),
// nothing else.
func parseToken(contentType string, body []byte) (tokenRequest, error) {
	var t tokenRequest
	raw, err := object(contentType, body, "TokenRequest")
	if err != nil {
		return t, err
	}
	for k := range raw {
		known := false
		for _, f := range tokenFields {
			known = known || f.json == k
		}
		if !known {
			return t, bad("json: unknown field %q", k)
		}
	}
	for _, f := range tokenFields {
		v, ok := raw[f.json]
		if !ok || string(v) == "null" {
			if f.required {
				return t, required("TokenRequest", f.goName)
			}
			continue
		}
		s, err := str(v, "TokenRequest", f.json)
		if err != nil {
			return t, err
		}
		if s == "" && f.required {
			return t, required("TokenRequest", f.goName)
		}
		switch f.json {
		case "client_id":
			t.ClientID = s
		case "email_id":
			t.EmailID = s
		case "project_id":
			t.ProjectID = s
		case "secret_id":
			t.SecretID = &s
		case "tenant_id":
			t.TenantID = s
		}
	}
	return t, nil
}

// parseOIDC reads an oidcToken body: {"oidc_token":"…"}, nothing else.
func parseOIDC(contentType string, body []byte) (oidcRequest, error) {
	if tok, ok := canonicalOIDC(body); ok && jsonType(contentType) {
		return oidcRequest{OIDCToken: tok}, nil
	}
	return parseOIDCStrict(contentType, body)
}

// oidcPrefix and oidcSuffix frame the body every client sends.
const oidcPrefix, oidcSuffix = `{"oidc_token":"`, `"}`

// canonicalOIDC reads the body every client sends, {"oidc_token":"…"}
// with a JWT or opaque token of [A-Za-z0-9._~+/=-] (nothing to unescape
// nor validate as UTF-8), in one pass; any other body, however valid, is
// left to the strict parser, which accepts that one body with the same
// result (FuzzParse checks it).
func canonicalOIDC(body []byte) (string, bool) {
	b, ok := bytes.CutPrefix(body, []byte(oidcPrefix))
	if !ok {
		return "", false
	}
	if b, ok = bytes.CutSuffix(b, []byte(oidcSuffix)); !ok || len(b) == 0 || len(b) > maxOIDCToken {
		return "", false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' ||
			c == '~' || c == '+' || c == '/' || c == '=') {
			return "", false
		}
	}
	return string(b), true
}

// jsonType reports whether contentType is empty or a JSON media type, as
// object requires.
func jsonType(contentType string) bool {
	if contentType == "" || contentType == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// parseOIDCStrict is parseOIDC for any body.
func parseOIDCStrict(contentType string, body []byte) (oidcRequest, error) {
	var o oidcRequest
	raw, err := object(contentType, body, "OIDCTokenRequest")
	if err != nil {
		return o, err
	}
	for k := range raw {
		if k != "oidc_token" {
			return o, bad("json: unknown field %q", k)
		}
	}
	v, ok := raw["oidc_token"]
	if !ok || string(v) == "null" {
		return o, required("OIDCTokenRequest", "OIDCToken")
	}
	s, err := str(v, "OIDCTokenRequest", "oidc_token")
	if err != nil {
		return o, err
	}
	if s == "" {
		return o, required("OIDCTokenRequest", "OIDCToken")
	}
	if len(s) > maxOIDCToken {
		return o, bad("oidc_token: must be at most %d bytes", maxOIDCToken)
	}
	o.OIDCToken = s
	return o, nil
}

// object decodes body as one JSON object with unique keys.
func object(contentType string, body []byte, typ string) (map[string]json.RawMessage, error) {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, bad("invalid request payload: Content-Type must be application/json")
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, bad("EOF")
	}
	if !utf8.Valid(body) {
		return nil, bad("invalid character in request body: not UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	tok, err := d.Token()
	if err != nil {
		return nil, bad("%s", syntaxText(err))
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, bad("json: cannot unmarshal %s into Go value of type %s", jsonKind(tok), typ)
	}
	raw := map[string]json.RawMessage{}
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, bad("%s", syntaxText(err))
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, bad("%s", syntaxText(err))
		}
		if _, dup := raw[k]; dup {
			return nil, bad("json: duplicate field %q", k)
		}
		raw[k] = v
	}
	if _, err := d.Token(); err != nil {
		return nil, bad("%s", syntaxText(err))
	}
	if _, err := d.Token(); err == nil {
		return nil, bad("invalid character after top-level value")
	}
	return raw, nil
}

// str decodes a JSON string field, with gin's text for another type.
func str(v json.RawMessage, typ, field string) (string, error) {
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		var x any
		_ = json.Unmarshal(v, &x)
		return "", bad("json: cannot unmarshal %s into Go struct field %s.%s of type string", jsonKind(x), typ, field)
	}
	if len(s) > maxField && field != "oidc_token" {
		return "", bad("%s: must be at most %d characters", field, maxField)
	}
	if field != "oidc_token" && strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", bad("%s: must not contain control characters", field)
	}
	return s, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "bool"
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case json.Delim:
		if v == json.Delim('[') {
			return "array"
		}
		return "object"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "value"
}

func syntaxText(err error) string {
	if err.Error() == "EOF" {
		return "unexpected EOF"
	}
	return err.Error()
}

// parseVerify reads a verifyToken body, {"token":"…"} (the original's
// sharedmodels.VerifyRequest), nothing else.
func parseVerify(contentType string, body []byte) (string, error) {
	raw, err := object(contentType, body, "VerifyRequest")
	if err != nil {
		return "", err
	}
	for k := range raw {
		if k != "token" {
			return "", bad("json: unknown field %q", k)
		}
	}
	v, ok := raw["token"]
	if !ok || string(v) == "null" {
		return "", required("VerifyRequest", "Token")
	}
	s, err := str(v, "VerifyRequest", "oidc_token")
	if err != nil {
		return "", bad("json: cannot unmarshal into Go struct field VerifyRequest.token of type string")
	}
	if s == "" {
		return "", required("VerifyRequest", "Token")
	}
	return s, nil
}
