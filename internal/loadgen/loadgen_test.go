package loadgen

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkResult asserts a clean run with ordered latencies.
func checkResult(t *testing.T, r Result) {
	t.Helper()
	if r.Requests <= 0 {
		t.Fatalf("%s: no requests: %+v", r.Mode, r)
	}
	if r.Errors != 0 {
		t.Fatalf("%s: %d errors, first: %s", r.Mode, r.Errors, r.FirstError)
	}
	if r.Samples != r.Requests {
		t.Errorf("%s: %d samples for %d requests", r.Mode, r.Samples, r.Requests)
	}
	if !(r.P50 > 0 && r.P50 <= r.P99 && r.P99 <= r.P999 && r.P999 <= r.Max) {
		t.Errorf("%s: latencies out of order: p50 %v p99 %v p99.9 %v max %v", r.Mode, r.P50, r.P99, r.P999, r.Max)
	}
	if r.RPS <= 0 || r.Duration <= 0 {
		t.Errorf("%s: rps %v duration %v", r.Mode, r.RPS, r.Duration)
	}
}

// Credentials of the fake server, chosen to need form-urlencoding.
const (
	fakeTenant   = "acme"
	fakeClientID = "svc:one é"
	fakeSecret   = "s&cr=t+/:x"
	fakeUser     = "alice@example"
	fakePassword = "pa ss&word"
)

// fakeTokend implements tokend's four OAuth endpoints minimally and checks
// every request exactly: method, path, Content-Type, Basic auth with
// form-urlencoded parts, and the exact form fields.
type fakeTokend struct {
	t *testing.T
	// lieRevoked makes introspection report revoked tokens as active.
	lieRevoked bool
	// scope, when set, is expected on token requests.
	scope string

	mu         sync.Mutex
	next       int
	access     map[string]bool // token -> revoked
	refresh    map[string]bool // currently valid refresh tokens
	violations []string
	calls      map[string]int // "grant" or endpoint -> count
}

func newFake(t *testing.T) *fakeTokend {
	return &fakeTokend{t: t, access: map[string]bool{}, refresh: map[string]bool{}, calls: map[string]int{}}
}

func (f *fakeTokend) violate(format string, args ...any) {
	f.mu.Lock()
	f.violations = append(f.violations, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *fakeTokend) fail(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q}`, code)
}

func (f *fakeTokend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix := "/t/" + fakeTenant + "/oauth2/"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) {
		f.violate("%s %s", r.Method, r.URL.Path)
		f.fail(w, http.StatusNotFound, "not_found")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.violate("Content-Type %q", ct)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(fakeClientID)+":"+url.QueryEscape(fakeSecret)))
	if got := r.Header.Get("Authorization"); got != wantAuth {
		f.violate("Authorization %q, want %q", got, wantAuth)
		f.fail(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	id, secret, _ := r.BasicAuth()
	if id, _ = url.QueryUnescape(id); id != fakeClientID {
		f.violate("client id %q", id)
	}
	if secret, _ = url.QueryUnescape(secret); secret != fakeSecret {
		f.violate("client secret %q", secret)
	}
	if r.URL.RawQuery != "" {
		f.violate("query %q", r.URL.RawQuery)
	}
	if err := r.ParseForm(); err != nil {
		f.violate("form: %v", err)
		f.fail(w, http.StatusBadRequest, "invalid_request")
		return
	}
	form := r.PostForm
	expect := func(want url.Values) bool {
		if !reflect.DeepEqual(form, want) {
			f.violate("%s form %v, want %v", r.URL.Path, form, want)
			f.fail(w, http.StatusBadRequest, "invalid_request")
			return false
		}
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch strings.TrimPrefix(r.URL.Path, prefix) {
	case "token":
		f.calls[form.Get("grant_type")]++
		switch form.Get("grant_type") {
		case "client_credentials":
			want := url.Values{"grant_type": {"client_credentials"}}
			if f.scope != "" {
				want.Set("scope", f.scope)
			}
			if !expect(want) {
				return
			}
			f.next++
			at := fmt.Sprintf("at-%d", f.next)
			f.access[at] = false
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":300}`, at)
		case "password":
			if !expect(url.Values{"grant_type": {"password"}, "username": {fakeUser}, "password": {fakePassword}}) {
				return
			}
			f.next++
			rt := fmt.Sprintf("rt/%d+=", f.next) // needs escaping
			f.refresh[rt] = true
			fmt.Fprintf(w, `{"access_token":"at-%d","refresh_token":%q,"token_type":"Bearer"}`, f.next, rt)
		case "refresh_token":
			old := form.Get("refresh_token")
			if !expect(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}}) {
				return
			}
			if !f.refresh[old] {
				// A reused (rotated-away) refresh token.
				f.fail(w, http.StatusBadRequest, "invalid_grant")
				return
			}
			delete(f.refresh, old)
			f.next++
			rt := fmt.Sprintf("rt/%d+=", f.next)
			f.refresh[rt] = true
			fmt.Fprintf(w, `{"access_token":"at-%d","refresh_token":%q,"token_type":"Bearer"}`, f.next, rt)
		default:
			f.violate("grant_type %q", form.Get("grant_type"))
			f.fail(w, http.StatusBadRequest, "unsupported_grant_type")
		}
	case "introspect":
		f.calls["introspect"]++
		tok := form.Get("token")
		if !expect(url.Values{"token": {tok}}) {
			return
		}
		revoked, ok := f.access[tok]
		active := ok && (!revoked || f.lieRevoked)
		fmt.Fprintf(w, `{"active":%t}`, active)
	case "revoke":
		f.calls["revoke"]++
		tok := form.Get("token")
		if !expect(url.Values{"token": {tok}}) {
			return
		}
		if _, ok := f.access[tok]; ok {
			f.access[tok] = true
		}
		w.WriteHeader(http.StatusOK)
	default:
		f.violate("path %s", r.URL.Path)
		f.fail(w, http.StatusNotFound, "not_found")
	}
}

