package httpx

import (
	"context"
	"net/http"
	"time"
)

// Deadline gives every request a context deadline timeout(r) from now (none
// when it returns 0), so that every call the handler makes with the
// request's context, database calls included, gives up in time for the
// answer to be written before the server's write timeout. A handler that
// runs out of time answers 503 temporarily_unavailable: AsFault maps the
// context's errors to fault.CodeUnavailable.
func Deadline(h http.Handler, timeout func(*http.Request) time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := timeout(r)
		if d <= 0 {
			h.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
