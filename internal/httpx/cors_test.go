package httpx

import "testing"

func TestCORSClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path   string
		class  corsClass
		tenant string
	}{
		{"/t/acme/.well-known/openid-configuration", corsPublic, "acme"},
		{"/.well-known/oauth-authorization-server/t/acme", corsPublic, "acme"},
		{"/t/acme/jwks.json", corsPublic, "acme"},
		{"/t/acme/oauth2/token", corsTenant, "acme"},
		{"/t/acme/oauth2/revoke", corsTenant, "acme"},
		{"/t/acme/tokens/renew", corsTenant, "acme"},
		{"/t/acme/customers/login", corsTenant, "acme"},
		{"/t/acme/customers/logout", corsTenant, "acme"},
		{"/t/acme/oauth2/introspect", corsNone, ""},
		{"/t/acme/oauth2/token/", corsNone, ""},
		{"/t/acme/oauth2/token/x", corsNone, ""},
		{"/t//oauth2/token", corsNone, ""},
		{"/t/acme", corsNone, ""},
		{"/.well-known/oauth-authorization-server/t/", corsNone, ""},
		{"/.well-known/oauth-authorization-server/t/a/b", corsNone, ""},
		{"/v1/tenants/acme", corsNone, ""},
		{"/t/acme/check", corsNone, ""},
	} {
		c, ten := classify(tc.path)
		if c != tc.class || ten != tc.tenant {
			t.Errorf("classify(%q) = %v, %q; want %v, %q", tc.path, c, ten, tc.class, tc.tenant)
		}
	}
}
