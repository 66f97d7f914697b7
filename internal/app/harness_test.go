package app_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// server is a real tokend server running in-process on a loopback port.
type server struct {
	URL   string
	Admin string // system admin key
	App   *app.App
	Cfg   config.Config
}

type backend struct {
	name string
	url  func(t *testing.T) string // database URL; "" for SQLite
}

var backends = []backend{
	{"sqlite", func(*testing.T) string { return "" }},
	{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
}

// eachBackend runs f once per storage backend.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

func masterKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// start runs a server on a fresh database of backend b and bootstraps it.
func start(t *testing.T, b backend) *server {
	t.Helper()
	s := apptest.Start(t, b.url(t))
	return &server{URL: s.URL, Admin: s.Admin, App: s.App, Cfg: s.Cfg}
}

// response is a decoded HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (r response) str(k string) string { s, _ := r.Body[k].(string); return s }

func (r response) items() []map[string]any {
	l, _ := r.Body["items"].([]any)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// call sends a request; body may be nil, a string (sent as is) or a value
// marshalled to JSON.
func (s *server) call(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	return sendWith(t, &http.Client{Timeout: 30 * time.Second}, req)
}

// sendFrom sends req from the loopback address ip (any of 127.0.0.0/8),
// as another machine would: the server sees that address as the peer.
func sendFrom(t *testing.T, ip string, req *http.Request) response {
	t.Helper()
	return sendWith(t, apptest.From(ip), req)
}

func sendWith(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/") {
		_ = json.Unmarshal(raw, &r.Body)
	}
	return r
}

// want fails unless r has status; it returns r for chaining.
func want(t *testing.T, r response, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}
