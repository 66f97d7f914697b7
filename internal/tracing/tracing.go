// Package tracing is tokend's OpenTelemetry tracing: one span per HTTP
// request (its route, tenant, grant and outcome) with child spans for
// storage transactions, ledger writes and token signing. It is off unless
// an OTLP endpoint is configured (package httptrace starts the export);
// off, the request middleware does no tracing work and every child span is
// a no-op.
//
// Span attributes never hold a token, secret, password or assertion: only
// route patterns (never raw paths or queries), tenant ids, grant types
// tokend serves, status codes and counts.
//
// This package depends on OpenTelemetry's trace API only, so that the core
// packages may use it (the otel package itself depends on net/http).
package tracing

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Name is the instrumentation scope of tokend's spans.
const Name = "github.com/tokend/tokend"

// Attribute keys of tokend's own.
const (
	Tenant  = attribute.Key("tokend.tenant")
	Grant   = attribute.Key("tokend.grant")
	Outcome = attribute.Key("tokend.outcome")
)

var tracer atomic.Pointer[trace.Tracer]

func init() {
	t := noop.NewTracerProvider().Tracer(Name)
	tracer.Store(&t)
}

var enabled atomic.Bool

// Use makes tp the provider of tokend's spans; httptrace.Install calls it.
func Use(tp trace.TracerProvider) {
	t := tp.Tracer(Name)
	tracer.Store(&t)
	enabled.Store(true)
}

// Enabled reports whether spans are recorded; the request middleware does
// no tracing work at all when they are not.
func Enabled() bool { return enabled.Load() }

// Tracer returns tokend's tracer (a no-op one until Use).
func Tracer() trace.Tracer { return *tracer.Load() }

// Child starts a span under ctx's span for an internal step.
func Child(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return Tracer().Start(ctx, name, trace.WithAttributes(attrs...))
}

// Set adds attributes to ctx's current span (the request's, in a handler).
func Set(ctx context.Context, attrs ...attribute.KeyValue) {
	trace.SpanFromContext(ctx).SetAttributes(attrs...)
}
