package exchange

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Header is the part of a JWS header the checks read.
type Header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid,omitempty"`
	Typ  string   `json:"typ,omitempty"`
	Crit []string `json:"crit,omitempty"`
}

// Peeked is an unverified JWT: what it claims to be, read only to choose
// the issuer whose keys verify it. Nothing in it is trusted yet.
type Peeked struct {
	Header  Header
	Issuer  string
	Payload []byte
}

// Peek errors.
var (
	ErrNotJWT    = errors.New("not a compact JWS")
	ErrMalformed = errors.New("malformed JWT")
)

// UnsafePeek decodes a compact JWS without verifying it (RFC 7515 §7.1):
// three base64url parts without padding, a JSON object header with alg,
// a JSON object payload. A value that is not three dot-separated parts is
// ErrNotJWT (an opaque token, perhaps); anything else wrong ErrMalformed.
// The caller bounds len(raw).
func UnsafePeek(raw string) (*Peeked, error) {
	h, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return nil, ErrNotJWT
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") {
		return nil, ErrNotJWT
	}
	hb, err := base64.RawURLEncoding.Strict().DecodeString(h)
	if err != nil {
		return nil, ErrMalformed
	}
	pb, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		return nil, ErrMalformed
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(sig); err != nil || sig == "" {
		return nil, ErrMalformed
	}
	var out Peeked
	if err := strictObject(hb, &out.Header); err != nil || out.Header.Alg == "" {
		return nil, ErrMalformed
	}
	var iss struct {
		Iss string `json:"iss"`
	}
	if err := strictObject(pb, &iss); err != nil {
		return nil, ErrMalformed
	}
	out.Issuer, out.Payload = iss.Iss, pb
	return &out, nil
}

// strictObject decodes a JSON object, refusing anything after it.
func strictObject(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return ErrMalformed
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return ErrMalformed
	}
	return nil
}
