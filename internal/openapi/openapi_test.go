package openapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokend/tokend/internal/openapi"
)

// Surfaces are the compatible surfaces that have a document of their own.
var Surfaces = []string{"storetoken", "dotkernel", "apstrata", "bigcommerce", "tenantauth"}

func load(t *testing.T, name string, b []byte) *openapi3.T {
	t.Helper()
	if b == nil {
		t.Fatalf("%s: no document", name)
	}
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(b)
	if err != nil {
		t.Fatalf("%s: load: %v", name, err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("%s: openapi = %q, want 3.1.0", name, doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s: invalid: %v", name, err)
	}
	return doc
}

// TestDocumentsValidate loads every document with kin-openapi and
// validates it, and checks that every operation has a summary, an
// operationId and at least one response.
func TestDocumentsValidate(t *testing.T) {
	docs := map[string][]byte{"openapi.json": openapi.Native}
	for _, s := range Surfaces {
		docs["compat/"+s+".json"] = openapi.Compat(s)
	}
	for name, b := range docs {
		t.Run(name, func(t *testing.T) {
			doc := load(t, name, b)
			if doc.Paths.Len() == 0 {
				t.Fatal("no paths")
			}
			for path, item := range doc.Paths.Map() {
				for method, op := range item.Operations() {
					if op.Summary == "" || op.OperationID == "" {
						t.Errorf("%s %s: no summary or operationId", method, path)
					}
					if op.Responses.Len() == 0 {
						t.Errorf("%s %s: no responses", method, path)
					}
				}
			}
		})
	}
}

func TestCompatUnknown(t *testing.T) {
	if openapi.Compat("nosuch") != nil {
		t.Fatal("a document for an unknown surface")
	}
}

// TestHandler checks the served bytes, type and caching headers.
func TestHandler(t *testing.T) {
	h := openapi.Handler(openapi.Native)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(openapi.Native) {
		t.Fatalf("status %d, body differs: %v", rec.Code, rec.Body.String() != string(openapi.Native))
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("Cache-Control %q", cc)
	}
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("revalidation: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
}
