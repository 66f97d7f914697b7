package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/token"
)

// BenchmarkClientAuthFailure measures a refused client authentication
// through the handler: an unknown client id against a known client with a
// wrong secret, for both ways a client secret is stored (SHA-256 for a
// generated secret, argon2id for a chosen one). Each request comes from
// its own address, so the failure throttle never answers first.
func BenchmarkClientAuthFailure(b *testing.B) {
	ctx := context.Background()
	cfg, _ := seedTenants(b, 1)
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	gt, id, chosen := []string{"client_credentials"}, "chosen", "a secret a person chose"
	if _, _, err := a.Directory().CreateClient(ctx, directory.Actor{}, "t0", directory.ClientSpec{ID: &id, GrantTypes: &gt, Secret: &chosen}); err != nil {
		b.Fatal(err)
	}
	h := a.Handler()
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	generated := token.NewOpaque(token.TagClientSecret) // well-formed, nobody's
	n := 0
	for _, tc := range []struct{ name, id, secret string }{
		{"generated/unknown", "ghost", generated},
		{"generated/known-sha256", "svc", generated},
		{"chosen/unknown", "nobody", "a guess"},
		{"chosen/known-argon2id", "chosen", "a guess"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				n++
				req := httptest.NewRequest("POST", "/t/t0/oauth2/token", strings.NewReader(form))
				req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", n>>16&255, n>>8&255, n&255)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(tc.id, tc.secret)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 401 {
					b.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
				}
			}
		})
	}
}
