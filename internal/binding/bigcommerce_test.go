package binding

import (
	"encoding/json"
	"testing"
)

func TestBigCommerceSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw string
		bad       []string
	}{
		{"ok", `{"store_hash":"abc123","channels":[{"id":1,"name":"Default"},{"id":667251}]}`, nil},
		{"no hash", `{"channels":[{"id":1}]}`, []string{"store_hash"}},
		{"upper case hash", `{"store_hash":"ABC","channels":[{"id":1}]}`, []string{"store_hash"}},
		{"no channels", `{"store_hash":"abc"}`, []string{"channels"}},
		{"zero channel", `{"store_hash":"abc","channels":[{"id":0}]}`, []string{"channels[0].id"}},
		{"twice", `{"store_hash":"abc","channels":[{"id":1},{"id":1}]}`, []string{"channels[1].id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, p, err := Decode(BigCommerceName, json.RawMessage(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != len(tc.bad) {
				t.Fatalf("problems %v, want %v", p, tc.bad)
			}
			for _, f := range tc.bad {
				if p[f] == "" {
					t.Errorf("no problem reported for %s: %v", f, p)
				}
			}
			if tc.bad == nil && s.LookupKey() != "abc123" {
				t.Errorf("lookup key %q", s.LookupKey())
			}
		})
	}
	if _, p, _ := Decode(BigCommerceName, json.RawMessage(`{"store_hash":"a","channels":[{"id":1}],"x":1}`)); p["settings"] == "" {
		t.Error("unknown field accepted")
	}
}
