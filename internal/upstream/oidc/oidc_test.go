package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tokend/tokend/internal/upstream/oidc"
	"github.com/tokend/tokend/internal/upstream/oidc/optest"
)

var ctx = context.Background()

// TestVerifyRealProvider: an ID token of the zitadel/oidc example OP
// verifies through discovery and its JWKS; algorithms off the list and a
// changed signature are rejected; once the provider is gone, keys it
// served stay cached while a cold pool is unavailable.
func TestVerifyRealProvider(t *testing.T) {
	t.Parallel()
	op := optest.Start(t)
	id, _ := op.IDToken(t)
	p := oidc.New(oidc.Options{AllowInsecureLoopback: true, Timeout: time.Second})
	b, err := p.Verify(ctx, op.Issuer, []string{"RS256"}, id)
	if err != nil || !strings.Contains(string(b), `"sub":"id1"`) {
		t.Fatalf("Verify = %s, %v", b, err)
	}
	if _, err := p.Verify(ctx, op.Issuer, []string{"ES256"}, id); !errors.Is(err, oidc.ErrRejected) {
		t.Fatalf("alg off the list: %v", err)
	}
	if _, err := p.Verify(ctx, strings.TrimSuffix(op.Issuer, "/"), []string{"RS256"}, id); err == nil {
		t.Fatal("an issuer URL differing from the token's iss verified")
	}
	strict := oidc.New(oidc.Options{Timeout: time.Second})
	if _, err := strict.Verify(ctx, op.Issuer, []string{"RS256"}, id); !errors.Is(err, oidc.ErrUnavailable) || !strings.Contains(err.Error(), "https") {
		t.Fatalf("plain http without the loopback setting: %v", err)
	}
	op.Kill()
	if _, err := p.Verify(ctx, op.Issuer, []string{"RS256"}, id); err != nil {
		t.Fatalf("cached keys after the provider stopped: %v", err)
	}
	cold := oidc.New(oidc.Options{AllowInsecureLoopback: true, Timeout: time.Second})
	if _, err := cold.Verify(ctx, op.Issuer, []string{"RS256"}, id); !errors.Is(err, oidc.ErrUnavailable) {
		t.Fatalf("provider down: %v", err)
	}
}

// keyServer is a loopback provider under the test's control (discovery
// and a JWKS of one rotating key), counting key-set fetches: a test of
// the pool's caching rules, not a stand-in for a real provider.
type keyServer struct {
	*httptest.Server
	key     atomic.Pointer[ecdsa.PrivateKey]
	kid     atomic.Value
	fetches atomic.Int32
	cache   string
}

func newKeyServer(t *testing.T, cache string) *keyServer {
	ks := &keyServer{cache: cache}
	ks.rotate("k1")
	mux := http.NewServeMux()
	ks.Server = httptest.NewServer(mux)
	t.Cleanup(ks.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": ks.URL, "jwks_uri": ks.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		if ks.cache != "" {
			w.Header().Set("Cache-Control", ks.cache)
		}
		k := ks.key.Load()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: ks.kid.Load().(string), Algorithm: "ES256", Use: "sig"}}})
	})
	return ks
}

func (ks *keyServer) rotate(kid string) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ks.key.Store(k)
	ks.kid.Store(kid)
}

func (ks *keyServer) sign(t *testing.T) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: ks.key.Load(), KeyID: ks.kid.Load().(string)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := s.Sign([]byte(`{"iss":"` + ks.URL + `","sub":"u"}`))
	v, _ := o.CompactSerialize()
	return v
}

