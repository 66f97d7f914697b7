// Package httptrace starts tokend's span export (OTLP over HTTP) and
// traces HTTP requests: the server span of each request, continuing the
// caller's W3C trace context.
package httptrace

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokend/tokend/internal/tracing"
)

// Start installs a tracer provider exporting to the OTLP/HTTP endpoint (a
// URL such as http://127.0.0.1:4318; the exporter's OTEL_EXPORTER_OTLP_*
// variables apply too) and returns the function that flushes and stops
// it. An empty endpoint leaves tracing off.
func Start(ctx context.Context, endpoint, version string) (func(context.Context) error, error) {
	if endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tracing: --otlp-endpoint %q is not an http(s) URL", endpoint)
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName("tokend"), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	Install(tp)
	return tp.Shutdown, nil
}

// Install makes tp the provider of tokend's spans, with W3C trace-context
// propagation (tests install one with an in-memory exporter).
func Install(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tracing.Use(tp)
}

// Request starts the server span of an HTTP request, continuing the
// caller's trace (W3C traceparent); end it with End once the request was
// routed and answered.
func Request(r *http.Request) (context.Context, trace.Span) {
	ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	return tracing.Tracer().Start(ctx, "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method)))
}

// End names the span after the route the request matched (the pattern,
// never the raw path), records the status, the tenant and the outcome,
// and ends it.
func End(span trace.Span, r *http.Request, status int) {
	route := r.Pattern
	if _, p, ok := strings.Cut(route, " "); ok {
		route = p
	}
	if route == "" {
		route = "unmatched"
	}
	span.SetName(r.Method + " " + route)
	attrs := []attribute.KeyValue{semconv.HTTPRoute(route), semconv.HTTPResponseStatusCode(status)}
	if t := r.PathValue("tenant"); t != "" {
		attrs = append(attrs, tracing.Tenant.String(t))
	}
	outcome := "success"
	switch {
	case status >= 500:
		outcome = "error"
		span.SetStatus(codes.Error, http.StatusText(status))
	case status >= 400:
		outcome = "refused"
	}
	span.SetAttributes(append(attrs, tracing.Outcome.String(outcome))...)
	span.End()
}
