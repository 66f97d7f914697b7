package app_test

import (
	"net/url"
	"testing"
)

// allowedDescription reports whether every character of d is one RFC 6749
// §5.2 allows in error_description: %x20-21 / %x23-5B / %x5D-7E.
func allowedDescription(d string) bool {
	for i := 0; i < len(d); i++ {
		if c := d[i]; c < 0x20 || c == '"' || c == '\\' || c > 0x7e {
			return false
		}
	}
	return true
}

// TestErrorDescriptionsAreSafe: caller input quoted in an error never
// brings a character RFC 6749 §5.2 forbids into error_description.
func TestErrorDescriptionsAreSafe(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		hostile := "a\"b\\cé\x01\x7f"
		for name, v := range map[string]url.Values{
			"scope":                {"grant_type": {"client_credentials"}, "scope": {hostile}},
			"scope not allowed":    {"grant_type": {"client_credentials"}, "scope": {"x\"y\\z"}},
			"audience":             {"grant_type": {"client_credentials"}, "audience": {hostile}},
			"resource":             {"grant_type": {"client_credentials"}, "resource": {"https://x.example/" + hostile}},
			"grant type":           {"grant_type": {hostile}},
			"client_id mismatched": {"grant_type": {"client_credentials"}, "client_id": {hostile}},
		} {
			r := o.form(t, "token", "svc", o.svcSecret, v)
			d := r.str("error_description")
			if r.Status != 400 || d == "" || !allowedDescription(d) {
				t.Errorf("%s: %d error_description %q (raw %s)", name, r.Status, d, r.Raw)
			}
		}
		// The admin API's errors too.
		r := s.call(t, "POST", "/v1/tenants/shop/tokens", s.Admin, map[string]any{"client_id": "svc", "scope": hostile})
		if d := r.str("error_description"); r.Status != 422 || d == "" || !allowedDescription(d) {
			t.Errorf("admin: %d error_description %q", r.Status, d)
		}
	})
}
