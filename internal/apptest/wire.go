package apptest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// Wire drives a server for golden-file tests: it builds requests, pins
// each response to a golden file, and keeps the secrets of the clients it
// created.
type Wire struct {
	T *testing.T
	S *Server
	// Assert is golden.Assert (writes with -update) or golden.Compare
	// (never writes: a second backend must give the same bytes).
	Assert func(testing.TB, string, []byte)
	// Secret maps "tenant/client id" to the client's secret.
	Secret map[string]string
}

// NewWire returns a Wire on s.
func NewWire(t *testing.T, s *Server, assert func(testing.TB, string, []byte)) *Wire {
	return &Wire{T: t, S: s, Assert: assert, Secret: map[string]string{}}
}

// Req builds a request to the server. A string body is sent as a form;
// hdr are header name and value pairs.
func (w *Wire) Req(method, path string, body string, hdr ...string) *http.Request {
	w.T.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, w.S.URL+path, rd)
	if err != nil {
		w.T.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

// Form is a form POST (form-encoded even when empty) to a tenant's OAuth
// endpoint with HTTP Basic authentication as client "tenant/id" (none when
// empty).
func (w *Wire) Form(tenant, endpoint, client string, v url.Values) *http.Request {
	w.T.Helper()
	r := w.Req("POST", "/t/"+tenant+"/oauth2/"+endpoint, v.Encode())
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client != "" {
		_, id, _ := strings.Cut(client, "/")
		r.SetBasicAuth(id, w.Secret[client])
	}
	return r
}

// Golden sends r, compares the rendered response with the golden file
// name, and returns the decoded JSON body (nil when there is none).
func (w *Wire) Golden(name string, r *http.Request) map[string]any {
	w.T.Helper()
	got := golden.Fetch(w.T, r)
	w.T.Run(name, func(t *testing.T) { w.Assert(t, name, got) })
	var m map[string]any
	if _, body, ok := bytes.Cut(got, []byte("\n\n")); ok && len(body) > 0 {
		_ = json.Unmarshal(body, &m)
	}
	return m
}

// Token gets a token from the token endpoint, outside the golden files.
func (w *Wire) Token(tenant, client string, v url.Values) map[string]any {
	w.T.Helper()
	resp, err := http.DefaultClient.Do(w.Form(tenant, "token", client, v))
	if err != nil {
		w.T.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		w.T.Fatalf("token for %s: %d %v %v", client, resp.StatusCode, m, err)
	}
	return m
}

// Admin calls the admin API as the system admin and checks the status.
func (w *Wire) Admin(method, path string, body any, status int) map[string]any {
	w.T.Helper()
	return w.S.Call(w.T, method, path, w.S.Admin, body, status)
}

// Client creates a client of tenant from spec and keeps its secret.
func (w *Wire) Client(tenant string, spec map[string]any) {
	w.T.Helper()
	c := w.Admin("POST", "/v1/tenants/"+tenant+"/clients", spec, http.StatusCreated)
	if s, ok := c["client_secret"].(string); ok {
		w.Secret[tenant+"/"+spec["id"].(string)] = s
	}
}

// Str is m[k] as a string ("" when absent or not a string).
func Str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// GoldenBackends runs cases on a fresh server on SQLite, where golden
// files are written (with -update), and on PostgreSQL, which must give the
// same bytes (skipped without TOKEND_TEST_POSTGRES).
func GoldenBackends(t *testing.T, cases func(t *testing.T, s *Server, assert func(testing.TB, string, []byte))) {
	t.Run("sqlite", func(t *testing.T) { cases(t, Start(t, ""), golden.Assert) })
	t.Run("postgres", func(t *testing.T) { cases(t, Start(t, pgtest.NewDatabase(t)), golden.Compare) })
}
