package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/internal/fault"
)

// DefaultMaxBody is the default request body limit.
const DefaultMaxBody = 1 << 20

// DecodeJSON strictly decodes a JSON request body into v: the content type
// must be application/json, the body at most limit bytes, one JSON value
// with no unknown fields and nothing after it.
func DecodeJSON(r *http.Request, limit int64, v any) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return fault.UnsupportedMediaType("request body must be application/json")
	}
	body, err := ReadBody(r, limit)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fault.InvalidRequest("%s", describeJSONError(err))
	}
	if dec.More() {
		return fault.InvalidRequest("request body must hold a single JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.InvalidRequest("request body must hold a single JSON value")
	}
	return nil
}

// ReadBody reads at most limit bytes of the body; a larger body is a
// request_too_large fault.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if r.ContentLength > limit {
		return nil, fault.TooLarge("request body exceeds %d bytes", limit)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fault.TooLarge("request body exceeds %d bytes", mbe.Limit)
		}
		return nil, fault.InvalidRequest("could not read request body")
	}
	if int64(len(b)) > limit {
		return nil, fault.TooLarge("request body exceeds %d bytes", limit)
	}
	return b, nil
}

func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("%s: must be %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return fmt.Sprintf("request body must be a JSON %s", jsonKind(te.Type.Kind().String()))
	case errors.Is(err, io.EOF):
		return "request body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of input"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	default:
		return "malformed JSON"
	}
}

func jsonKind(k string) string {
	switch k {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "ptr":
		return "a value of the right type"
	default:
		return "a number"
	}
}

// ParseForm parses an application/x-www-form-urlencoded body of at most
// limit bytes, rejecting repeated parameters other than multi.
func ParseForm(r *http.Request, limit int64, multi ...string) (url.Values, error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/x-www-form-urlencoded" {
		return nil, fault.InvalidRequest("the request body must be application/x-www-form-urlencoded")
	}
	body, err := ReadBody(r, limit)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fault.InvalidRequest("malformed form body")
	}
	if len(r.URL.RawQuery) > 0 {
		return nil, fault.InvalidRequest("parameters must be sent in the request body, not the URL")
	}
	for k, v := range form {
		if len(v) > 1 && !slices.Contains(multi, k) {
			return nil, fault.InvalidRequest("parameter %q is repeated", k)
		}
	}
	return form, nil
}
