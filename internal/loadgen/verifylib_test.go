package loadgen

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
)

// realTokend is a tokend server started in-process on loopback, with a
// tenant "shop" and a client_credentials client "svc" (audience api).
type realTokend struct {
	url, svcSecret string
}

// startTokend starts a real tokend and stops it when the test ends.
func startTokend(t *testing.T) *realTokend {
	t.Helper()
	s, secret := apptest.StartShop(t)
	return &realTokend{url: s.URL, svcSecret: secret}
}

// config returns a run of mode against s as client svc.
func (s *realTokend) config(mode string) Config {
	return Config{Mode: mode, Endpoint: s.url, Tenant: "shop", ClientID: "svc", ClientSecret: s.svcSecret,
		Concurrency: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}
}

// TestCheckAndVerifyLibAgainstTokend runs the gateway-check and
// verifier-library modes against a real tokend.
func TestCheckAndVerifyLibAgainstTokend(t *testing.T) {
	s := startTokend(t)
	for _, mode := range []string{ModeCheck, ModeVerifyLib} {
		t.Run(mode, func(t *testing.T) {
			r, err := Run(context.Background(), s.config(mode))
			if err != nil {
				t.Fatal(err)
			}
			if r.Requests <= 0 || r.Errors != 0 {
				t.Fatalf("requests %d errors %d (first: %s), want > 0 and 0", r.Requests, r.Errors, r.FirstError)
			}
			checkResult(t, r)
			t.Log(r)
		})
	}
	t.Run("verify-lib explicit audience", func(t *testing.T) {
		c := s.config(ModeVerifyLib)
		c.Audience, c.Requests = "api", 20
		r, err := Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests != 20 || r.Errors != 0 {
			t.Fatalf("requests %d errors %d (first: %s), want 20 and 0", r.Requests, r.Errors, r.FirstError)
		}
	})
	t.Run("verify-lib wrong audience", func(t *testing.T) {
		// The verifier refuses the token: every request is an error.
		c := s.config(ModeVerifyLib)
		c.Audience, c.Requests = "billing", 20
		r, err := Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests != 20 || r.Errors != 20 || !strings.Contains(r.FirstError, "401") {
			t.Fatalf("requests %d errors %d (first: %s), want 20 refused with 401", r.Requests, r.Errors, r.FirstError)
		}
	})
}

func TestTokenAudience(t *testing.T) {
	jwt := func(payload string) string {
		return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
	}
	for _, tt := range []struct {
		tok, want string
	}{
		{jwt(`{"aud":"api"}`), "api"},
		{jwt(`{"aud":["api","billing"]}`), "api"},
		{jwt(`{"aud":["","billing"]}`), "billing"},
	} {
		if got, err := tokenAudience(tt.tok); err != nil || got != tt.want {
			t.Errorf("tokenAudience(%s) = %q, %v; want %q", tt.tok, got, err, tt.want)
		}
	}
	for _, bad := range []string{jwt(`{}`), jwt(`{"aud":null}`), jwt(`{"aud":""}`), jwt(`{"aud":[]}`), jwt(`{"aud":7}`),
		jwt(`[]`), "tkd_opaque", "a.!!!.c"} {
		if got, err := tokenAudience(bad); err == nil {
			t.Errorf("tokenAudience(%s) = %q, want an error", bad, got)
		}
	}
}
