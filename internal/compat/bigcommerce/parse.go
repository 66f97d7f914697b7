package bigcommerce

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// Token families of the REST endpoints.
const (
	famStorefront    = "storefront"
	famPrivate       = "private"
	famImpersonation = "impersonation"
)

// PrivateScopes are the scopes a private token may be created with
// (storefront_tokens.v3.yml, TokenPostPrivate.scopes enum).
var PrivateScopes = []string{"Unauthenticated", "Customer", "B2B"}

// createRequest is a create body, parsed.
type createRequest struct {
	ExpiresAt int64
	Channels  []int64
	Origins   []string
	Scopes    []string
}

// invalidBody is a 422 naming each bad field (BigCommerce's errors
// object: field → message).
type invalidBody struct{ fields map[string]string }

func (e *invalidBody) Error() string {
	keys := make([]string, 0, len(e.fields))
	for k := range e.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "invalid body: " + strings.Join(keys, ", ")
}

// mediaError is a 415 (Content-Type) or 406 (Accept).
type mediaError struct{ status int }

func (e *mediaError) Error() string { return fmt.Sprintf("media type refused (%d)", e.status) }

// checkContentType requires a JSON body (415 otherwise).
func checkContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &mediaError{status: 415}
	}
	return nil
}

// checkAccept requires that the caller accepts JSON (406 otherwise); no
// Accept at all is the spec's default, application/json.
func checkAccept(values []string) error {
	if len(values) == 0 {
		return nil
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok && (q == "0" || q == "0.0" || q == "0.00" || q == "0.000") {
				continue
			}
			if mt == "application/json" || mt == "application/*" || mt == "*/*" {
				return nil
			}
		}
	}
	return &mediaError{status: 406}
}

// fieldsOf lists the body fields a family takes (TokenPostSimple,
// TokenPostImpersonation, TokenPostPrivate); dev_mode is the older
// spec's and is accepted where it was.
func fieldsOf(fam string) []string {
	switch fam {
	case famStorefront:
		return []string{"expires_at", "channel_id", "channel_ids", "allowed_cors_origins", "dev_mode"}
	case famPrivate:
		return []string{"expires_at", "channel_id", "channel_ids", "scopes"}
	}
	return []string{"expires_at", "channel_id", "channel_ids", "dev_mode"}
}

// parseCreate parses a create body of family fam strictly: one JSON
// object, known fields of the right types, expires_at required, exactly
// one of channel_id and channel_ids, 1 or 2 non-empty origins, 1 or more
// known scopes. Every problem is reported at once.
func parseCreate(fam string, body []byte) (createRequest, error) {
	bad := map[string]string{}
	var in map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil || in == nil || dec.More() {
		return createRequest{}, &invalidBody{map[string]string{"body": "must be one JSON object"}}
	}
	known := fieldsOf(fam)
	for k := range in {
		if !slices.Contains(known, k) {
			bad[k] = "is not a field of this request"
		}
	}
	var r createRequest
	if raw, ok := in["expires_at"]; !ok {
		bad["expires_at"] = "is required (unix seconds)"
	} else if n, ok := integer(raw); !ok || n < 0 {
		bad["expires_at"] = "must be a non-negative integer (unix seconds)"
	} else {
		r.ExpiresAt = n
	}
	_, one := in["channel_id"]
	_, many := in["channel_ids"]
	switch {
	case one && many:
		bad["channel_ids"] = "send either channel_id or channel_ids, not both"
	case !one && !many:
		bad["channel_ids"] = "channel_id or channel_ids is required"
	case one:
		if n, ok := integer(in["channel_id"]); !ok || n < 1 {
			bad["channel_id"] = "must be a positive integer"
		} else {
			r.Channels = []int64{n}
		}
	default:
		var l []json.RawMessage
		if json.Unmarshal(in["channel_ids"], &l) != nil || len(l) == 0 || len(l) > 100 {
			bad["channel_ids"] = "must be an array of 1 to 100 channel ids"
			break
		}
		for i, v := range l {
			n, ok := integer(v)
			if !ok || n < 1 {
				bad[fmt.Sprintf("channel_ids[%d]", i)] = "must be a positive integer"
				continue
			}
			r.Channels = append(r.Channels, n)
		}
	}
	if raw, ok := in["allowed_cors_origins"]; ok {
		var l []json.RawMessage
		if json.Unmarshal(raw, &l) != nil || len(l) < 1 || len(l) > 2 {
			bad["allowed_cors_origins"] = "must be an array of 1 or 2 origins"
		} else {
			for i, v := range l {
				var s string
				if json.Unmarshal(v, &s) != nil || s == "" || len(s) > 255 {
					bad[fmt.Sprintf("allowed_cors_origins[%d]", i)] = "must be an origin (scheme://host[:port])"
					continue
				}
				r.Origins = append(r.Origins, s)
			}
		}
	}
	if raw, ok := in["dev_mode"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			bad["dev_mode"] = "must be a boolean"
		}
	}
	if fam == famPrivate {
		raw, ok := in["scopes"]
		var l []json.RawMessage
		switch {
		case !ok:
			bad["scopes"] = "is required: one or more of " + strings.Join(PrivateScopes, ", ")
		case json.Unmarshal(raw, &l) != nil || len(l) == 0 || len(l) > len(PrivateScopes)*4:
			bad["scopes"] = "must be an array of one or more of " + strings.Join(PrivateScopes, ", ")
		default:
			for i, v := range l {
				var s string
				if json.Unmarshal(v, &s) != nil || !slices.Contains(PrivateScopes, s) {
					bad[fmt.Sprintf("scopes[%d]", i)] = "must be one of " + strings.Join(PrivateScopes, ", ")
					continue
				}
				r.Scopes = append(r.Scopes, s)
			}
		}
	}
	if len(bad) > 0 {
		return createRequest{}, &invalidBody{bad}
	}
	return r, nil
}

