// Package apptest starts real tokend servers in-process for the tests of
// other packages: loopback listener, fresh data directory, random master
// key, bootstrap admin key, and a clean shutdown when the test ends.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/config"
)

// Server is a running tokend.
type Server struct {
	URL   string
	Admin string // the system admin key from bootstrap
	App   *app.App
	Cfg   config.Config
}

// Start runs a bootstrapped server on databaseURL (embedded SQLite when
// empty) until the test ends.
func Start(t testing.TB, databaseURL string) *Server {
	t.Helper()
	return StartWith(t, databaseURL, Options{})
}

// Options tune StartWith.
type Options struct {
	// Config, when set, changes the configuration before the server
	// starts (address, data directory, database and master key are set).
	Config func(*config.Config)
	// Log receives the server's logs; nil discards them.
	Log *slog.Logger
}

// StartWith is Start with options.
func StartWith(t testing.TB, databaseURL string, o Options) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = databaseURL
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	cfg.MasterKey = base64.StdEncoding.EncodeToString(k)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.PublicURL = ln.Addr().String(), "http://"+ln.Addr().String()
	if o.Config != nil {
		o.Config(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		cancel()
		ln.Close()
		t.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx)
	if err != nil {
		cancel()
		ln.Close()
		a.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	return &Server{URL: cfg.PublicURL, Admin: boot.Token, App: a, Cfg: cfg}
}

// StartShop is Start on SQLite with a tenant "shop" and a client "svc"
// (client_credentials, scopes read and write, audience api); it returns
// the client's secret too.
func StartShop(t testing.TB) (*Server, string) {
	t.Helper()
	s := Start(t, "")
	s.Call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "shop"}, http.StatusCreated)
	c := s.Call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "svc",
		"grant_types": []string{"client_credentials"}, "scopes": []string{"read", "write"}, "audiences": []string{"api"}},
		http.StatusCreated)
	secret, _ := c["client_secret"].(string)
	if secret == "" {
		t.Fatal("client svc created without a client_secret")
	}
	return s, secret
}

// Call sends a JSON request with a bearer token (none when empty), fails
// the test unless the answer has status, and returns the decoded body.
func (s *Server) Call(t testing.TB, method, path, token string, body any, status int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// From returns an HTTP client whose connections come from the loopback
// address ip (any of 127.0.0.0/8 on Linux), so that a server sees it as
// another machine. It keeps no idle connections.
func From(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// FlipLastBit flips the lowest bit of the last base64url character of s.
// For every signature length in use (ES256, EdDSA, RS256, HS256) that bit
// is one the decoded bytes do not hold, so a lax decoder reads the same
// signature from the changed token.
func FlipLastBit(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i^1])
}
