package httptrace_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/tracing/httptrace"
)

// TestRequestSpans: with tracing on, each request to the real server has a
// server span named after its route, with the tenant, the grant and the
// outcome, continuing the caller's trace, and child spans for signing and
// storage; no span attribute holds a secret or a token.
func TestRequestSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	httptrace.Install(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	s, secret := apptest.StartShop(t)
	token := func(id, sec, traceparent string) (int, string) {
		req, _ := http.NewRequest("POST", s.URL+"/t/shop/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, sec)
		if traceparent != "" {
			req.Header.Set("traceparent", traceparent)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	status, body := token("svc", secret, "00-"+traceID+"-00f067aa0ba902b7-01")
	if status != 200 {
		t.Fatalf("token: %d %s", status, body)
	}
	if status, _ := token("svc", "wrong-secret-value", ""); status != 401 {
		t.Fatalf("wrong secret: %d", status)
	}
	spans := exp.GetSpans()
	var server *tracetest.SpanStub
	for i := range spans {
		if spans[i].Name == "POST /t/{tenant}/oauth2/token" && spans[i].SpanContext.TraceID().String() == traceID {
			server = &spans[i]
		}
	}
	if server == nil {
		t.Fatalf("no server span of the token request in the caller's trace; spans: %v", names(spans))
	}
	attrs := map[string]string{}
	for _, a := range server.Attributes {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	for k, v := range map[string]string{"http.route": "/t/{tenant}/oauth2/token", "http.response.status_code": "200",
		"tokend.tenant": "shop", "tokend.grant": "client_credentials", "tokend.outcome": "success"} {
		if attrs[k] != v {
			t.Errorf("server span %s = %q, want %q (all: %v)", k, attrs[k], v, attrs)
		}
	}
	children := map[string]bool{}
	for _, sp := range spans {
		if sp.SpanContext.TraceID() == server.SpanContext.TraceID() && sp.Name != server.Name {
			children[sp.Name] = true
		}
	}
	if !children["keys.sign"] || !(children["ledger.write"] || children["store.tx"]) {
		t.Errorf("child spans of the token request: %v", children)
	}
	refused := false
	for _, sp := range spans {
		for _, a := range sp.Attributes {
			if a.Key == "tokend.outcome" && a.Value.AsString() == "refused" {
				refused = true
			}
		}
	}
	if !refused {
		t.Error("the refused request has no span with outcome refused")
	}
	// Nothing secret in any attribute, event or status.
	for _, sp := range spans {
		all := fmt.Sprint(sp.Name, sp.Attributes, sp.Events, sp.Status, sp.Resource)
		for _, secretValue := range []string{secret, "wrong-secret-value", s.Admin, body[strings.Index(body, "ey"):][:40]} {
			if strings.Contains(all, secretValue) {
				t.Errorf("span %s holds a secret or token: %s", sp.Name, all)
			}
		}
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name+" "+s.SpanContext.TraceID().String())
	}
	return out
}

func TestStartRefusesBadEndpoints(t *testing.T) {
	for _, bad := range []string{"127.0.0.1:4318", "ftp://x", "http://"} {
		if _, err := httptrace.Start(t.Context(), bad, "test"); err == nil {
			t.Errorf("Start(%q) accepted", bad)
		}
	}
	stop, err := httptrace.Start(t.Context(), "", "test")
	if err != nil || stop(t.Context()) != nil {
		t.Fatalf("Start with tracing off: %v", err)
	}
}
