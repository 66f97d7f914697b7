package app_test

import (
	"net/url"
	"regexp"
	"strconv"
	"testing"
)

// metric returns the value of one sample in the server's /metrics (0 when
// absent); sample is the name with its labels, as exposed.
func (s *server) metric(t *testing.T, sample string) float64 {
	t.Helper()
	m := want(t, s.call(t, "GET", "/metrics", "", nil), 200).Raw
	got := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` ([0-9.e+]+)$`).FindSubmatch(m)
	if got == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(got[1]), 64)
	return v
}

// TestUnknownClientCostsAWrongSecret: an unknown client id costs the same
// hash work as a known client with a wrong secret, whichever way that
// client's secret is stored (SHA-256 for generated secrets, argon2id for
// chosen ones), so response times do not tell which clients exist. The
// work is counted in tokend_client_secret_checks_total, not timed.
func TestUnknownClientCostsAWrongSecret(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "chosen",
			"grant_types": []string{"client_credentials"}, "secret": "a secret a person chose"}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "pub", "public": true,
			"grant_types": []string{"client_credentials"}}), 201)
		generated := o.appSecret // well-formed, and none of these clients' secret
		cc := url.Values{"grant_type": {"client_credentials"}}
		work := func(id, secret string) (sha, argon float64, r response) {
			t.Helper()
			sha0, argon0 := s.metric(t, `tokend_client_secret_checks_total{hash="sha256"}`), s.metric(t, `tokend_client_secret_checks_total{hash="argon2id"}`)
			r = o.form(t, "token", id, secret, cc)
			return s.metric(t, `tokend_client_secret_checks_total{hash="sha256"}`) - sha0,
				s.metric(t, `tokend_client_secret_checks_total{hash="argon2id"}`) - argon0, r
		}
		for _, tc := range []struct {
			name, id, secret string
			sha, argon       float64
		}{
			{"generated secret, unknown client", "ghost", generated, 1, 0},
			{"generated secret, SHA-256 client", "svc", generated, 1, 0},
			{"generated secret, argon2id client", "chosen", generated, 1, 0},
			{"generated secret, public client", "pub", generated, 1, 0},
			{"chosen secret, unknown client", "nobody", "a guess", 0, 1},
			{"chosen secret, SHA-256 client", "svc", "a guess", 0, 1},
			{"chosen secret, argon2id client", "chosen", "a guess", 0, 1},
			{"chosen secret, public client", "pub", "a guess", 0, 1},
		} {
			sha, argon, r := work(tc.id, tc.secret)
			if r.Status != 401 || r.str("error") != "invalid_client" || r.str("error_description") != "client authentication failed" {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
			if sha != tc.sha || argon != tc.argon {
				t.Errorf("%s: spent %v SHA-256 and %v argon2id checks, want %v and %v", tc.name, sha, argon, tc.sha, tc.argon)
			}
		}
		// The right secrets still work, and cost one check of their kind.
		if sha, argon, r := work("svc", o.svcSecret); r.Status != 200 || sha != 1 || argon != 0 {
			t.Errorf("svc with its secret: %d, %v SHA-256, %v argon2id", r.Status, sha, argon)
		}
		if sha, argon, r := work("chosen", "a secret a person chose"); r.Status != 200 || sha != 0 || argon != 1 {
			t.Errorf("chosen with its secret: %d, %v SHA-256, %v argon2id", r.Status, sha, argon)
		}
		// A secret rotated while the client is cached works at once, the
		// old one no more.
		rotated := want(t, s.call(t, "POST", "/v1/tenants/shop/clients/svc/secret", s.Admin, nil), 200).str("client_secret")
		want(t, o.form(t, "token", "svc", rotated, cc), 200)
		want(t, o.form(t, "token", "svc", o.svcSecret, cc), 401)
	})
}
