package httpx

import (
	"log/slog"
	"net/http"

	"github.com/tokend/tokend/internal/fault"
)

// JSONMux serves mux, but answers the requests mux has no route for (404)
// or no method for (405, with Allow) with JSON errors instead of text. The
// route is looked up once, by mux itself: ServeMux sets the request's
// Pattern before it calls the handler it found, and leaves it empty for
// its own not-found and method-not-allowed handlers, whose answer is
// replaced as they write its status.
func JSONMux(mux *http.ServeMux, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(&unrouted{ResponseWriter: w, r: r, log: log}, r)
	})
}

// unrouted turns the text answer of ServeMux's own 404 and 405 handlers
// into a JSON error; every other answer passes through unchanged.
type unrouted struct {
	http.ResponseWriter
	r        *http.Request
	log      *slog.Logger
	replaced bool
}

func (u *unrouted) WriteHeader(code int) {
	if u.replaced {
		return
	}
	if u.r.Pattern != "" || (code != http.StatusNotFound && code != http.StatusMethodNotAllowed) {
		u.ResponseWriter.WriteHeader(code)
		return
	}
	u.replaced = true // WriteError sets the headers http.Error set for its text
	if code == http.StatusNotFound {
		WriteError(u.ResponseWriter, u.r, u.log, fault.NotFound("no such endpoint: %s %s", u.r.Method, u.r.URL.Path))
		return
	}
	WriteError(u.ResponseWriter, u.r, u.log, &fault.Error{Code: fault.CodeMethodNotAllowed,
		Description: "method " + u.r.Method + " is not allowed here; allowed: " + u.ResponseWriter.Header().Get("Allow")})
}

func (u *unrouted) Write(b []byte) (int, error) {
	if u.replaced {
		return len(b), nil // the text body of the answer replaced
	}
	return u.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (u *unrouted) Unwrap() http.ResponseWriter { return u.ResponseWriter }
