// Package e2e drives the built tokend binary as a user would: it starts the
// server, reads what it prints and writes, calls it over HTTP with real
// OAuth2 / OIDC client libraries and runs the CLI against it.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

// e2eVersion is the version the tested binary is built with.
const e2eVersion = "v0.0.0-e2e"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokend-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tokend")
	build := exec.Command("go", "build", "-race", "-ldflags", "-X github.com/tokend/tokend/internal/buildinfo.Version="+e2eVersion, "-o", binary, "../../cmd/tokend")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tokend:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a running tokend process.
type proc struct {
	cmd    *exec.Cmd
	URL    string
	Data   string
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
	waitEr error
}

// OutputWith waits up to 5 s for the output to contain every one of
// subs (a process may still be writing when /readyz first answers) and
// returns it as it is then.
func (p *proc) OutputWith(subs ...string) string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := p.Output()
		all := true
		for _, s := range subs {
			all = all && strings.Contains(out, s)
		}
		if all || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type syncWriter struct {
	p *proc
}

func (w syncWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// serve starts `tokend serve` with args plus --addr and --data, and waits
// until /readyz answers 200.
func serve(t *testing.T, data string, env []string, args ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	p := &proc{URL: "http://" + addr, Data: data, done: make(chan struct{})}
	full := append([]string{"serve", "--addr", addr, "--data", data}, args...)
	p.cmd = exec.Command(binary, full...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = syncWriter{p}, syncWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitEr = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("tokend output:\n%s", p.Output())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("tokend exited: %v\n%s", p.waitEr, p.Output())
		default:
		}
		resp, err := http.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("tokend not ready in time\n%s", p.Output())
	return nil
}

// stop sends SIGTERM and returns the exit error.
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.waitEr
	case <-time.After(30 * time.Second):
		t.Fatal("tokend did not stop after SIGTERM")
		return nil
	}
}

// run runs the tokend binary with args and returns its stdout, stderr and
// exit code.
func run(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// api calls the server and decodes a JSON answer.
func api(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
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
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// lines returns the lines of s that contain sub.
func lines(s, sub string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.Contains(sc.Text(), sub) {
			out = append(out, sc.Text())
		}
	}
	return out
}
