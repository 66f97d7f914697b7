package httpx

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	"github.com/tokend/tokend/internal/fault"
)

// FuzzDecodeJSON: whatever the body and content type, DecodeJSON either
// fills the value with exactly what a plain decode of the body would, or
// answers one of its client errors; it never panics and never accepts a
// body over the limit.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"id":"shop","scopes":["read"],"ttl":60}`},
		{"application/json; charset=utf-8", `{"id":"x"}`},
		{"application/json", `{"id":"x"} {"id":"y"}`},
		{"application/json", `{"nope":1}`},
		{"application/json", `[1,2]`},
		{"application/json", `{"ttl":"60"}`},
		{"text/plain", `{"id":"x"}`},
		{"application/json", ``},
		{"application/json", `{"id":"\u0000"}`},
	} {
		f.Add(seed.ct, []byte(seed.body))
	}
	const limit = 256
	type body struct {
		ID     string   `json:"id"`
		Scopes []string `json:"scopes"`
		TTL    *int64   `json:"ttl"`
	}
	allowed := []fault.Code{fault.CodeInvalidRequest, fault.CodeUnsupportedMediaType, fault.CodeTooLarge}
	f.Fuzz(func(t *testing.T, ct string, raw []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(raw))
		r.Header.Set("Content-Type", ct)
		var got body
		err := DecodeJSON(r, limit, &got)
		if err != nil {
			if c := fault.CodeOf(err); !slices.Contains(allowed, c) {
				t.Fatalf("error code %q (%v)", c, err)
			}
			return
		}
		if len(raw) > limit {
			t.Fatalf("accepted %d bytes over a limit of %d", len(raw), limit)
		}
		var want body
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("accepted a body json.Unmarshal refuses: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %+v, json.Unmarshal gives %+v", got, want)
		}
	})
}