func fakeConfig(url, mode string) Config {
	return Config{Mode: mode, Endpoint: url, Tenant: fakeTenant, ClientID: fakeClientID, ClientSecret: fakeSecret,
		Username: fakeUser, Password: fakePassword, Concurrency: 4, Duration: 300 * time.Millisecond,
		Warmup: 50 * time.Millisecond}
}

func TestModesAgainstFake(t *testing.T) {
	for _, mode := range []string{ModeIssue, ModeIntrospect, ModeIntrospectRevoked, ModeRefresh} {
		t.Run(mode, func(t *testing.T) {
			f := newFake(t)
			f.scope = "read write"
			srv := httptest.NewServer(f)
			defer srv.Close()
			c := fakeConfig(srv.URL, mode)
			c.Scope = f.scope
			if mode == ModeRefresh {
				// The password grant and refresh carry no scope in the fake.
				c.Scope = ""
			}
			r, err := Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, r)
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.violations) > 0 {
				t.Fatalf("%d bad requests, first: %s", len(f.violations), f.violations[0])
			}
			var measuredKind string
			switch mode {
			case ModeIssue:
				measuredKind = "client_credentials"
			case ModeIntrospect, ModeIntrospectRevoked:
				measuredKind = "introspect"
				if f.calls["client_credentials"] != 1 {
					t.Errorf("setup issued %d tokens, want 1", f.calls["client_credentials"])
				}
				if want := map[bool]int{true: 1, false: 0}[mode == ModeIntrospectRevoked]; f.calls["revoke"] != want {
					t.Errorf("revoke called %d times, want %d", f.calls["revoke"], want)
				}
			case ModeRefresh:
				measuredKind = "refresh_token"
				if f.calls["password"] != c.Concurrency {
					t.Errorf("%d password grants, want one per worker (%d)", f.calls["password"], c.Concurrency)
				}
				if len(f.refresh) != c.Concurrency {
					t.Errorf("%d live refresh chains, want %d", len(f.refresh), c.Concurrency)
				}
			}
			// Warmup requests reach the server but are not counted.
			if int64(f.calls[measuredKind]) < r.Requests {
				t.Errorf("server saw %d %s requests, generator counted %d", f.calls[measuredKind], measuredKind, r.Requests)
			}
			t.Log(r)
		})
	}
}

func TestWrongAnswersCountAsErrors(t *testing.T) {
	f := newFake(t)
	f.lieRevoked = true // revoked tokens introspect as active
	srv := httptest.NewServer(f)
	defer srv.Close()
	r, err := Run(context.Background(), fakeConfig(srv.URL, ModeIntrospectRevoked))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Errors != r.Requests {
		t.Fatalf("requests %d errors %d, want every request an error", r.Requests, r.Errors)
	}
	if !strings.Contains(r.FirstError, `"active": true`) {
		t.Errorf("first error %q", r.FirstError)
	}
	if r.Samples != 0 {
		t.Errorf("%d latency samples from failed requests", r.Samples)
	}

	// Wrong credentials: every issue request fails with 401.
	c := fakeConfig(srv.URL, ModeIssue)
	c.ClientSecret = "wrong"
	r, err = Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Errors != r.Requests || !strings.Contains(r.FirstError, "HTTP 401") {
		t.Fatalf("wrong secret: %+v", r)
	}

	// Setup failures are errors of Run.
	c = fakeConfig(srv.URL, ModeIntrospect)
	c.ClientSecret = "wrong"
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "setup") {
		t.Errorf("introspect with a wrong secret: err %v", err)
	}
}