// integer reads a JSON integer (no fraction, no exponent) that fits int64.
func integer(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !(raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') {
		return 0, false
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&n) != nil || strings.ContainsAny(n.String(), ".eE") {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}

// looksLikeJWT reports whether raw has a JWS compact form: three
// non-empty base64url segments.
func looksLikeJWT(raw string) bool {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.TrimLeft(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

// peekJWT tells BigCommerce's three malformed cases apart before any
// verification: not a JWT, a JWT whose header or payload is not JSON,
// and JSON that is not a token of this server (no iss, kind or jti).
// Nothing of the token is trusted here.
func peekJWT(raw string) error {
	if !looksLikeJWT(raw) {
		return &gqlAuthError{msgNotJWT}
	}
	parts := strings.Split(raw, ".")
	var header map[string]any
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil {
		return &gqlAuthError{msgNotJWT}
	}
	var payload struct {
		Issuer *string `json:"iss"`
		Kind   *string `json:"kind"`
		ID     *string `json:"jti"`
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(hb, &header) != nil || header == nil || json.Unmarshal(pb, &probe) != nil || probe == nil {
		return &gqlAuthError{msgNoJSON}
	}
	if _, ok := header["alg"].(string); !ok || json.Unmarshal(pb, &payload) != nil ||
		payload.Issuer == nil || payload.Kind == nil || payload.ID == nil {
		return &gqlAuthError{msgUnknownFormat}
	}
	return nil
}

// envelope is a GraphQL-over-HTTP request body.
type envelope struct {
	Query         string
	OperationName string
	Variables     map[string]any
}

// maxQuery bounds a GraphQL document.
const maxQuery = 64 << 10

// parseEnvelope reads a POST body (GraphQL over HTTP: application/json
// with query, operationName, variables and extensions). The query
// parameters BigCommerce's client appends (operation, type) are only
// hints and are ignored.
func parseEnvelope(contentType string, body []byte, _ url.Values) (envelope, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != "application/json" && mt != "application/graphql-response+json" && mt != "application/graphql+json") {
		return envelope{}, errors.New("The request body must be JSON (Content-Type: application/json).")
	}
	var in map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil || in == nil || dec.More() {
		return envelope{}, errors.New("The request body must be one JSON object.")
	}
	var e envelope
	for k, v := range in {
		switch k {
		case "query":
			if json.Unmarshal(v, &e.Query) != nil {
				return envelope{}, errors.New("query must be a string.")
			}
		case "operationName":
			if string(v) != "null" && json.Unmarshal(v, &e.OperationName) != nil {
				return envelope{}, errors.New("operationName must be a string.")
			}
		case "variables":
			if string(v) == "null" {
				continue
			}
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			if d.Decode(&e.Variables) != nil || e.Variables == nil {
				return envelope{}, errors.New("variables must be an object.")
			}
		case "extensions":
			var m map[string]any
			if string(v) != "null" && json.Unmarshal(v, &m) != nil {
				return envelope{}, errors.New("extensions must be an object.")
			}
		default:
			return envelope{}, fmt.Errorf("%q is not a field of a GraphQL request.", k)
		}
	}
	if strings.TrimSpace(e.Query) == "" {
		return envelope{}, errors.New("A query is required.")
	}
	if len(e.Query) > maxQuery {
		return envelope{}, fmt.Errorf("The query must be at most %d bytes.", maxQuery)
	}
	return e, nil
}
