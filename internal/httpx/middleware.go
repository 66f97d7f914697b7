package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"go.opentelemetry.io/otel/trace"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/reqctx"
	"github.com/tokend/tokend/internal/tracing"
	"github.com/tokend/tokend/internal/tracing/httptrace"
)

// Metrics are the HTTP metrics every request updates.
type Metrics struct {
	Requests *prometheus.CounterVec
	Duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tokend_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.Requests, m.Duration)
	return m
}

// Wrap applies, outermost first: the request's deadline, request id and
// request info, panic recovery, the body size limit, metrics and the
// access log; it refuses chunked requests (see below).
//
// The deadline is timeout(r) from now (none when timeout is nil or returns
// 0), so that every call the handler makes with the request's context,
// database calls included, gives up in time for the answer to be written
// before the server's write timeout. A handler that runs out of time
// answers 503 temporarily_unavailable: AsFault maps the context's errors
// to fault.CodeUnavailable. The deadline and the request info make one
// derived request, not one each.
func Wrap(h http.Handler, log *slog.Logger, m *Metrics, maxBody int64, timeout func(*http.Request) time.Duration) http.Handler {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := r.Context()
		if timeout != nil {
			if d := timeout(r); d > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
		}
		addr := remoteIP(r.RemoteAddr)
		ctx = reqctx.With(ctx, reqctx.Info{RequestID: id, RemoteAddr: addr, UserAgent: r.UserAgent()})
		r = r.WithContext(ctx)
		var span trace.Span
		if tracing.Enabled() {
			ctx, span = httptrace.Request(r)
			r = r.WithContext(ctx)
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				log.ErrorContext(ctx, "panic", "request_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !rec.wrote {
					WriteError(rec, r, nil, fault.Internal(fmt.Errorf("panic: %v", p)))
				}
			}
			status, unsent := rec.sent(r.Context(), p == http.ErrAbortHandler)
			d := time.Since(start)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if m != nil {
				m.Requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
				m.Duration.WithLabelValues(route).Observe(d.Seconds())
			}
			if log.Enabled(ctx, slog.LevelInfo) { // the access log's attributes only when it is written
				attrs := []slog.Attr{slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Int("status", status), slog.Int64("bytes", rec.bytes),
					slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("remote_addr", addr)}
				if unsent != nil {
					attrs = append(attrs, slog.Int("unsent_status", rec.status), slog.String("error", unsent.Error()))
				}
				log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
			}
			if span != nil {
				httptrace.End(span, r, status)
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
		}()
		if len(r.TransferEncoding) > 0 {
			// RFC 9112 §6.1: a request with both Content-Length and
			// Transfer-Encoding may be smuggling, and the connection must
			// close after it. net/http drops the Content-Length of a
			// chunked request before any handler sees it, so every
			// chunked request is refused unread; bodies here are small
			// and every client can send them with a Content-Length.
			rec.Header().Set("Connection", "close")
			rec.Header().Set("Cache-Control", "no-store")
			WriteError(rec, r, nil, fault.InvalidRequest("Transfer-Encoding is not accepted; send the body with a Content-Length"))
			return
		}
		h.ServeHTTP(rec, r)
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
		defaultRetryAfter(r.Header(), code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// sent returns the status the client actually got: 0, with the reason,
// when the answer did not reach it. An answer made after the request's
// deadline is flushed here to find out: past the server's write timeout
// the connection no longer takes it.
func (r *recorder) sent(ctx context.Context, aborted bool) (int, error) {
	switch {
	case aborted:
		return 0, errors.New("response aborted")
	case !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return r.status, nil
	}
	if err := http.NewResponseController(r.ResponseWriter).Flush(); err != nil {
		return 0, fmt.Errorf("response not sent: %w", err)
	}
	return r.status, nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validRequestID accepts a caller's id only when short and plain.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func remoteIP(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
