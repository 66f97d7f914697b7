package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRefValidate(t *testing.T) {
	seed002 := Ref{Backend: BackendVault, Mount: "kv", Path: "secret/{tenant}/{project}/{client}", Field: "secret_id", Project: "api"}
	cases := []struct {
		name string
		ref  Ref
		bad  string
	}{
		{"seed 002 layout", seed002, ""},
		{"sealed", Ref{Backend: BackendSealed, Path: "client/{client}", Field: "legacy_secret"}, ""},
		{"pinned version", Ref{Backend: BackendVault, Mount: "secret", Path: "apps/{client}", Field: "s", Version: 4}, ""},
		{"no backend", Ref{Path: "a", Field: "f"}, "backend is required"},
		{"unknown backend", Ref{Backend: "aws", Path: "a", Field: "f"}, "not sealed or vault"},
		{"vault without mount", Ref{Backend: BackendVault, Path: "a", Field: "f"}, "mount is required"},
		{"sealed with mount", Ref{Backend: BackendSealed, Mount: "kv", Path: "a/b", Field: "f"}, "only for the vault"},
		{"no field", Ref{Backend: BackendVault, Mount: "kv", Path: "a"}, "field is required"},
		{"no path", Ref{Backend: BackendVault, Mount: "kv", Field: "f"}, "path is required"},
		{"negative version", Ref{Backend: BackendVault, Mount: "kv", Path: "a", Field: "f", Version: -1}, "version"},
		{"project missing", Ref{Backend: BackendVault, Mount: "kv", Path: "{project}/{client}", Field: "f"}, "project is required"},
		{"unknown placeholder", Ref{Backend: BackendVault, Mount: "kv", Path: "{user}/x", Field: "f"}, "placeholder"},
		{"dot dot", Ref{Backend: BackendVault, Mount: "kv", Path: "a/../b", Field: "f"}, "segment"},
		{"leading slash", Ref{Backend: BackendVault, Mount: "kv", Path: "/a", Field: "f"}, "segment"},
		{"query", Ref{Backend: BackendVault, Mount: "kv", Path: "a?list=true", Field: "f"}, "not allowed"},
		{"space in field", Ref{Backend: BackendVault, Mount: "kv", Path: "a", Field: "f f"}, "not allowed"},
		{"project with slash", Ref{Backend: BackendVault, Mount: "kv", Path: "{project}", Field: "f", Project: "a/b"}, "one path segment"},
		{"long path", Ref{Backend: BackendVault, Mount: "kv", Path: strings.Repeat("a", 513), Field: "f"}, "longer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.ref.Validate()
			switch {
			case c.bad == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
				t.Fatalf("Validate = %v, want an error with %q", err, c.bad)
			}
		})
	}
}

func TestRefExpanded(t *testing.T) {
	r := Ref{Backend: BackendVault, Mount: "kv", Path: "secret/{tenant}/{project}/{client}", Field: "secret_id", Project: "api", Client: "billing"}
	got, err := r.Expanded("acme")
	if err != nil || got != "secret/acme/api/billing" {
		t.Fatalf("Expanded = %q, %v", got, err)
	}
	for _, client := range []string{"", "..", "a/b", "{tenant}"} {
		r.Client = client
		if got, err := r.Expanded("acme"); err == nil {
			t.Errorf("client %q expands to %q", client, got)
		}
	}
	r.Client = "ok"
	if _, err := r.Expanded("a/b"); err == nil {
		t.Error("a tenant with a slash expands")
	}
}

func TestSecretEqual(t *testing.T) {
	s := NewSecret([]byte("hunter22"), 3)
	if !s.Equal("hunter22") || s.Equal("hunter2") || s.Equal("") || s.Version != 3 {
		t.Fatal("Equal")
	}
	if (Secret{}).Equal("") {
		t.Fatal("an empty secret matches the empty string")
	}
	b, _ := json.Marshal(s)
	if strings.Contains(string(b)+s.String()+s.GoString(), "hunter") {
		t.Fatal("the secret shows")
	}
}

// counting is a Resolver that counts its calls and fails while down.
type counting struct {
	calls atomic.Int64
	down  atomic.Bool
	delay time.Duration
}

func (c *counting) Resolve(_ context.Context, tenant string, ref Ref) (Secret, error) {
	c.calls.Add(1)
	time.Sleep(c.delay)
	if c.down.Load() {
		return Secret{}, ErrUnavailable
	}
	if ref.Client == "missing" {
		return Secret{}, ErrNotFound
	}
	return NewSecret([]byte(tenant+"/"+ref.Client), 0), nil
}

