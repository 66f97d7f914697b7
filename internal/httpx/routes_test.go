package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/tokend/tokend/internal/httpx"
)

// TestRoutesRecord checks that Routes registers on the mux and records
// each pattern under its part, in order.
func TestRoutesRecord(t *testing.T) {
	mux := http.NewServeMux()
	rs := httpx.NewRoutes(mux)
	a, b := rs.Part("a"), rs.Part("b")
	a.HandleFunc("GET /x/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	b.Handle("/y", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) }))
	want := []httpx.Route{{Part: "a", Pattern: "GET /x/{id}"}, {Part: "b", Pattern: "/y"}}
	if got := rs.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("routes %v, want %v", got, want)
	}
	for path, code := range map[string]int{"/x/1": 201, "/y": 202} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != code {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, code)
		}
	}
}
