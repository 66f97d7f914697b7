package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/store"
)

// TestAuditExportResumes runs "tokend audit export" against a real server
// through a connection that is cut in the middle of the first stream: the
// command resumes after the last whole line and writes every event once.
func TestAuditExportResumes(t *testing.T) {
	s := apptest.Start(t, "")
	ctx := context.Background()
	s.Call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "acme"}, http.StatusCreated)
	for i := 0; i < 2500; i++ {
		if err := s.App.Store().Audit().Append(ctx, func(e *store.AuditEvent) { e.Hash = []byte{byte(i)} },
			store.AuditEvent{Tenant: "acme", Time: time.Now(), Action: "bulk", Outcome: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	// The whole export, straight from the server.
	var full bytes.Buffer
	if code := Main([]string{"audit", "export", "-t", "acme", "--endpoint", s.URL, "--token", s.Admin}, &full, io.Discard); code != 0 {
		t.Fatalf("export exit %d", code)
	}
	if n := strings.Count(full.String(), "\n"); n != 2501 { // tenant.create + 2500
		t.Fatalf("%d lines", n)
	}

	// Through a proxy that cuts the first answer after 100 kB.
	var cuts atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, s.URL+r.URL.RequestURI(), nil)
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		if cuts.Add(1) == 1 {
			_, _ = io.CopyN(w, res.Body, 100<<10)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		_, _ = io.Copy(w, res.Body)
	}))
	defer proxy.Close()
	var got, stderr bytes.Buffer
	if code := Main([]string{"audit", "export", "-t", "acme", "--endpoint", proxy.URL, "--token", s.Admin}, &got, &stderr); code != 0 {
		t.Fatalf("export through the cut exit %d: %s", code, stderr.String())
	}
	if cuts.Load() < 2 || !strings.Contains(stderr.String(), "resuming") {
		t.Fatalf("the stream was not resumed: %d requests, stderr %q", cuts.Load(), stderr.String())
	}
	if got.String() != full.String() {
		t.Fatalf("resumed export differs: %d bytes, want %d", got.Len(), full.Len())
	}
	// --after goes on from an earlier export.
	var tail bytes.Buffer
	if code := Main([]string{"audit", "export", "-t", "acme", "--endpoint", s.URL, "--token", s.Admin, "--after", "2500"}, &tail, io.Discard); code != 0 ||
		strings.Count(tail.String(), "\n") != 1 {
		t.Fatalf("--after 2500: %q", tail.String())
	}
}
