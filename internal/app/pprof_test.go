package app_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
)

// TestPprofAddr: with --pprof-addr the runtime profiles are served on
// that loopback address, and never on the API's own address.
func TestPprofAddr(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := apptest.StartWith(t, "", apptest.Options{Config: func(c *config.Config) { c.PprofAddr = addr }})
	get := func(url string) (int, string, error) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	// Serve starts listening in the background.
	var code int
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body, err = get("http://" + addr + "/debug/pprof/heap?debug=1")
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("pprof listener: %v", err)
	}
	if code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("heap profile: %d %.200q", code, body)
	}
	if code, body, err := get("http://" + addr + "/debug/pprof/goroutine?debug=1"); err != nil || code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("goroutine profile: %d %.200q %v", code, body, err)
	}
	if code, _, err := get(s.URL + "/debug/pprof/heap?debug=1"); err != nil || code != http.StatusNotFound {
		t.Errorf("API address serves profiles: %d %v, want 404", code, err)
	}
}
