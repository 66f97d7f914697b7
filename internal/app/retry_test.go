package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestRetryAfter: every 429 and 503 answer says when to retry, in every
// response shape: the login throttle's remaining wait, and a short fixed
// wait while the database is gone.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")

		// 429: the password grant's throttle, after 5 free failures.
		bad := url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {"wrong"}}
		for range 6 {
			o.form(t, "token", "app", o.appSecret, bad)
		}
		r := o.form(t, "token", "app", o.appSecret, bad)
		m := regexp.MustCompile(`retry in (\d+) s`).FindStringSubmatch(r.str("error_description"))
		if r.Status != 429 || m == nil {
			t.Fatalf("throttled login: %d %s", r.Status, r.Raw)
		}
		if got := r.Header.Get("Retry-After"); got != m[1] {
			t.Fatalf("throttled login: Retry-After %q, want the throttle's wait %s s", got, m[1])
		}
		// The customer login shares the account's throttle.
		req, _ := http.NewRequest("POST", s.URL+"/t/shop/customers/login", strings.NewReader(`{"email":"alice@example.com","password":"wrong"}`))
		req.Header.Set("Content-Type", "application/json")
		r = send(t, req)
		m = regexp.MustCompile(`retry in (\d+) s`).FindStringSubmatch(r.str("error_description"))
		if r.Status != 429 || m == nil || r.Header.Get("Retry-After") != m[1] {
			t.Fatalf("throttled customer login: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Raw)
		}

		// 503: the database is gone.
		tok := want(t, o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
		opaque := want(t, s.call(t, "POST", "/v1/tenants/shop/tokens", s.Admin, map[string]any{"client_id": "svc", "format": "opaque"}), 201).str("access_token")
		want(t, o.form(t, "introspect", "svc", o.svcSecret, url.Values{"token": {tok}}), 200) // the client is now cached
		if err := s.App.Store().Close(); err != nil {
			t.Fatal(err)
		}
		get := func(path, bearer string) response {
			req, _ := http.NewRequest("GET", s.URL+path, nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			return send(t, req)
		}
		for name, r := range map[string]response{
			"oauth revoke":     o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {tok}}),
			"oauth introspect": o.form(t, "introspect", "svc", o.svcSecret, url.Values{"token": {opaque}}),
			"admin API":        s.call(t, "GET", "/v1/tenants/shop/clients", s.Admin, nil),
			"gateway check":    get("/t/shop/check", opaque),
			"revocation feed":  o.feed(t, "after=0"),
			"readiness":        get("/readyz", ""),
		} {
			if r.Status != 503 {
				t.Errorf("%s with the database gone: %d %s", name, r.Status, r.Raw)
				continue
			}
			if got := r.Header.Get("Retry-After"); got != "2" {
				t.Errorf("%s: 503 with Retry-After %q, want 2", name, got)
			}
		}
	})
}
