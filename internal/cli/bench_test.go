package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// benchCLI runs the CLI with args and returns what it wrote to standard
// output and error; a failing command fails the test.
func benchCLI(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	return out.String(), errOut.String()
}

func TestBenchBaselineJSON(t *testing.T) {
	for _, where := range []string{"process", "in-process"} {
		t.Run(where, func(t *testing.T) {
			out, _ := benchCLI(t, "bench", "--mode", "baseline-sign,baseline-verify", "--baseline", where,
				"--duration", "300ms", "--concurrency", "2", "--warmup", "50ms", "-o", "json")
			var res []struct {
				Mode     string  `json:"mode"`
				Requests int64   `json:"requests"`
				Errors   int64   `json:"errors"`
				P50      float64 `json:"p50_ms"`
				Max      float64 `json:"max_ms"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if len(res) != 2 || res[0].Mode != "baseline-sign" || res[1].Mode != "baseline-verify" {
				t.Fatalf("unexpected result: %s", out)
			}
			for _, r := range res {
				if r.Requests <= 0 || r.Errors != 0 || r.P50 > r.Max {
					t.Errorf("unexpected result: %s", out)
				}
			}
		})
	}
}

// TestBaselineServer runs the child command directly: it prints its URL,
// signs tokens there, and ends when its standard input does.
func TestBaselineServer(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	outR, outW := io.Pipe()
	root := newRoot()
	root.SetArgs([]string{"bench", "baseline-server", "sign", "--addr", "127.0.0.1:0"})
	root.SetIn(stdinR)
	root.SetOut(outW)
	root.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(context.Background()) }()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(line)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q is not the server's URL", line)
	}
	resp, err := http.PostForm(base+"/sign", nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || strings.Count(body.AccessToken, ".") != 2 {
		t.Fatalf("POST /sign: %d %+v %v", resp.StatusCode, body, err)
	}
	stdinW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("baseline-server did not end when its standard input did")
	}
	if _, err := http.PostForm(base+"/sign", nil); err == nil {
		t.Error("the server still answers after the command ended")
	}
}

func TestBaselineServerErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "baseline-server", "hash"},
		{"bench", "baseline-server"},
		{"bench", "baseline-server", "sign", "--addr", "0.0.0.0:0"},
		{"bench", "baseline-server", "sign", "--addr", "localhost"},
		{"bench", "--mode", "baseline-sign", "--baseline", "remote"},
	} {
		root := newRoot()
		root.SetArgs(args)
		root.SetIn(strings.NewReader(""))
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		if err := root.ExecuteContext(context.Background()); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestBenchRefusesRemoteEndpoint(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--mode", "issue", "--endpoint", "http://example.com", "--tenant", "t", "--client-id", "c"},
		{"bench", "--mode", "baseline-sign,issue", "--endpoint", "http://10.1.2.3:8080", "--tenant", "t", "--client-id", "c"},
	} {
		root := newRoot()
		var out bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), "not a loopback") {
			t.Errorf("%v: err %v", args, err)
		}
	}
}

func TestBenchFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench"},
		{"bench", "--mode", "flood"},
		{"bench", "--mode", "baseline-sign", "--concurrency", "5000"},
		{"bench", "--mode", "baseline-sign", "--duration", "6m"},
		{"bench", "--mode", "baseline-sign", "-o", "xml"},
		{"bench", "--mode", "issue", "--client-id", "c"},
		{"bench", "--mode", "baseline-sign", "--background-mode", "flood"},
		{"bench", "--mode", "baseline-sign", "--background-concurrency", "5"},
		{"bench", "--mode", "baseline-sign", "--background-mode", "bad-password", "--background-concurrency", "0"},
		{"bench", "--mode", "baseline-sign", "--background-mode", "bad-password", "--tenant", "t"},
		{"bench", "--mode", "baseline-sign", "--background-mode", "bad-password", "--tenant", "t", "--client-id", "c",
			"--endpoint", "http://example.com"},
	} {
		root := newRoot()
		var out bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		if err := root.ExecuteContext(context.Background()); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// floodEndpoint starts a fake token endpoint on 127.0.0.1 that answers every
// password grant 400 invalid_grant, every fourth 429.
func floodEndpoint(t *testing.T) string {
	t.Helper()
	var n atomic.Int64
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _, ok := r.BasicAuth()
		if r.URL.Path != "/t/demo/oauth2/token" || !ok || id != "app" || r.PostFormValue("grant_type") != "password" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"rate_limited"}`)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
	}))
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestBenchBackground(t *testing.T) {
	endpoint := floodEndpoint(t)
	args := []string{"bench", "--mode", "baseline-verify", "--background-mode", "bad-password",
		"--endpoint", endpoint, "--tenant", "demo", "--client-id", "svc", "--background-client-id", "app",
		"--background-client-secret", "s", "--background-concurrency", "3",
		"--duration", "300ms", "--concurrency", "2", "--warmup", "50ms"}

	out, errOut := benchCLI(t, args...)
	t.Log("\n" + out + errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "429 THROTTLED") ||
		!strings.HasPrefix(lines[1], "baseline-verify ") || !strings.HasPrefix(lines[2], "bad-password (background) ") {
		t.Fatalf("want a header and two rows:\n%s", out)
	}
	if f := strings.Fields(lines[2]); len(f) != 12 || f[2] != "3" || f[4] != "0" || f[10] == "0" || f[11] == "0" {
		t.Errorf("background row %q", lines[2])
	}
	if !strings.Contains(errOut, "loopback source addresses") {
		t.Errorf("stderr: %s", errOut)
	}

	// The same as JSON: the background nested in its mode's result.
	out, _ = benchCLI(t, append(args, "-o", "json")...)
	var res []struct {
		Mode       string `json:"mode"`
		Requests   int64  `json:"requests"`
		Background *struct {
			Mode         string `json:"mode"`
			Concurrency  int    `json:"concurrency"`
			Requests     int64  `json:"requests"`
			Errors       int64  `json:"errors"`
			Rejected400  int64  `json:"rejected_400"`
			Throttled429 int64  `json:"throttled_429"`
			SourceAddrs  int    `json:"source_addresses"`
		} `json:"background"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(res) != 1 || res[0].Mode != "baseline-verify" || res[0].Requests == 0 || res[0].Background == nil {
		t.Fatalf("unexpected result: %s", out)
	}
	b := res[0].Background
	if b.Mode != "bad-password" || b.Concurrency != 3 || b.Errors != 0 || b.Rejected400 == 0 || b.Throttled429 == 0 ||
		b.Rejected400+b.Throttled429 != b.Requests || b.SourceAddrs < 2 {
		t.Errorf("background: %+v", *b)
	}
}

func TestBenchCheckAndVerifyLibModes(t *testing.T) {
	root := newRoot()
	var out bytes.Buffer
	root.SetArgs([]string{"bench", "--help"})
	root.SetOut(&out)
	root.SetErr(&out)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("bench --help: %v", err)
	}
	for _, want := range []string{"  check ", "  verify-lib ", "--audience", "introspect, introspect-revoked, check, verify-lib,"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench --help lacks %q:\n%s", want, out.String())
		}
	}

	// The modes are accepted: the run gets as far as the setup token
	// request, which fails against a closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()
	for _, mode := range []string{"check", "verify-lib"} {
		root := newRoot()
		var out bytes.Buffer
		root.SetArgs([]string{"bench", "--mode", mode, "--endpoint", closed, "--tenant", "t", "--client-id", "c",
			"--audience", "api", "--duration", "100ms", "--warmup", "0s"})
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.ExecuteContext(context.Background())
		if err == nil || strings.Contains(err.Error(), "unknown mode") || !strings.Contains(err.Error(), "token request") {
			t.Errorf("--mode %s: err %v, want a failed setup token request", mode, err)
		}
	}
}
