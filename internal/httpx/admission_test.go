package httpx_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokend/tokend/internal/httpx"
)

// TestAdmissionSheds: with Limit requests in flight, further requests get
// 503 temporarily_unavailable with Retry-After and never reach the
// handler; exempt ones still do; the admitted ones finish normally, and
// once they have, new requests are served again.
func TestAdmissionSheds(t *testing.T) {
	const limit = 2
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseAll()
	entered := make(chan struct{}, 16)
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /work", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		entered <- struct{}{}
		if r.URL.Query().Get("hold") != "" {
			<-release
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	reg := prometheus.NewRegistry()
	shed := httpx.NewShedCounter(reg)
	h := httpx.Wrap(httpx.Admission{Limit: limit, Exempt: httpx.ExemptOps, Shed: shed}.Wrap(mux), slog.New(slog.DiscardHandler), nil, 0, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(query string) (*http.Response, string) {
		resp, err := http.Post(srv.URL+"/work"+query, "application/x-www-form-urlencoded", strings.NewReader("a=b"))
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	var wg sync.WaitGroup
	held := make([]int, limit)
	for i := range limit {
		wg.Go(func() {
			if resp, _ := post("?hold=1"); resp != nil {
				held[i] = resp.StatusCode
			}
		})
	}
	for range limit {
		<-entered
	}
	const extra = 3
	for range extra {
		resp, body := post("")
		if resp == nil {
			continue
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("request beyond the limit: status %d, want 503", resp.StatusCode)
		}
		if got := resp.Header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q, want 1", got)
		}
		var e httpx.ErrorBody
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != "temporarily_unavailable" || e.Description == "" {
			t.Errorf("shed body %q: want an RFC 6749 temporarily_unavailable error", body)
		}
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz while full: %d, want 200", resp.StatusCode)
	}
	if got := served.Load(); got != limit {
		t.Errorf("handler ran %d times while full, want %d", got, limit)
	}
	releaseAll()
	wg.Wait()
	for i, s := range held {
		if s != http.StatusOK {
			t.Errorf("admitted request %d: status %d, want 200", i, s)
		}
	}
	if resp, _ := post(""); resp != nil && resp.StatusCode != http.StatusOK {
		t.Errorf("after the load: status %d, want 200", resp.StatusCode)
	}
	if got := counterValue(t, reg, "tokend_http_shed_total"); got != extra {
		t.Errorf("tokend_http_shed_total = %v, want %d", got, extra)
	}
}

// counterValue gathers the counter name from reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
