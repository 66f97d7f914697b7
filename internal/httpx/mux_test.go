package httpx

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestJSONMux: the mux's own 404 and 405 answers become JSON errors (with
// Allow), while a routed handler's answers, its own 404 included, and the
// mux's path-cleaning redirects pass through unchanged, path values set.
func TestJSONMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.Error(w, "no such item", http.StatusNotFound)
			return
		}
		w.Write([]byte("item " + r.PathValue("id")))
	})
	mux.HandleFunc("POST /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := JSONMux(mux, slog.New(slog.DiscardHandler))
	serve := func(method, target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
		return w
	}
	jsonError := func(t *testing.T, w *httptest.ResponseRecorder) map[string]string {
		t.Helper()
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", w.Body.String(), err)
		}
		return body
	}

	w := serve("GET", "/nothing")
	if w.Code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", w.Code)
	}
	if b := jsonError(t, w); b["error"] != "not_found" || b["error_description"] != "no such endpoint: GET /nothing" {
		t.Errorf("unknown path: %v", b)
	}

	w = serve("DELETE", "/items/1")
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD, POST" {
		t.Fatalf("wrong method: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
	if b := jsonError(t, w); b["error"] != "method_not_allowed" ||
		b["error_description"] != "method DELETE is not allowed here; allowed: GET, HEAD, POST" {
		t.Errorf("wrong method: %v", b)
	}

	if w = serve("GET", "/items/7"); w.Code != http.StatusOK || w.Body.String() != "item 7" {
		t.Errorf("routed: %d %q", w.Code, w.Body.String())
	}
	if w = serve("GET", "/items/missing"); w.Code != http.StatusNotFound || w.Body.String() != "no such item\n" ||
		w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("routed handler's own 404 changed: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	if w = serve("GET", "/items//7"); w.Code != http.StatusMovedPermanently && w.Code != http.StatusTemporaryRedirect {
		t.Errorf("unclean path: %d, want a redirect", w.Code)
	} else if loc := w.Header().Get("Location"); loc != "/items/7" {
		t.Errorf("unclean path redirected to %q", loc)
	}
}
