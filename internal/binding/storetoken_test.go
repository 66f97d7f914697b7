package binding_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/binding"
)

func TestStoreTokenSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw   string
		field string
	}{
		{`{}`, ""},
		{`{"token_lifetime":7776000,"admin_role":"owner","user_audience":["backend","ops"],"host":"api.example.com"}`, ""},
		{`{"token_lifetime":-1}`, "token_lifetime"},
		{`{"token_lifetime":3155695201}`, "token_lifetime"},
		{`{"user_audience":[""]}`, "user_audience"},
		{`{"host":"API.example.com"}`, "host"},
		{`{"host":"api.example.com:443"}`, "host"},
		{`{"secret":"x"}`, "settings"},
	} {
		_, p, err := binding.Decode(binding.StoreTokenName, json.RawMessage(tc.raw))
		if err != nil {
			t.Fatal(err)
		}
		if tc.field == "" && len(p) != 0 || tc.field != "" && p[tc.field] == "" {
			t.Errorf("%s: problems %v, want one for %q", tc.raw, p, tc.field)
		}
	}
	s, _, _ := binding.Decode(binding.StoreTokenName, json.RawMessage(`{}`))
	st := s.(*binding.StoreToken)
	if st.Lifetime() != 3155695200*time.Second || st.Admin() != "admin" || len(st.Audience()) != 1 || st.Audience()[0] != "backend" || st.LookupKey() != "" {
		t.Fatalf("defaults: %v %q %v", st.Lifetime(), st.Admin(), st.Audience())
	}
}
