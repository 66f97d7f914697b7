package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/app"
)

// TestBadInput sends every kind of bad request and checks the status, the
// error code and that nothing was written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		adm := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": "acme"}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "svc"}), 201)
		auditBefore := len(want(t, s.call(t, "GET", "/v1/tenants/acme/audit?limit=1000", adm, nil), 200).items())

		big := `{"id":"x","display_name":"` + strings.Repeat("a", 2<<20) + `"}`
		cases := []struct {
			name, method, path, ctype, body string
			status                          int
			code, field                     string
		}{
			{"malformed json", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":`, 400, "invalid_request", ""},
			{"not an object", "POST", "/v1/tenants/acme/clients", "application/json", `[1,2]`, 400, "invalid_request", ""},
			{"trailing data", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"a"} {}`, 400, "invalid_request", ""},
			{"empty body", "POST", "/v1/tenants/acme/clients", "application/json", ``, 400, "invalid_request", ""},
			{"unknown field", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"a","scope":"x"}`, 400, "invalid_request", ""},
			{"wrong type", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"a","scopes":"read"}`, 400, "invalid_request", ""},
			{"wrong content type", "POST", "/v1/tenants/acme/clients", "text/plain", `{"id":"a"}`, 415, "unsupported_media_type", ""},
			{"no content type", "POST", "/v1/tenants/acme/clients", "", `{"id":"a"}`, 415, "unsupported_media_type", ""},
			{"oversized", "POST", "/v1/tenants/acme/clients", "application/json", big, 413, "request_too_large", ""},
			{"bad id", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"Not Valid"}`, 422, "validation_failed", "id"},
			{"bad grant", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"a","grant_types":["implicit"]}`, 422, "validation_failed", "grant_types"},
			{"bad scope", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"a","scopes":["a b"]}`, 422, "validation_failed", "scopes"},
			{"bad kind", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"a","kinds":["root"]}`, 422, "validation_failed", "kinds"},
			{"short secret", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"a","secret":"short"}`, 422, "validation_failed", "secret"},
			{"bad policy", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"a","policy":{"access_ttl":-5}}`, 422, "validation_failed", "policy.access_ttl"},
			{"unknown policy key", "PATCH", "/v1/tenants/acme", "application/json", `{"policy":{"ttl":5}}`, 400, "invalid_request", ""},
			{"bad alg", "PATCH", "/v1/tenants/acme", "application/json", `{"policy":{"signing_alg":"none"}}`, 422, "validation_failed", "policy.signing_alg"},
			{"duplicate", "POST", "/v1/tenants/acme/clients", "application/json", `{"id":"svc"}`, 409, "conflict", ""},
			{"unknown tenant", "POST", "/v1/tenants/nope/clients", "application/json", `{"id":"a"}`, 404, "not_found", ""},
			{"unknown id", "PATCH", "/v1/tenants/acme/clients/nope", "application/json", `{"display_name":"x"}`, 404, "not_found", ""},
			{"id change", "PATCH", "/v1/tenants/acme/clients/svc", "application/json", `{"id":"other"}`, 422, "validation_failed", "id"},
			{"bad limit", "GET", "/v1/tenants/acme/clients?limit=0", "", ``, 400, "invalid_request", ""},
			{"bad audit time", "GET", "/v1/tenants/acme/audit?from=yesterday", "", ``, 400, "invalid_request", ""},
			{"bad active", "GET", "/v1/tenants/acme/tokens?active=maybe", "", ``, 400, "invalid_request", ""},
			{"unknown path", "GET", "/v1/nothing", "", ``, 404, "not_found", ""},
			{"wrong method", "PUT", "/v1/tenants/acme/clients/svc", "application/json", `{}`, 405, "method_not_allowed", ""},
		}
		for _, c := range cases {
			req, _ := http.NewRequest(c.method, s.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+adm)
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			r := send(t, req)
			if r.Status != c.status || r.str("error") != c.code || r.str("field") != c.field || r.str("error_description") == "" {
				t.Errorf("%s: got %d %s, want %d %s field %q", c.name, r.Status, r.Raw, c.status, c.code, c.field)
			}
			if c.status == 405 && r.Header.Get("Allow") == "" {
				t.Errorf("%s: no Allow header", c.name)
			}
		}
		clients := want(t, s.call(t, "GET", "/v1/tenants/acme/clients", adm, nil), 200).items()
		if len(clients) != 1 {
			t.Errorf("bad input wrote clients: %v", clients)
		}
		if n := len(want(t, s.call(t, "GET", "/v1/tenants/acme/audit?limit=1000", adm, nil), 200).items()); n != auditBefore {
			t.Errorf("bad input wrote %d audit events", n-auditBefore)
		}
		if tn := want(t, s.call(t, "GET", "/v1/tenants/acme", adm, nil), 200); tn.Body["policy"].(map[string]any)["signing_alg"] != nil {
			t.Errorf("bad policy stored: %s", tn.Raw)
		}
	})
}

func TestOperations(t *testing.T) {
	t.Parallel()
	s := start(t, backends[0])
	want(t, s.call(t, "GET", "/healthz", "", nil), 200)
	r := want(t, s.call(t, "GET", "/readyz", "", nil), 200)
	if r.str("status") != "ready" {
		t.Fatalf("readyz %s", r.Raw)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Fatal("no request id")
	}
	req, _ := http.NewRequest("GET", s.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	if got := send(t, req).Header.Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("request id not kept: %q", got)
	}
	req.Header.Set("X-Request-Id", "bad id\"with quotes")
	if got := send(t, req).Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Fatalf("bad request id used: %q", got)
	}
	m := want(t, s.call(t, "GET", "/metrics", "", nil), 200)
	if !strings.Contains(string(m.Raw), `tokend_http_requests_total{code="200",route="GET /healthz"}`) {
		t.Fatalf("metrics lack request counter:\n%.2000s", m.Raw)
	}
}

// TestReadyzWithWrongMasterKey: a replica started with another master key
// cannot open the signing keys and must not report ready.
func TestReadyzWithWrongMasterKey(t *testing.T) {
	t.Parallel()
	s := start(t, backends[0])
	cfg := s.Cfg
	cfg.MasterKey = masterKey()
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 503 || !strings.Contains(w.Body.String(), "keys") {
		t.Fatalf("readyz = %d %s, want 503 naming the keys", w.Code, w.Body)
	}
}
