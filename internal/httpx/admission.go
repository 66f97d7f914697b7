package httpx

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokend/tokend/internal/fault"
)

// AdmissionWait is how long a request beyond the in-flight limit waits
// for a slot before it is shed: long enough to ride out the jitter of a
// group commit (a few milliseconds), short enough that an overload never
// turns into a queue.
const AdmissionWait = 5 * time.Millisecond

// ShedRetryAfter is the Retry-After of a shed request: the overload is
// the server's own, so it is likely to last longer than a commit.
const ShedRetryAfter = time.Second

// Admission bounds the requests a server works on at once. A request
// beyond Limit waits up to AdmissionWait for one to finish, and is
// otherwise answered at once with 503 temporarily_unavailable and a
// Retry-After, before any of its body is read and before anything is
// written for it: under a load the server cannot keep up with, the excess
// gets a fast refusal it can retry instead of a queue that grows without
// bound (memory, and the latency of every request in it). Requests for
// which Exempt reports true (health, readiness, metrics) are never
// counted nor shed.
type Admission struct {
	// Limit is the most requests served at once; at least 1.
	Limit int
	// Exempt, when set, names requests that bypass the limit.
	Exempt func(*http.Request) bool
	// Shed, when set, counts shed requests.
	Shed prometheus.Counter
	// Log, when set, gets shed requests' errors (none are server errors,
	// so nothing is logged per request).
	Log *slog.Logger
}

// NewShedCounter registers tokend_http_shed_total with reg.
func NewShedCounter(reg prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tokend_http_shed_total",
		Help: "Requests answered 503 without being served because the server was at its in-flight limit (--max-inflight).",
	})
	reg.MustRegister(c)
	return c
}

// ExemptOps reports the operational endpoints that admission never sheds:
// a load balancer must still see the server's health while it sheds.
func ExemptOps(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// Wrap applies the limit to h.
func (a Admission) Wrap(h http.Handler) http.Handler {
	slots := make(chan struct{}, max(1, a.Limit))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Exempt != nil && a.Exempt(r) {
			h.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
		default:
			if !a.wait(slots) {
				if a.Shed != nil {
					a.Shed.Inc()
				}
				// The request's body is unread; the connection can stay
				// open, since net/http discards a small unread body
				// before the next request.
				WriteError(w, r, a.Log, &fault.Error{Code: fault.CodeUnavailable, RetryAfter: ShedRetryAfter,
					Description: "the server is at its limit of requests in flight; try again later"})
				return
			}
		}
		defer func() { <-slots }()
		h.ServeHTTP(w, r)
	})
}

// wait takes a slot if one frees within AdmissionWait.
func (a Admission) wait(slots chan struct{}) bool {
	t := time.NewTimer(AdmissionWait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}
