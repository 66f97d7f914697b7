package tenantauth

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: the parsers never panic; what they accept has every
// required field non-empty and within bounds; what they refuse is a
// badRequest; parseOIDC's fast path answers as the strict parser does.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"client_id":"c","email_id":"e@x","project_id":"p","tenant_id":"t"}`,
		`{"client_id":"c","email_id":"e@x","project_id":"p","tenant_id":"t","secret_id":"s"}`,
		`{"client_id":"c","email_id":"e@x","project_id":"p","tenant_id":"t","secret_id":null}`,
		`{"oidc_token":"eyJ.x.y"}`, `{"oidc_token":"tkd_a-b~c+d/e="}`, `{"oidc_token":"a\u0062"}`, `{"oidc_token":""}`, `{"tenant_id":`, `[]`, ``, `{"a":1}`, `{"tenant_id":"t","tenant_id":"u"}`,
	} {
		f.Add("application/json", []byte(s))
	}
	f.Add("text/plain", []byte(`{}`))
	f.Add("text/plain", []byte(`{"oidc_token":"eyJ.x.y"}`))
	f.Add("application/json; charset=utf-8", []byte(`{"oidc_token":"eyJ.x.y"}`))
	f.Add("application/jwt+json", []byte(`{"oidc_token":"eyJ.x.y"}`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		var br *badRequest
		tr, err := parseToken(ct, body)
		if err != nil {
			if !errors.As(err, &br) {
				t.Fatalf("token: %v is not a badRequest", err)
			}
		} else {
			for _, v := range []string{tr.TenantID, tr.ProjectID, tr.ClientID, tr.EmailID} {
				if v == "" || len(v) > maxField || strings.ContainsRune(v, 0) {
					t.Fatalf("accepted %q", body)
				}
			}
		}
		o, err := parseOIDC(ct, body)
		if so, serr := parseOIDCStrict(ct, body); so != o || (serr == nil) != (err == nil) {
			t.Fatalf("%q %q: parseOIDC %+v %v, the strict parser %+v %v", ct, body, o, err, so, serr)
		}
		if err != nil {
			if !errors.As(err, &br) {
				t.Fatalf("oidc: %v is not a badRequest", err)
			}
		} else if o.OIDCToken == "" || len(o.OIDCToken) > maxOIDCToken {
			t.Fatalf("accepted %q", body)
		}
	})
}
