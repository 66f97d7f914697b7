package httpx

import (
	"net/http"
	"sync"
)

// Router is what a surface registers its routes on; *http.ServeMux is one.
type Router interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

// Routes registers on a ServeMux and records every pattern, under the
// name of the part that registered it, so that the server can say which
// routes it serves (the OpenAPI documents are checked against them).
type Routes struct {
	mux  *http.ServeMux
	mu   sync.Mutex
	list []Route
}

// Route is one registered pattern and the part that registered it.
type Route struct {
	Part    string
	Pattern string
}

// NewRoutes records the routes registered on mux.
func NewRoutes(mux *http.ServeMux) *Routes { return &Routes{mux: mux} }

// Part returns the Router that records its patterns under name.
func (rs *Routes) Part(name string) Router { return part{rs, name} }

// List returns the recorded routes in the order they were registered.
func (rs *Routes) List() []Route {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]Route(nil), rs.list...)
}

func (rs *Routes) add(name, pattern string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.list = append(rs.list, Route{Part: name, Pattern: pattern})
}

type part struct {
	rs   *Routes
	name string
}

func (p part) Handle(pattern string, h http.Handler) {
	p.rs.mux.Handle(pattern, h)
	p.rs.add(p.name, pattern)
}

func (p part) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	p.rs.mux.HandleFunc(pattern, h)
	p.rs.add(p.name, pattern)
}
