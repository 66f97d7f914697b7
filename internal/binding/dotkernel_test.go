package binding

import (
	"encoding/json"
	"testing"
)

func TestDotkernelSettings(t *testing.T) {
	t.Parallel()
	s, problems, err := Decode("dotkernel", json.RawMessage(`{"admin_client":"admin","user_client":"frontend"}`))
	if err != nil || problems != nil {
		t.Fatalf("Decode = %v, %v", problems, err)
	}
	d := s.(*Dotkernel)
	if got := d.Clients(); len(got) != 2 || got[0] != "admin" || got[1] != "frontend" {
		t.Errorf("Clients = %v", got)
	}
	if d.AdminRoleName() != "admin" || d.UserRoleName() != "user" || d.LookupKey() != "" {
		t.Errorf("defaults: %q %q %q", d.AdminRoleName(), d.UserRoleName(), d.LookupKey())
	}
	for name, tc := range map[string]struct {
		raw    string
		fields []string
	}{
		"empty":         {`{}`, []string{"admin_client", "user_client"}},
		"same client":   {`{"admin_client":"a","user_client":"a"}`, []string{"user_client"}},
		"bad role":      {`{"admin_client":"a","user_client":"b","admin_role":"Not A Role"}`, []string{"admin_role"}},
		"unknown field": {`{"admin_client":"a","user_client":"b","secret":"x"}`, []string{"settings"}},
	} {
		_, problems, err := Decode("dotkernel", json.RawMessage(tc.raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range tc.fields {
			if problems[f] == "" {
				t.Errorf("%s: no problem with %s: %v", name, f, problems)
			}
		}
		if len(problems) != len(tc.fields) {
			t.Errorf("%s: problems %v, want only %v", name, problems, tc.fields)
		}
	}
}
