package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/keys"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
)

// seedTenants fills a fresh SQLite data directory with n tenants, each
// with its signing key, and a client "svc" in tenant "t0" allowed the
// client_credentials grant. It returns the configuration and the client's
// secret.
func seedTenants(b *testing.B, n int) (config.Config, string) {
	b.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.MasterKey = masterKey()
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	master, err := keys.LoadMaster(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	err = a.Store().Tx(ctx, func(tx store.Store) error {
		km, err := keys.New(keys.Options{Store: tx, Master: master, Issuer: func(t string) string { return tenant.Issuer(cfg.PublicURL, t) }})
		if err != nil {
			return err
		}
		for i := range n {
			id := fmt.Sprintf("t%d", i)
			if err := tx.Tenants().Create(ctx, store.Tenant{ID: id, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			if err := km.Ensure(ctx, id, "ES256"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	gt, id := []string{"client_credentials"}, "svc"
	scopes := []string{"read"}
	_, secret, err := a.Directory().CreateClient(ctx, directory.Actor{}, "t0", directory.ClientSpec{ID: &id, GrantTypes: &gt, Scopes: &scopes})
	if err != nil {
		b.Fatal(err)
	}
	return cfg, secret
}

// BenchmarkStartup measures start-up to ready: open the store, migrate,
// build every service, listen, and answer /readyz 200 — on an empty data
// directory and on one holding 10,000 tenants.
func BenchmarkStartup(b *testing.B) {
	ctx := context.Background()
	bench := func(b *testing.B, cfg func() config.Config) {
		for b.Loop() {
			c := cfg()
			a, err := app.New(ctx, c, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			sctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- a.Serve(sctx, ln) }()
			for {
				resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						break
					}
				}
			}
			b.StopTimer()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			a.Close()
			b.StartTimer()
		}
	}
	b.Run("empty", func(b *testing.B) {
		bench(b, func() config.Config {
			b.StopTimer()
			c := config.Default()
			c.DataDir = b.TempDir()
			b.StartTimer()
			return c
		})
	})
	b.Run("tenants=10000", func(b *testing.B) {
		cfg, _ := seedTenants(b, 10000)
		b.ResetTimer()
		bench(b, func() config.Config { return cfg })
	})
}

// BenchmarkTenantScaling measures per-request cost with 1 and 10,000
// tenants stored: a client_credentials token request and a JWKS fetch,
// through the server's handler.
func BenchmarkTenantScaling(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 10000} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			cfg, secret := seedTenants(b, n)
			a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			h := a.Handler()
			form := url.Values{"grant_type": {"client_credentials"}}.Encode()
			b.Run("client_credentials", func(b *testing.B) {
				for b.Loop() {
					req := httptest.NewRequest("POST", "/t/t0/oauth2/token", strings.NewReader(form))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth("svc", secret)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("token: %d %s", w.Code, w.Body)
					}
				}
			})
			b.Run("jwks", func(b *testing.B) {
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest("GET", "/t/t0/jwks.json", nil))
					if w.Code != 200 {
						b.Fatalf("jwks: %d", w.Code)
					}
				}
			})
		})
	}
}

// benchServer starts an application with one tenant t0 and its client
// svc, closed when b ends, and returns its handler and a form post to it
// as svc.
func benchServer(b *testing.B) (http.Handler, func(path, form string) *httptest.ResponseRecorder) {
	cfg, secret := seedTenants(b, 1)
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	h := a.Handler()
	return h, func(path, form string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("svc", secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
}

// parallelForms runs b's iterations from many goroutines at once as form
// posts of client svc of tenant t0 to path; ok judges each answer. prep,
// runs first, with the same post, and returns the form to send.
func parallelForms(b *testing.B, path string, prep func(post func(path, form string) *httptest.ResponseRecorder) string, ok func(*httptest.ResponseRecorder) bool) {
	_, post := benchServer(b)
	form := prep(post)
	cpu0 := cpuTime()
	b.ResetTimer()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := post(path, form); !ok(w) {
				b.Errorf("%s: %d %s", path, w.Code, w.Body)
				return
			}
		}
	})
	// The process's CPU per request: the handler, the group committer and
	// the benchmark's own requests and recorders.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkIssueParallel measures client_credentials requests through the
// handler from many goroutines at once, as a loaded server sees them.
func BenchmarkIssueParallel(b *testing.B) {
	parallelForms(b, "/t/t0/oauth2/token",
		func(func(string, string) *httptest.ResponseRecorder) string {
			return url.Values{"grant_type": {"client_credentials"}}.Encode()
		},
		func(w *httptest.ResponseRecorder) bool { return w.Code == 200 })
}

// BenchmarkIntrospectParallel measures RFC 7662 introspection of one valid
// access token by its own client, from many goroutines at once.
func BenchmarkIntrospectParallel(b *testing.B) {
	parallelForms(b, "/t/t0/oauth2/introspect",
		func(post func(string, string) *httptest.ResponseRecorder) string {
			var tr struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.Unmarshal(post("/t/t0/oauth2/token", "grant_type=client_credentials").Body.Bytes(), &tr)
			return url.Values{"token": {tr.AccessToken}}.Encode()
		},
		func(w *httptest.ResponseRecorder) bool {
			return w.Code == 200 && strings.Contains(w.Body.String(), `"active":true`)
		})
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCheckParallel measures the gateway check (GET /t/t0/check with
// a valid bearer token, as nginx auth_request sends it) through the whole
// handler from many goroutines at once.
func BenchmarkCheckParallel(b *testing.B) {
	h, post := benchServer(b)
	w := post("/t/t0/oauth2/token", "grant_type=client_credentials")
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil || tr.AccessToken == "" {
		b.Fatalf("token: %d %s", w.Code, w.Body)
	}
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/t/t0/check", nil)
			req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 || w.Header().Get("X-Tokend-Subject") != "svc" {
				b.Errorf("check: %d %v %s", w.Code, w.Header(), w.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