func TestRequestCap(t *testing.T) {
	f := newFake(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := fakeConfig(srv.URL, ModeIssue)
	c.Requests = 25
	c.Warmup = 0
	c.Duration = 5 * time.Second
	start := time.Now()
	r, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 25 || r.Errors != 0 {
		t.Fatalf("requests %d errors %d (%s), want 25 and 0", r.Requests, r.Errors, r.FirstError)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("capped run took %v", time.Since(start))
	}
}

func TestLoopbackGuard(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:9000/", "https://localhost:8443", "http://LOCALHOST"} {
		if err := CheckLoopback(ok); err != nil {
			t.Errorf("CheckLoopback(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"http://example.com", "http://10.0.0.1:8080", "http://0.0.0.0:8080", "http://[::]:80",
		"http://localhost.example.com", "ftp://127.0.0.1", "127.0.0.1:8080", "http://127.0.0.1.nip.io"} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("CheckLoopback(%q) accepted", bad)
		}
	}
	c := fakeConfig("http://example.com", ModeIssue)
	_, err := Run(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Fatalf("Run against example.com: err %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	base := fakeConfig("http://127.0.0.1:1", ModeIssue)
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"unknown mode", func(c *Config) { c.Mode = "flood" }},
		{"zero concurrency", func(c *Config) { c.Concurrency = 0 }},
		{"too much concurrency", func(c *Config) { c.Concurrency = MaxConcurrency + 1 }},
		{"zero duration", func(c *Config) { c.Duration = 0 }},
		{"too long", func(c *Config) { c.Duration = MaxDuration + time.Second }},
		{"negative warmup", func(c *Config) { c.Warmup = -time.Second }},
		{"negative requests", func(c *Config) { c.Requests = -1 }},
		{"no tenant", func(c *Config) { c.Tenant = "" }},
		{"no client", func(c *Config) { c.ClientID = "" }},
		{"refresh without user", func(c *Config) { c.Mode = ModeRefresh; c.Username = "" }},
	}
	for _, tt := range tests {
		c := base
		tt.edit(&c)
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestBackground(t *testing.T) {
	f := newFloodServer()
	srv := startLoopback(t, f)
	bg := fakeConfig(srv.URL, ModeBadPassword)
	bg.Concurrency = 3
	c := Config{Mode: ModeBaselineVerify, Concurrency: 2, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond,
		Background: &bg}
	start := time.Now()
	r, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("run took %v", el)
	}
	checkResult(t, r)
	if r.Mode != ModeBaselineVerify || r.Rejected400 != 0 || r.Throttled429 != 0 {
		t.Errorf("measured result %+v", r)
	}
	b := r.Background
	if b == nil {
		t.Fatal("no background result")
	}
	t.Log(r)
	t.Log(*b, b.Rejected400, b.Throttled429, b.SourceAddrs)
	checkResult(t, *b)
	if b.Mode != ModeBadPassword || b.Concurrency != 3 || b.Background != nil {
		t.Errorf("background result %+v", *b)
	}
	if b.Rejected400 == 0 || b.Throttled429 == 0 || b.Rejected400+b.Throttled429 != b.Requests {
		t.Errorf("background 400: %d 429: %d of %d", b.Rejected400, b.Throttled429, b.Requests)
	}
	// Both ran over the same window.
	if d := b.Duration - r.Duration; d < -100*time.Millisecond || d > 100*time.Millisecond {
		t.Errorf("durations %v and %v", r.Duration, b.Duration)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.violations) > 0 {
		t.Fatalf("%d bad requests, first: %s", len(f.violations), f.violations[0])
	}
	if int64(len(f.users)) < b.Requests || len(f.hosts) < 2 {
		t.Errorf("server saw %d requests from %d hosts, generator counted %d", len(f.users), len(f.hosts), b.Requests)
	}

	// A request cap on the measured run stops the background with it.
	c.Requests, c.Duration = 20, 5*time.Second
	start = time.Now()
	r, err = Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 20 || r.Background == nil || time.Since(start) > 3*time.Second {
		t.Errorf("capped run: %+v background %+v in %v", r, r.Background, time.Since(start))
	}

	// Invalid backgrounds are refused.
	nested := bg
	nested.Background = &bg
	for _, b := range []Config{{Mode: "flood", Concurrency: 1}, {Mode: ModeBadPassword, Concurrency: 0}, nested,
		{Mode: ModeBadPassword, Concurrency: 1, Endpoint: "http://example.com", Tenant: "t", ClientID: "c"}} {
		c := fakeConfig(srv.URL, ModeIssue)
		c.Background = &b
		if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "background") {
			t.Errorf("background %+v: err %v", b, err)
		}
	}
}
