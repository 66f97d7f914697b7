// Package optest runs a real OpenID Connect provider for tests: the
// zitadel/oidc v3 example OP, a binary named by the environment variable
// TOKEND_TEST_OIDC (built by .ci/build-oidc-op.sh). Tests that need it
// skip only when that variable is unset.
package optest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Env names the OP binary.
const Env = "TOKEND_TEST_OIDC"

// Example OP fixtures (its storage package).
const (
	WebClient, WebSecret         = "web", "secret"
	ServiceClient, ServiceSecret = "sid1", "verysecret"
	User, Password               = "test-user@localhost", "verysecure"
	redirectURI                  = "http://localhost:9999/auth/callback"
)

// OP is a running provider.
type OP struct {
	// Issuer is http://localhost:PORT/ (the trailing slash is the OP's).
	Issuer string
	Port   int
	cmd    *exec.Cmd
	exited chan struct{}
	meta   map[string]any
}

// Start runs the OP on a free loopback port until the test ends, or
// skips the test when TOKEND_TEST_OIDC is unset.
func Start(t testing.TB) *OP {
	t.Helper()
	bin := os.Getenv(Env)
	if bin == "" {
		t.Skipf("%s is unset: no OpenID Connect provider to test against", Env)
	}
	// The OP listens on every interface at PORT; a port found free can be
	// taken again before it binds (by another test's outgoing connection),
	// so a start whose process exits is retried on another port.
	var last string
	for attempt := 0; attempt < 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		var out syncBuffer
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		op := &OP{Issuer: fmt.Sprintf("http://localhost:%d/", port), Port: port, cmd: cmd, exited: exited}
		deadline := time.Now().Add(20 * time.Second)
		for op.meta == nil {
			if m, err := getJSON(op.Issuer + ".well-known/openid-configuration"); err == nil {
				op.meta = m
				break
			}
			select {
			case <-exited:
				last = fmt.Sprintf("the OP on port %d exited: %.500s", port, out.String())
			case <-time.After(50 * time.Millisecond):
				if time.Now().After(deadline) {
					op.Kill()
					t.Fatalf("the OP did not serve discovery within 20 s: %.500s", out.String())
				}
				continue
			}
			break
		}
		if op.meta != nil {
			t.Cleanup(op.Kill)
			return op
		}
	}
	t.Fatal(last)
	return nil
}

// Kill stops the OP (by its pid) and waits for it; later calls do nothing.
func (op *OP) Kill() {
	if op.cmd == nil || op.cmd.Process == nil {
		return
	}
	_ = op.cmd.Process.Kill()
	<-op.exited
	op.cmd = nil
}

// Endpoint returns a metadata endpoint, e.g. "token_endpoint".
func (op *OP) Endpoint(name string) string { s, _ := op.meta[name].(string); return s }

func getJSON(u string) (map[string]any, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	var m map[string]any
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

var formID = regexp.MustCompile(`name="id"\s+value="([^"]+)"`)

// IDToken logs the example user in through the authorization code flow
// of client web (its login form under /login/) and returns the ID token
// and the access token the token endpoint answered with.
func (op *OP) IDToken(t testing.TB) (idToken, accessToken string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), redirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	q := url.Values{"client_id": {WebClient}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid email profile"}, "state": {"st"}, "nonce": {"n"}}
	resp, err := c.Get(op.Endpoint("authorization_endpoint") + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formID.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no login form from the OP (%s): %.300s", resp.Request.URL, page)
	}
	login := resp.Request.URL.ResolveReference(&url.URL{Path: "/login/username"})
	resp, err = c.PostForm(login.String(), url.Values{"id": {string(m[1])}, "username": {User}, "password": {Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("login did not end in a redirect with a code: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok := op.token(t, WebClient, WebSecret, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirectURI}})
	idToken, _ = tok["id_token"].(string)
	accessToken, _ = tok["access_token"].(string)
	if idToken == "" {
		t.Fatalf("no id_token: %v", tok)
	}
	return idToken, accessToken
}

// ServiceToken returns an opaque access token of client sid1
// (client_credentials), for introspection.
func (op *OP) ServiceToken(t testing.TB) string {
	t.Helper()
	tok := op.token(t, ServiceClient, ServiceSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}})
	at, _ := tok["access_token"].(string)
	if at == "" {
		t.Fatalf("no access_token: %v", tok)
	}
	return at
}

func (op *OP) token(t testing.TB, id, secret string, form url.Values) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, op.Endpoint("token_endpoint"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
		t.Fatalf("OP token endpoint: %d %s", resp.StatusCode, b)
	}
	return m
}

// syncBuffer collects a process's output for error messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
