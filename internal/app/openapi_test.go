package app_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/openapi"
)

// nativeParts are the parts of the server openapi.Native describes; every
// other part is a compatible surface with a document of its own.
var nativeParts = []string{app.PartAdmin, app.PartOAuth, app.PartGateway, app.PartTokenAPI, app.PartServer}

// TestOpenAPINoDrift checks each document against the routes the server
// registers, both ways: every registered route is documented, and every
// documented operation is served. The server runs with a BigCommerce
// domain so that the host-routed /graphql is registered too.
//
// A pattern without a method is a catch-all. Where the path also has
// patterns with a method, the catch-all only answers the other methods
// with an error (405): the path must be documented, but the catch-all
// serves none of the documented operations. Where it is the path's only
// pattern, it is the handler: the path must be documented, and its
// documented operations count as served by it.
func TestOpenAPINoDrift(t *testing.T) {
	s := apptest.StartWith(t, "", apptest.Options{Config: func(c *config.Config) { c.BigCommerceDomain = "example.test" }})
	byDoc := map[string][]string{} // document name -> patterns
	for _, r := range s.App.Routes() {
		name := "openapi.json"
		if !slices.Contains(nativeParts, r.Part) {
			name = r.Part
		}
		byDoc[name] = append(byDoc[name], r.Pattern)
	}
	for _, sf := range []string{"storetoken", "dotkernel", "apstrata", "bigcommerce", "tenantauth"} {
		if len(byDoc[sf]) == 0 {
			t.Errorf("surface %s registered no route", sf)
		}
	}
	for name, patterns := range byDoc {
		t.Run(name, func(t *testing.T) {
			b := openapi.Native
			if name != "openapi.json" {
				b = openapi.Compat(name)
			}
			if b == nil {
				t.Fatalf("no document for part %s", name)
			}
			doc, err := openapi3.NewLoader().LoadFromData(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if name == "openapi.json" {
				// The CORS layer answers these OPTIONS before the mux.
				patterns = append(patterns, httpx.CORSPatterns()...)
			}
			noDrift(t, doc, patterns)
		})
	}
}

func noDrift(t *testing.T, doc *openapi3.T, patterns []string) {
	t.Helper()
	documented := map[string]bool{} // "METHOD /path"
	paths := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		paths[path] = true
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	catchAll := map[string]bool{}
	withMethod := map[string]bool{}
	for _, p := range patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			catchAll[method] = true
			continue
		}
		served[p] = true
		withMethod[path] = true
	}
	// ServeMux answers HEAD wherever it answers GET.
	for p := range served {
		if path, ok := strings.CutPrefix(p, "GET "); ok {
			served["HEAD "+path] = true
		}
	}
	var missing, extra []string
	for p := range served {
		if strings.HasPrefix(p, "HEAD ") {
			continue // documented where it matters (discovery, JWKS), not required
		}
		if !documented[p] {
			missing = append(missing, p)
		}
	}
	for path := range catchAll {
		if !paths[path] {
			missing = append(missing, "(any method) "+path)
		}
	}
	for op := range documented {
		_, path, _ := strings.Cut(op, " ")
		if !served[op] && !(catchAll[path] && !withMethod[path]) {
			extra = append(extra, op)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, m := range missing {
		t.Errorf("served but not documented: %s", m)
	}
	for _, e := range extra {
		t.Errorf("documented but not served: %s", e)
	}
}

// TestOpenAPIServed checks that GET /openapi.json answers, without
// authentication, exactly the embedded document as cacheable JSON.
func TestOpenAPIServed(t *testing.T) {
	s := apptest.Start(t, "")
	res, err := http.Get(s.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if string(body) != string(openapi.Native) {
		t.Fatalf("served %d bytes, not the embedded document (%d bytes)", len(body), len(openapi.Native))
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("Cache-Control %q", cc)
	}
	req, _ := http.NewRequest("GET", s.URL+"/openapi.json", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation by ETag: status %d", res2.StatusCode)
	}
}
