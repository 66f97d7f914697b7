// Package secretstest is the conformance suite of secrets.Resolver: every
// backend (sealed, vault) runs the same cases against a real instance of
// what it reads (a real SQLite store, a real Vault dev server).
package secretstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/secrets"
)

// Backend is what the suite needs of one backend.
type Backend struct {
	Resolver secrets.Resolver
	// Ref names a client's secret: its Path is a template over {tenant}
	// and {client} (and {project}, with Project set); Client is filled in
	// by the suite.
	Ref secrets.Ref
	// Put makes value the secret Ref names for tenant and client,
	// creating whatever must exist first, and returns the version it
	// wrote (0 for a backend without versions).
	Put func(t *testing.T, tenant, client, value string) int
	// Versioned is true when earlier versions stay readable through
	// Ref.Version.
	Versioned bool
	// Stop, when set, makes the backend unreachable for good; the suite
	// calls it last and expects ErrUnavailable after.
	Stop func(t *testing.T)
}

// Run runs the suite on b.
func Run(t *testing.T, b Backend) {
	if b.Resolver == nil || b.Put == nil || b.Ref.IsZero() {
		t.Fatal("secretstest: Resolver, Put and Ref are required")
	}
	if err := b.Ref.Validate(); err != nil {
		t.Fatalf("secretstest: Ref: %v", err)
	}
	s := suite{b: b, prefix: fmt.Sprintf("st%d", time.Now().UnixNano()%1e9)}
	t.Run("Resolve", s.resolveCase)
	t.Run("PerClient", s.perClient)
	t.Run("NotFound", s.notFound)
	t.Run("TenantIsolation", s.isolation)
	t.Run("Rewrite", s.rewrite)
	t.Run("Versions", s.versions)
	t.Run("OutsideItsTree", s.outside)
	t.Run("Concurrent", s.concurrent)
	t.Run("Redacted", s.redacted)
	if b.Stop != nil {
		t.Run("Unavailable", s.unavailable)
	}
}

type suite struct {
	b      Backend
	prefix string
}

// name returns a tenant or client id of this run.
func (s suite) name(part string) string { return s.prefix + "-" + part }

func (s suite) ref(client string) secrets.Ref {
	r := s.b.Ref
	r.Client = client
	return r
}

func (s suite) resolve(tenant, client string, version int) (secrets.Secret, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := s.ref(client)
	r.Version = version
	return s.b.Resolver.Resolve(ctx, tenant, r)
}

