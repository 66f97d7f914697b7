package apstrata_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/faulttest"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// TestStorageOutage: with PostgreSQL gone, GenerateToken answers 500
// INTERNAL_ERROR in the legacy shape (never a token, never a 4xx), and
// works again once it is back.
func TestStorageOutage(t *testing.T) {
	t.Parallel()
	p, proxied := faulttest.StartFor(t, pgtest.NewDatabase(t))
	fx := setupWith(t, proxied, apptest.Options{Config: func(c *config.Config) {
		c.RequestTimeout, c.StaleFor = 3*time.Second, time.Millisecond
	}})
	gen := func() answer {
		return fx.get(t, "GenerateToken", js(fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{"apsdb.tokenExpires": {"60"}})))
	}
	wantOK(t, gen())
	time.Sleep(10 * time.Millisecond) // past the stale window of the caches
	p.Cut()
	a := gen()
	wantErr(t, a, 500, "INTERNAL_ERROR", "An internal error occurred, please try again")
	if a.tok() != "" {
		t.Fatalf("a token during the outage: %s", a.Raw)
	}
	golden.Assert(t, "error_internal", norm(t, a))
	// force200 answers it with 200, still a failure.
	q := js(fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{"apsdb.force200ResponseStatus": {"true"}}))
	if a := fx.get(t, "GenerateToken", q); a.Status != 200 || a.code() != "INTERNAL_ERROR" {
		t.Fatalf("force200 during the outage: %d %s", a.Status, a.Raw)
	}
	p.Resume()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if a := gen(); a.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("GenerateToken does not recover after the outage")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