// TestUnknownKidRefresh: a token under a key the pool has not seen
// refetches the JWKS, at most once per RefreshInterval per issuer.
func TestUnknownKidRefresh(t *testing.T) {
	t.Parallel()
	ks := newKeyServer(t, "max-age=3600")
	now := time.Now()
	clock := func() time.Time { return now }
	p := oidc.New(oidc.Options{AllowInsecureLoopback: true, Now: clock})
	if _, err := p.Verify(ctx, ks.URL, []string{"ES256"}, ks.sign(t)); err != nil {
		t.Fatal(err)
	}
	ks.rotate("k2")
	now = now.Add(11 * time.Second)
	if _, err := p.Verify(ctx, ks.URL, []string{"ES256"}, ks.sign(t)); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	ks.rotate("k3")
	for range 5 { // within 10 s of the last fetch: no refetch
		if _, err := p.Verify(ctx, ks.URL, []string{"ES256"}, ks.sign(t)); !errors.Is(err, oidc.ErrRejected) {
			t.Fatalf("unknown kid within the interval: %v", err)
		}
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2", n)
	}
	now = now.Add(10 * time.Second)
	if _, err := p.Verify(ctx, ks.URL, []string{"ES256"}, ks.sign(t)); err != nil || ks.fetches.Load() != 3 {
		t.Fatalf("after the interval: %v (%d fetches)", err, ks.fetches.Load())
	}
}

// TestKeyCacheLifetime: Cache-Control max-age sets the key set's
// lifetime within [MinTTL, MaxTTL].
func TestKeyCacheLifetime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cache string
		after time.Duration
		fetch bool
	}{
		{"max-age=3600", 30 * time.Minute, false},
		{"max-age=3600", 61 * time.Minute, true},
		{"max-age=1", 30 * time.Second, false}, // clamped up to MinTTL (1 min)
		{"no-store", 30 * time.Second, false},
		{"max-age=99999999", 25 * time.Hour, true}, // clamped down to MaxTTL (24 h)
	} {
		ks := newKeyServer(t, tc.cache)
		now := time.Now()
		p := oidc.New(oidc.Options{AllowInsecureLoopback: true, Now: func() time.Time { return now }})
		tok := ks.sign(t)
		if _, err := p.Verify(ctx, ks.URL, []string{"ES256"}, tok); err != nil {
			t.Fatal(err)
		}
		now = now.Add(tc.after)
		if _, err := p.Verify(ctx, ks.URL, []string{"ES256"}, tok); err != nil {
			t.Fatal(err)
		}
		if got := ks.fetches.Load() == 2; got != tc.fetch {
			t.Errorf("%s after %s: refetched %v, want %v", tc.cache, tc.after, got, tc.fetch)
		}
	}
}

// TestDocumentLimit: a document past MaxDocument is refused whole.
func TestDocumentLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"issuer":"x","pad":"` + strings.Repeat("a", 300<<10) + `"}`))
	}))
	t.Cleanup(srv.Close)
	p := oidc.New(oidc.Options{AllowInsecureLoopback: true})
	_, err := p.Verify(ctx, srv.URL, []string{"RS256"}, "a.b.c")
	if !errors.Is(err, oidc.ErrUnavailable) {
		t.Fatalf("oversized discovery: %v", err)
	}
}

// TestIntrospectionRealProvider: the OP's opaque access token is active
// at its introspection endpoint, the answer is cached (a second call
// works after the provider stopped), an unknown token is rejected.
func TestIntrospectionRealProvider(t *testing.T) {
	t.Parallel()
	op := optest.Start(t)
	_, at := op.IDToken(t)
	p := oidc.New(oidc.Options{AllowInsecureLoopback: true, Timeout: time.Second})
	ep := op.Endpoint("introspection_endpoint")
	m, err := p.Introspect(ctx, ep, optest.WebClient, []byte(optest.WebSecret), at)
	if err != nil || m["sub"] != "id1" || m["active"] != true {
		t.Fatalf("Introspect = %v, %v", m, err)
	}
	if _, err := p.Introspect(ctx, ep, optest.WebClient, []byte(optest.WebSecret), "unknown"); !errors.Is(err, oidc.ErrRejected) {
		t.Fatalf("unknown token: %v", err)
	}
	op.Kill()
	if m, err := p.Introspect(ctx, ep, optest.WebClient, []byte(optest.WebSecret), at); err != nil || m["sub"] != "id1" {
		t.Fatalf("cached answer: %v %v", m, err)
	}
	if _, err := p.Introspect(ctx, ep, optest.WebClient, []byte(optest.WebSecret), "other"); !errors.Is(err, oidc.ErrUnavailable) {
		t.Fatalf("provider down: %v", err)
	}
}