func (s suite) want(t *testing.T, tenant, client string, version int, value string) {
	t.Helper()
	got, err := s.resolve(tenant, client, version)
	if err != nil {
		t.Fatalf("Resolve(%s, %s, version %d): %v", tenant, client, version, err)
	}
	if !got.Equal(value) {
		t.Fatalf("Resolve(%s, %s, version %d) is not the secret written", tenant, client, version)
	}
	for _, wrong := range []string{"", value + "x", value[:len(value)-1], strings.ToUpper(value)} {
		if wrong != value && got.Equal(wrong) {
			t.Fatalf("the secret of %s/%s also equals a wrong value", tenant, client)
		}
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

// resolve: a secret written is read back, and only it matches.
func (s suite) resolveCase(t *testing.T) {
	ten, c := s.name("a"), "billing"
	v := s.prefix + "-s3cr3t-value"
	s.b.Put(t, ten, c, v)
	s.want(t, ten, c, 0, v)
}

// perClient: the template gives each client its own secret.
func (s suite) perClient(t *testing.T) {
	ten := s.name("a")
	s.b.Put(t, ten, "one", "secret-of-one-"+s.prefix)
	s.b.Put(t, ten, "two", "secret-of-two-"+s.prefix)
	s.want(t, ten, "one", 0, "secret-of-one-"+s.prefix)
	s.want(t, ten, "two", 0, "secret-of-two-"+s.prefix)
	got, err := s.resolve(ten, "one", 0)
	if err != nil || got.Equal("secret-of-two-"+s.prefix) {
		t.Fatalf("client one resolves to client two's secret (%v)", err)
	}
}

// notFound: no secret at the path, or no such field, is ErrNotFound and
// never ErrUnavailable.
func (s suite) notFound(t *testing.T) {
	ten := s.name("a")
	s.b.Put(t, ten, "present", "present-secret-"+s.prefix)
	_, err := s.resolve(ten, "absent", 0)
	wantErr(t, err, secrets.ErrNotFound)
	if errors.Is(err, secrets.ErrUnavailable) {
		t.Fatalf("a missing secret is also unavailable: %v", err)
	}
	r := s.ref("present")
	r.Field = "no_such_field"
	ctx := context.Background()
	_, err = s.b.Resolver.Resolve(ctx, ten, r)
	wantErr(t, err, secrets.ErrNotFound)
	_, err = s.resolve(s.name("no-such-tenant"), "present", 0)
	wantErr(t, err, secrets.ErrNotFound)
}

// isolation: the same reference under another tenant never reads the
// first tenant's secret.
func (s suite) isolation(t *testing.T) {
	a, b := s.name("iso-a"), s.name("iso-b")
	s.b.Put(t, a, "shared", "secret-of-a-"+s.prefix)
	_, err := s.resolve(b, "shared", 0)
	wantErr(t, err, secrets.ErrNotFound)
	s.b.Put(t, b, "shared", "secret-of-b-"+s.prefix)
	s.want(t, a, "shared", 0, "secret-of-a-"+s.prefix)
	s.want(t, b, "shared", 0, "secret-of-b-"+s.prefix)
}

// rewrite: the latest value wins (the resolver itself caches nothing).
func (s suite) rewrite(t *testing.T) {
	ten := s.name("a")
	s.b.Put(t, ten, "rotating", "first-"+s.prefix)
	s.want(t, ten, "rotating", 0, "first-"+s.prefix)
	s.b.Put(t, ten, "rotating", "second-"+s.prefix)
	s.want(t, ten, "rotating", 0, "second-"+s.prefix)
	got, _ := s.resolve(ten, "rotating", 0)
	if got.Equal("first-" + s.prefix) {
		t.Fatal("the replaced secret still matches")
	}
}

// versions: a pinned version reads that version; a version that does
// not exist is ErrNotFound. A backend without versions has only 0.
func (s suite) versions(t *testing.T) {
	ten := s.name("a")
	v1 := s.b.Put(t, ten, "versioned", "v1-"+s.prefix)
	v2 := s.b.Put(t, ten, "versioned", "v2-"+s.prefix)
	if !s.b.Versioned {
		_, err := s.resolve(ten, "versioned", 1)
		wantErr(t, err, secrets.ErrNotFound)
		s.want(t, ten, "versioned", 0, "v2-"+s.prefix)
		return
	}
	if v1 <= 0 || v2 <= v1 {
		t.Fatalf("versions %d then %d", v1, v2)
	}
	s.want(t, ten, "versioned", v1, "v1-"+s.prefix)
	s.want(t, ten, "versioned", v2, "v2-"+s.prefix)
	s.want(t, ten, "versioned", 0, "v2-"+s.prefix)
	got, err := s.resolve(ten, "versioned", v1)
	if err != nil || got.Version != v1 {
		t.Fatalf("pinned version = %d, %v; want %d", got.Version, err, v1)
	}
	_, err = s.resolve(ten, "versioned", v2+100)
	wantErr(t, err, secrets.ErrNotFound)
}

// outside: a client id that is not one path segment never reaches another
// part of the tree.
func (s suite) outside(t *testing.T) {
	ten := s.name("a")
	s.b.Put(t, ten, "victim", "victim-"+s.prefix)
	for _, c := range []string{"", "..", ".", "x/../victim", "victim/", "a/b", "{tenant}", "vic%74im", "victim?x=1"} {
		_, err := s.resolve(ten, c, 0)
		wantErr(t, err, secrets.ErrNotFound)
	}
}

// concurrent: resolves from many goroutines each read their own secret.
func (s suite) concurrent(t *testing.T) {
	ten := s.name("a")
	const clients, rounds = 4, 10
	for i := range clients {
		s.b.Put(t, ten, fmt.Sprintf("par%d", i), fmt.Sprintf("par-secret-%d-%s", i, s.prefix))
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients*rounds)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				got, err := s.resolve(ten, fmt.Sprintf("par%d", i), 0)
				if err == nil && !got.Equal(fmt.Sprintf("par-secret-%d-%s", i, s.prefix)) {
					err = fmt.Errorf("client par%d read another secret", i)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// redacted: a resolved secret prints, logs and marshals as a placeholder.
func (s suite) redacted(t *testing.T) {
	ten, v := s.name("a"), "do-not-print-"+s.prefix
	s.b.Put(t, ten, "printed", v)
	got, err := s.resolve(ten, "printed", 0)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("resolved", "secret", got, "wrapped", struct{ S secrets.Secret }{got})
	js, _ := json.Marshal(map[string]any{"s": got})
	for _, out := range []string{fmt.Sprint(got), fmt.Sprintf("%v %+v %#v %s %q", got, got, got, got, got),
		fmt.Sprintf("%+v", struct{ S secrets.Secret }{got}), string(js), logged.String()} {
		if strings.Contains(out, v) {
			t.Fatalf("the secret shows in %q", out)
		}
	}
}

// unavailable: once the backend is gone, a resolve is ErrUnavailable —
// never ErrNotFound, which would tell the caller its secret is wrong.
func (s suite) unavailable(t *testing.T) {
	ten := s.name("a")
	s.b.Put(t, ten, "before-stop", "before-stop-"+s.prefix)
	s.b.Stop(t)
	start := time.Now()
	_, err := s.resolve(ten, "before-stop", 0)
	wantErr(t, err, secrets.ErrUnavailable)
	if errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("an unavailable backend answers not found: %v", err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("an unavailable backend took %v to answer", d)
	}
}
