package loadgen

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
)

func TestPercentile(t *testing.T) {
	seq := func(n int) []time.Duration {
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(i + 1)
		}
		return s
	}
	tests := []struct {
		name string
		data []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p50", []time.Duration{7}, 50, 7},
		{"single p99.9", []time.Duration{7}, 99.9, 7},
		{"two p50", []time.Duration{1, 2}, 50, 1},
		{"two p99", []time.Duration{1, 2}, 99, 2},
		{"100 p50", seq(100), 50, 50},
		{"100 p99", seq(100), 99, 99},
		{"100 p99.9", seq(100), 99.9, 100},
		{"100 p100", seq(100), 100, 100},
		{"1000 p50", seq(1000), 50, 500},
		{"1000 p99", seq(1000), 99, 990},
		{"1000 p99.9", seq(1000), 99.9, 999},
		{"10000 p99.9", seq(10000), 99.9, 9990},
		{"10 p1", seq(10), 1, 1},
		{"10 p0 clamps to first", seq(10), 0, 1},
		{"repeated values", []time.Duration{5, 5, 5, 9}, 75, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.data, tt.p); got != tt.want {
				t.Errorf("Percentile(p=%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

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

func TestBaselines(t *testing.T) {
	for _, mode := range []string{ModeBaselineSign, ModeBaselineVerify} {
		t.Run(mode, func(t *testing.T) {
			base, stop, err := StartBaseline(mode)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			r, err := Run(context.Background(), Config{Mode: mode, Endpoint: base, Concurrency: 4,
				Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, r)
			t.Log(r)
		})
	}
	// With no endpoint, Run starts and stops its own baseline.
	r, err := Run(context.Background(), Config{Mode: ModeBaselineVerify, Concurrency: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r)
}

func TestBaselineVerifyRejectsForgery(t *testing.T) {
	base, stop, err := StartBaseline(BaselineVerify)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	other, stopOther, err := StartBaseline(BaselineSign)
	if err != nil {
		t.Fatal(err)
	}
	defer stopOther()
	// A token signed by another key must not verify.
	resp, err := http.PostForm(other+baselineSignPath, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	var tr tokenResponse
	_ = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	for _, tok := range []string{tr.AccessToken, "not-a-jwt"} {
		resp, err := http.PostForm(base+baselineVerifyPath, url.Values{"token": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		var ir struct{ Active bool }
		_ = json.NewDecoder(resp.Body).Decode(&ir)
		resp.Body.Close()
		if ir.Active {
			t.Errorf("token %.20q verified", tok)
		}
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

// floodServer is a fake tokend token endpoint for ModeBadPassword: it checks
// every request's shape, answers every third one 429 and the others 400
// invalid_grant, and records usernames and source hosts.
type floodServer struct {
	// badCode, when set, is the error code of the 400 answers instead of
	// invalid_grant.
	badCode string

	mu         sync.Mutex
	users      map[string]bool
	hosts      map[string]int // remote host -> requests
	n400, n429 int64
	violations []string
}

func newFloodServer() *floodServer {
	return &floodServer{users: map[string]bool{}, hosts: map[string]int{}}
}

func (f *floodServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	bad := func(format string, args ...any) {
		f.violations = append(f.violations, fmt.Sprintf(format, args...))
	}
	if r.Method != http.MethodPost || r.URL.Path != "/t/"+fakeTenant+"/oauth2/token" || r.URL.RawQuery != "" {
		bad("%s %s", r.Method, r.URL)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		bad("Content-Type %q", ct)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(fakeClientID)+":"+url.QueryEscape(fakeSecret)))
	if got := r.Header.Get("Authorization"); got != wantAuth {
		bad("Authorization %q, want %q", got, wantAuth)
	}
	if err := r.ParseForm(); err != nil {
		bad("form: %v", err)
	}
	form := r.PostForm
	user, pw := form.Get("username"), form.Get("password")
	if len(form) != 3 || form.Get("grant_type") != "password" || len(form["username"]) != 1 || len(form["password"]) != 1 {
		bad("form %v", form)
	}
	if !strings.HasPrefix(user, "flood-") || !strings.HasSuffix(user, "@example.invalid") {
		bad("username %q", user)
	}
	if f.users[user] {
		bad("username %q repeated", user)
	}
	f.users[user] = true
	if pw == "" || pw == fakePassword {
		bad("password %q", pw)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		bad("remote address %q", r.RemoteAddr)
	}
	f.hosts[host]++
	w.Header().Set("Content-Type", "application/json")
	if len(f.users)%3 == 0 {
		f.n429++
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":"rate_limited","error_description":"too many failed logins"}`)
		return
	}
	f.n400++
	code := "invalid_grant"
	if f.badCode != "" {
		code = f.badCode
	}
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"error":%q,"error_description":"invalid username or password"}`, code)
}

// startLoopback starts h on 127.0.0.1 (explicitly IPv4, so source addresses
// 127.0.0.x can reach it).
func startLoopback(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestBadPassword(t *testing.T) {
	f := newFloodServer()
	srv := startLoopback(t, f)
	c := fakeConfig(srv.URL, ModeBadPassword)
	c.Warmup = 0 // every request the server sees is measured
	c.Requests = 600
	c.Duration = 5 * time.Second
	r, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r, r.Rejected400, r.Throttled429, r.SourceAddrs, r.Note)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.violations) > 0 {
		t.Fatalf("%d bad requests, first: %s", len(f.violations), f.violations[0])
	}
	checkResult(t, r)
	if r.Requests != 600 {
		t.Errorf("%d requests, want the cap 600", r.Requests)
	}
	if r.Rejected400+r.Throttled429 != r.Requests || r.Rejected400 != f.n400 || r.Throttled429 != f.n429 {
		t.Errorf("counted 400: %d 429: %d of %d, server answered 400: %d 429: %d",
			r.Rejected400, r.Throttled429, r.Requests, f.n400, f.n429)
	}
	if r.Throttled429 == 0 || r.Rejected400 == 0 {
		t.Errorf("400: %d 429: %d, want both", r.Rejected400, r.Throttled429)
	}
	if r.Note != "" {
		t.Errorf("note %q", r.Note)
	}
	// Source addresses rotate: every RotateEvery requests a worker moves to
	// the next 127.0.0.x, so no address sends more than RotateEvery
	// (600 requests use far fewer than 253 addresses).
	if len(f.hosts) < 600/RotateEvery || len(f.hosts) != r.SourceAddrs {
		t.Errorf("server saw %d source hosts, generator reports %d, want at least %d", len(f.hosts), r.SourceAddrs, 600/RotateEvery)
	}
	for h, n := range f.hosts {
		ip := net.ParseIP(h).To4()
		if ip == nil || ip[0] != 127 || ip[1] != 0 || ip[2] != 0 || ip[3] < firstSourceHost || ip[3] > lastSourceHost {
			t.Errorf("source host %s", h)
		}
		if n > RotateEvery {
			t.Errorf("source host %s sent %d requests, more than %d", h, n, RotateEvery)
		}
	}
}

func TestBadPasswordWrongAnswers(t *testing.T) {
	f := newFloodServer()
	f.badCode = "invalid_request"
	srv := startLoopback(t, f)
	c := fakeConfig(srv.URL, ModeBadPassword)
	c.Requests = 60
	r, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors == 0 || r.Errors != r.Requests-r.Throttled429 || !strings.Contains(r.FirstError, "invalid_request") {
		t.Errorf("400 invalid_request must be an error: %+v", r)
	}
	if r.Rejected400 != 0 {
		t.Errorf("counted %d failed 400s as rejected", r.Rejected400)
	}
}

func TestBadPasswordSourceFallback(t *testing.T) {
	// 127.0.0.x cannot reach a server on ::1: the mode falls back to the
	// default source address and says so.
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	f := newFloodServer()
	srv := httptest.NewUnstartedServer(f)
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	c := fakeConfig(srv.URL, ModeBadPassword)
	c.Requests = 40
	r, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r)
	if !strings.Contains(r.Note, "default source") || r.SourceAddrs != 0 {
		t.Errorf("note %q, source addresses %d", r.Note, r.SourceAddrs)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hosts) != 1 {
		t.Errorf("server saw hosts %v, want only ::1", f.hosts)
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

// realTokend is a tokend server started in-process on loopback, with a
// tenant "shop" and a client_credentials client "svc" (audience api).
type realTokend struct {
	url, svcSecret string
}

// startTokend starts a real tokend and stops it when the test ends.
func startTokend(t *testing.T) *realTokend {
	t.Helper()
	s, secret := apptest.StartShop(t)
	return &realTokend{url: s.URL, svcSecret: secret}
}

// config returns a run of mode against s as client svc.
func (s *realTokend) config(mode string) Config {
	return Config{Mode: mode, Endpoint: s.url, Tenant: "shop", ClientID: "svc", ClientSecret: s.svcSecret,
		Concurrency: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}
}

// TestCheckAndVerifyLibAgainstTokend runs the gateway-check and
// verifier-library modes against a real tokend.
func TestCheckAndVerifyLibAgainstTokend(t *testing.T) {
	s := startTokend(t)
	for _, mode := range []string{ModeCheck, ModeVerifyLib} {
		t.Run(mode, func(t *testing.T) {
			r, err := Run(context.Background(), s.config(mode))
			if err != nil {
				t.Fatal(err)
			}
			if r.Requests <= 0 || r.Errors != 0 {
				t.Fatalf("requests %d errors %d (first: %s), want > 0 and 0", r.Requests, r.Errors, r.FirstError)
			}
			checkResult(t, r)
			t.Log(r)
		})
	}
	t.Run("verify-lib explicit audience", func(t *testing.T) {
		c := s.config(ModeVerifyLib)
		c.Audience, c.Requests = "api", 20
		r, err := Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests != 20 || r.Errors != 0 {
			t.Fatalf("requests %d errors %d (first: %s), want 20 and 0", r.Requests, r.Errors, r.FirstError)
		}
	})
	t.Run("verify-lib wrong audience", func(t *testing.T) {
		// The verifier refuses the token: every request is an error.
		c := s.config(ModeVerifyLib)
		c.Audience, c.Requests = "billing", 20
		r, err := Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests != 20 || r.Errors != 20 || !strings.Contains(r.FirstError, "401") {
			t.Fatalf("requests %d errors %d (first: %s), want 20 refused with 401", r.Requests, r.Errors, r.FirstError)
		}
	})
}

func TestTokenAudience(t *testing.T) {
	jwt := func(payload string) string {
		return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
	}
	for _, tt := range []struct {
		tok, want string
	}{
		{jwt(`{"aud":"api"}`), "api"},
		{jwt(`{"aud":["api","billing"]}`), "api"},
		{jwt(`{"aud":["","billing"]}`), "billing"},
	} {
		if got, err := tokenAudience(tt.tok); err != nil || got != tt.want {
			t.Errorf("tokenAudience(%s) = %q, %v; want %q", tt.tok, got, err, tt.want)
		}
	}
	for _, bad := range []string{jwt(`{}`), jwt(`{"aud":null}`), jwt(`{"aud":""}`), jwt(`{"aud":[]}`), jwt(`{"aud":7}`),
		jwt(`[]`), "tkd_opaque", "a.!!!.c"} {
		if got, err := tokenAudience(bad); err == nil {
			t.Errorf("tokenAudience(%s) = %q, want an error", bad, got)
		}
	}
}

// TestBaselineProcessFailures: a child that prints no loopback URL, or
// exits at once, is an error that says so, and stop leaves no process.
func TestBaselineProcessFailures(t *testing.T) {
	for _, script := range []string{
		`echo "http://10.0.0.1:80"; cat`,
		`echo listening; cat`,
		`echo "address in use" >&2; exit 3`,
	} {
		_, _, err := StartBaselineProcess(context.Background(), "sh", "-c", script)
		if err == nil {
			t.Errorf("%s: no error", script)
			continue
		}
		t.Log(err)
	}
	_, _, err := StartBaselineProcess(context.Background(), "sh", "-c", `echo "boom" >&2; exit 3`)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("the child's standard error is not in the error: %v", err)
	}
}

// TestServeBaseline drives the child side in-process: the URL comes first,
// the server signs there, and the end of stdin stops it.
func TestServeBaseline(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- ServeBaseline(context.Background(), "127.0.0.1:0", BaselineVerify, stdinR, outW) }()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(line)
	r, err := Run(context.Background(), Config{Mode: ModeBaselineVerify, Endpoint: base, Concurrency: 2,
		Duration: 200 * time.Millisecond, Warmup: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r)
	stdinW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", "example.com:80", "nonsense"} {
		if err := ServeBaseline(context.Background(), addr, BaselineSign, strings.NewReader(""), io.Discard); err == nil {
			t.Errorf("%s: no error", addr)
		}
	}
	if err := ServeBaseline(context.Background(), "127.0.0.1:0", "hash", strings.NewReader(""), io.Discard); err == nil {
		t.Error("unknown kind: no error")
	}
}
