package loadgen

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/testenv"
)

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
		err = fmt.Errorf("no IPv6 loopback: %w", err)
	}
	testenv.Need(t, testenv.EnvIPv6, err)
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
