package app_test

import (
	"net/url"
	"slices"
	"testing"
)

// TestTargetAndScopeSyntax: unknown or malformed audiences and resources
// are invalid_target (RFC 8707 §2); scope is parsed to RFC 6749 §3.3, an
// empty one treated as omitted (§3.1).
func TestTargetAndScopeSyntax(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "bare", "grant_types": []string{"client_credentials"},
			"scopes": []string{"read", "write"}}), 201)
		bare := want(t, s.call(t, "POST", "/v1/tenants/shop/clients/bare/secret", s.Admin, nil), 200).str("client_secret")
		token := func(id, secret string, extra url.Values) response {
			v := url.Values{"grant_type": {"client_credentials"}}
			for k, x := range extra {
				v[k] = x
			}
			return o.form(t, "token", id, secret, v)
		}
		for _, tc := range []struct {
			name  string
			id    string
			extra url.Values
			code  string
		}{
			{"unknown audience", "bare", url.Values{"audience": {"https://nope.example"}}, "invalid_target"},
			{"unknown resource", "bare", url.Values{"resource": {"https://nope.example"}}, "invalid_target"},
			{"relative resource", "bare", url.Values{"resource": {"orders"}}, "invalid_target"},
			{"resource with a fragment", "bare", url.Values{"resource": {"https://orders.example.com#x"}}, "invalid_target"},
			{"project outside the client's audiences", "svc", url.Values{"audience": {"https://other.example.com"}}, "invalid_target"},
			{"double space", "bare", url.Values{"scope": {"read  write"}}, "invalid_scope"},
			{"leading space", "bare", url.Values{"scope": {" read"}}, "invalid_scope"},
			{"trailing space", "bare", url.Values{"scope": {"read "}}, "invalid_scope"},
			{"only a space", "bare", url.Values{"scope": {" "}}, "invalid_scope"},
			{"tab", "bare", url.Values{"scope": {"read\twrite"}}, "invalid_scope"},
			{"quote", "bare", url.Values{"scope": {`read"`}}, "invalid_scope"},
			{"backslash", "bare", url.Values{"scope": {`re\ad`}}, "invalid_scope"},
			{"non-ASCII", "bare", url.Values{"scope": {"réad"}}, "invalid_scope"},
		} {
			secret := bare
			if tc.id == "svc" {
				secret = o.svcSecret
			}
			if tc.name == "project outside the client's audiences" {
				want(t, s.call(t, "POST", "/v1/tenants/shop/projects", s.Admin, map[string]any{"id": "other", "audience": "https://other.example.com"}), 201)
			}
			if r := token(tc.id, secret, tc.extra); r.Status != 400 || r.str("error") != tc.code {
				t.Errorf("%s: %d %s, want 400 %s", tc.name, r.Status, r.Raw, tc.code)
			}
		}

		// A resource naming a project is an audience.
		r := want(t, token("bare", bare, url.Values{"resource": {"https://orders.example.com"}}), 200)
		if got := audOf(t, r.str("access_token")); !slices.Equal(got, []string{"https://orders.example.com"}) {
			t.Fatalf("resource aud %v", got)
		}
		// scope= is an omitted scope: every allowed scope, as without it;
		// so is audience=.
		for _, extra := range []url.Values{{"scope": {""}}, {}, {"scope": {""}, "audience": {""}}} {
			r := want(t, token("bare", bare, extra), 200)
			if r.str("scope") != "read write" || payload(t, r.str("access_token"))["scope"] != "read write" {
				t.Fatalf("%v: scope %q", extra, r.str("scope"))
			}
		}
		// Single spaces; a repeated scope counts once.
		if r := want(t, token("bare", bare, url.Values{"scope": {"write read write"}}), 200); r.str("scope") != "read write" {
			t.Fatalf("scope %q", r.str("scope"))
		}
	})
}