func TestCache(t *testing.T) {
	r := &counting{}
	c := NewCache(r, time.Minute, 2)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ref := Ref{Backend: BackendVault, Mount: "kv", Path: "{tenant}/{client}", Field: "f"}
	get := func(ten, client string) (Secret, error) {
		rr := ref
		rr.Client = client
		return c.Resolve(context.Background(), ten, rr)
	}
	for range 3 {
		if s, err := get("a", "x"); err != nil || !s.Equal("a/x") {
			t.Fatal(s, err)
		}
	}
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("%d backend calls for three resolves", n)
	}
	if s, _ := get("b", "x"); !s.Equal("b/x") {
		t.Fatal("tenants share a cache entry")
	}
	// A miss is never cached.
	for range 2 {
		if _, err := get("a", "missing"); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := r.calls.Load(); n != 4 {
		t.Fatalf("%d backend calls, want 4", n)
	}
	// Within the TTL a cached secret is served while the backend is down;
	// past it, the backend must answer.
	r.down.Store(true)
	now = now.Add(59 * time.Second)
	if s, err := get("a", "x"); err != nil || !s.Equal("a/x") {
		t.Fatal("a fresh entry is not served while the backend is down", err)
	}
	now = now.Add(2 * time.Second)
	if _, err := get("a", "x"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("past the TTL: %v", err)
	}
	// The size bound holds.
	r.down.Store(false)
	for _, cl := range []string{"p", "q", "r", "s"} {
		_, _ = get("a", cl)
	}
	if n := c.Len(); n > 2 {
		t.Fatalf("%d entries in a cache of 2", n)
	}
	// TTL 0 caches nothing.
	off := NewCache(r, 0, 0)
	before := r.calls.Load()
	for range 3 {
		_, _ = off.Resolve(context.Background(), "a", Ref{Backend: BackendVault, Mount: "kv", Path: "p", Field: "f", Client: "x"})
	}
	if r.calls.Load()-before != 3 {
		t.Fatal("a zero TTL caches")
	}
}

// TestCacheSharesMisses: concurrent misses of one secret make one read;
// a caller whose context ends stops waiting.
func TestCacheSharesMisses(t *testing.T) {
	r := &counting{delay: 200 * time.Millisecond}
	c := NewCache(r, time.Minute, 0)
	ref := Ref{Backend: BackendVault, Mount: "kv", Path: "{tenant}/{client}", Field: "f", Client: "x"}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s, err := c.Resolve(context.Background(), "a", ref); err != nil || !s.Equal("a/x") {
				t.Error(s, err)
			}
		}()
	}
	wg.Wait()
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("%d reads for 10 concurrent misses", n)
	}
	ref.Client = "y"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Resolve(ctx, "a", ref); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a caller out of time: %v", err)
	}
}

func TestMux(t *testing.T) {
	r := &counting{}
	m := Mux{Sealed: r}
	if _, err := m.Resolve(context.Background(), "a", Ref{Backend: BackendVault, Mount: "kv", Path: "p", Field: "f"}); !errors.Is(err, ErrUnavailable) ||
		!strings.Contains(err.Error(), "--vault-addr") {
		t.Fatalf("vault without Vault: %v", err)
	}
	if _, err := m.Resolve(context.Background(), "a", Ref{Backend: "other"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown backend: %v", err)
	}
	if s, err := m.Resolve(context.Background(), "a", Ref{Backend: BackendSealed, Client: "x"}); err != nil || !s.Equal("a/x") {
		t.Fatalf("sealed: %v", err)
	}
}

// FuzzRef feeds the admin API's JSON of a secret reference to Validate and
// Expanded: whatever validates expands to a path of plain segments.
func FuzzRef(f *testing.F) {
	f.Add(`{"backend":"vault","mount":"kv","path":"secret/{tenant}/{project}/{client}","field":"secret_id","project":"api"}`, "acme", "web")
	f.Add(`{"backend":"sealed","path":"client/{client}","field":"legacy_secret"}`, "t", "..")
	f.Add(`{"backend":"vault","mount":"kv","path":"a/../{client}","field":"f","version":2}`, "t", "c")
	f.Fuzz(func(t *testing.T, raw, tenant, client string) {
		var r Ref
		if json.Unmarshal([]byte(raw), &r) != nil || r.Validate() != nil {
			return
		}
		r.Client = client
		p, err := r.Expanded(tenant)
		if err != nil {
			return
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "{}?#%\\ ") {
				t.Fatalf("%q expands to %q", raw, p)
			}
		}
	})
}
