package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/httpx"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAccessLogRecordsStatusSent: an answer that misses the connection's
// write deadline is logged as not sent (status 0, with the status it
// would have had), one made in time with its status; a handler past its
// request deadline sees the deadline in its context.
func TestAccessLogRecordsStatusSent(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()               // the request deadline
		time.Sleep(300 * time.Millisecond) // and past the write timeout
		w.WriteHeader(http.StatusTeapot)
	})
	mux.HandleFunc("/quick", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Deadline(); !ok {
			t.Error("no request deadline")
		}
		w.WriteHeader(http.StatusAccepted)
	})
	h := httpx.Wrap(mux, log, nil, 0, func(*http.Request) time.Duration { return 100 * time.Millisecond })
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()

	if resp, err := http.Get(srv.URL + "/late"); err == nil {
		resp.Body.Close()
		t.Fatalf("the late answer reached the client: %d", resp.StatusCode)
	}
	resp, err := http.Get(srv.URL + "/quick")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	got := map[string]map[string]any{}
	for deadline := time.Now().Add(5 * time.Second); len(got) < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" {
				got[m["path"].(string)] = m
			}
		}
	}
	if l := got["/late"]; l == nil || l["status"] != float64(0) || l["unsent_status"] != float64(http.StatusTeapot) || l["error"] == nil {
		t.Errorf("access log of the late answer: %v", l)
	}
	if l := got["/quick"]; l == nil || l["status"] != float64(http.StatusAccepted) || l["unsent_status"] != nil {
		t.Errorf("access log of the quick answer: %v", l)
	}
}
