package httpx

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/tokend/tokend/internal/fault"
)

// JSONMux serves mux, but answers the requests mux has no route for (404)
// or no method for (405, with Allow) with JSON errors instead of text.
func JSONMux(mux *http.ServeMux, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{h: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.status {
		case http.StatusMethodNotAllowed:
			if allow := probe.h.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			WriteError(w, r, log, &fault.Error{Code: fault.CodeMethodNotAllowed,
				Description: "method " + r.Method + " is not allowed here; allowed: " + strings.ReplaceAll(probe.h.Get("Allow"), ",", ", ")})
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			mux.ServeHTTP(w, r) // path cleaning redirects stay as they are
		default:
			WriteError(w, r, log, fault.NotFound("no such endpoint: %s %s", r.Method, r.URL.Path))
		}
	})
}

// headerProbe records what a handler would answer without writing it.
type headerProbe struct {
	h      http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.h }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
