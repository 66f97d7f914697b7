package dotkernel_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/faulttest"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// TestStorageOutage: with PostgreSQL frozen, a token request and a
// my-account request get a 503 in Dotkernel's shapes within the request
// deadline, never a token and never a 4xx; both work again once it
// answers.
func TestStorageOutage(t *testing.T) {
	t.Parallel()
	p, proxied := faulttest.StartFor(t, pgtest.NewDatabase(t))
	s := apptest.StartWith(t, proxied, apptest.Options{Config: func(c *config.Config) {
		c.Dev = true
		c.RequestTimeout = 3 * time.Second
	}})
	if _, _, err := s.App.DevSetup(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := client{t: t, s: s, assert: golden.Assert}
	// Two argon2id checks per login: on a busy machine the first may
	// outlast the deadline.
	var at string
	for i := 0; at == "" && i < 10; i++ {
		at = c.do("", "POST", "/security/generate-token", adminLogin).str("access_token")
	}
	c.want(c.do("", "GET", "/admin/my-account", "", "Authorization", "Bearer "+at), 200)

	p.Pause()
	start := time.Now()
	c.want(c.do("outage_generate_token", "POST", "/security/generate-token", userLogin), 503)
	c.want(c.do("outage_my_account", "GET", "/admin/my-account", "", "Authorization", "Bearer "+at), 503)
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("answers took %v", d)
	}
	p.Resume()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e := c.do("", "POST", "/security/generate-token", userLogin)
		if e.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %d %s", e.Status, e.Raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
