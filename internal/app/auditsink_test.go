package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/auditsink"
	"github.com/tokend/tokend/internal/config"
)

// running is an in-process server that can be stopped and started again
// on the same data directory and database.
type running struct {
	url  string
	stop func()
}

func run(t *testing.T, cfg config.Config, bootstrap bool) (running, string) {
	t.Helper()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	admin := ""
	if bootstrap {
		b, err := a.Bootstrap(ctx)
		if err != nil {
			t.Fatal(err)
		}
		admin = b.Token
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			a.Close()
		})
	}
	t.Cleanup(stop)
	return running{url: cfg.PublicURL, stop: stop}, admin
}

// hook is the test's own webhook receiver: it checks each batch's
// signature and keeps the events of the batches it acknowledged; fail
// decides, per request, to answer 503 or to hang past the timeout.
type hook struct {
	mu    sync.Mutex
	lines map[string][]string // tenant -> NDJSON lines, in arrival order
	n     int
	fail  func(n int) string // "", "5xx" or "hang"
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.n++
	mode := ""
	if h.fail != nil {
		mode = h.fail(h.n)
	}
	h.mu.Unlock()
	switch mode {
	case "5xx":
		w.WriteHeader(http.StatusBadGateway)
		return
	case "hang":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	if err := auditsink.Verify([]byte(hookKey), r.Header.Get(auditsink.HeaderSignature), body, time.Now(), time.Minute); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	ten := r.Header.Get(auditsink.HeaderTenant)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lines == nil {
		h.lines = map[string][]string{}
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		h.lines[ten] = append(h.lines[ten], sc.Text())
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hook) got(tenant string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines[tenant]...)
}

const hookKey = "an HMAC key the receiver shares"

// exportLines returns the tenant's audit export with "tenant" added to
// each line, as a sink sends it.
func exportLines(t *testing.T, base, admin, tenant string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/tenants/"+tenant+"/audit/export", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		m["tenant"] = tenant
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return out
}

// canonical re-encodes NDJSON lines with sorted keys.
func canonical(t *testing.T, l []string) []string {
	t.Helper()
	out := make([]string, len(l))
	for i, s := range l {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("line %q: %v", s, err)
		}
		b, _ := json.Marshal(m)
		out[i] = string(b)
	}
	return out
}

// TestAuditWebhookEndToEnd: a real server forwards every audit event of
// a tenant to a webhook, once and in chain order, while the receiver
// answers 502 or hangs past --audit-webhook-timeout now and then, and
// across a restart of the server; what arrives is the audit export's
// content.
func TestAuditWebhookEndToEnd(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		h := &hook{fail: func(n int) string {
			switch n % 3 {
			case 1:
				return "5xx"
			case 2:
				return "hang"
			}
			return ""
		}}
		recv := httptest.NewServer(h)
		defer recv.Close()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cfg := config.Default()
		cfg.DataDir, cfg.DatabaseURL = t.TempDir(), b.url(t)
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		cfg.MasterKey = base64.StdEncoding.EncodeToString(k)
		cfg.Addr, cfg.PublicURL = addr, "http://"+addr
		cfg.AuditWebhook, cfg.AuditWebhookSecret = recv.URL+"/audit", hookKey
		cfg.AuditWebhookTimeout = 300 * time.Millisecond
		cfg.AuditSinkInterval = 100 * time.Millisecond
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		srv, admin := run(t, cfg, true)
		s := &server{URL: srv.url, Admin: admin}
		want(t, s.call(t, "POST", "/v1/tenants", admin, map[string]any{"id": "hooked"}), http.StatusCreated)
		c := want(t, s.call(t, "POST", "/v1/tenants/hooked/clients", admin, map[string]any{"id": "svc",
			"grant_types": []string{"client_credentials"}, "audiences": []string{"api"}}), http.StatusCreated)
		secret := c.str("client_secret")
		issue := func(base string, n int) {
			for i := 0; i < n; i++ {
				form := url.Values{"grant_type": {"client_credentials"}, "audience": {"api"}}
				req, _ := http.NewRequest("POST", base+"/t/hooked/oauth2/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("svc", secret)
				want(t, send(t, req), http.StatusOK)
			}
		}
		issue(srv.url, 15)
		waitFor(t, func() bool { return len(h.got("hooked")) >= 17 })
		srv.stop()
		// Issued while tokend is down on nothing: after the restart the
		// rest of the chain follows what was delivered.
		srv, _ = run(t, cfg, false)
		issue(srv.url, 12)
		exp := exportLines(t, srv.url, admin, "hooked")
		waitFor(t, func() bool { return len(h.got("hooked")) >= len(exp) })
		time.Sleep(3 * cfg.AuditSinkInterval) // nothing more may arrive
		got := canonical(t, h.got("hooked"))
		exp = canonical(t, exp)
		if len(got) != len(exp) {
			t.Fatalf("received %d events, the chain holds %d", len(got), len(exp))
		}
		for i := range exp {
			if got[i] != exp[i] {
				t.Fatalf("event %d:\n got %s\nwant %s", i, got[i], exp[i])
			}
			var e struct{ Seq int64 }
			_ = json.Unmarshal([]byte(got[i]), &e)
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
		}
		h.mu.Lock()
		n := h.n
		h.mu.Unlock()
		if n < 6 {
			t.Errorf("only %d deliveries: the receiver's failures were not exercised", n)
		}
	})
}

// TestAuditSyslogEndToEnd: a real server sends every audit event to a
// local UDP syslog listener as RFC 5424.
func TestAuditSyslogEndToEnd(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		as := apptest.StartWith(t, b.url(t), apptest.Options{Config: func(c *config.Config) {
			c.AuditSyslog = "udp://" + pc.LocalAddr().String()
			c.AuditSinkInterval = 100 * time.Millisecond
		}})
		s := &server{URL: as.URL, Admin: as.Admin}
		want(t, s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "logged"}), http.StatusCreated)
		buf := make([]byte, 64<<10)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			_ = pc.SetReadDeadline(deadline)
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				t.Fatal(err)
			}
			m := string(buf[:n])
			if strings.Contains(m, `tenant="logged"`) {
				if !strings.HasPrefix(m, "<86>1 ") || !strings.Contains(m, " tokend ") || !strings.Contains(m, `"tenant":"logged"`) {
					t.Fatalf("message %q", m)
				}
				return
			}
		}
		t.Fatal("no syslog message for tenant logged")
	})
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for deliveries")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
