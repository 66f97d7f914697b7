package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/store"
)

// TestSeed: seed-data writes the rows it reports, spread over its tenants,
// live unless revoked, with one token revocation per revoked row; a
// server starts on the seeded database; a time limit stops the load at a
// transaction boundary; bad sizes are refused before anything is written.
func TestSeed(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		cfg := config.Default()
		cfg.DataDir, cfg.DatabaseURL = t.TempDir(), b.url(t)
		ctx := context.Background()
		o := app.SeedOptions{LedgerRows: 1500, Revocations: 200, Tenants: 3, Clients: 2, Users: 5}
		res, err := app.Seed(ctx, cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Complete || res.LedgerRows != 1500 || res.Revocations != 200 {
			t.Fatalf("seeded %+v, want 1500 rows and 200 revocations, complete", res)
		}
		st, err := app.OpenStore(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		all, err := st.Tokens().List(ctx, "seed-0000", store.TokenFilter{Page: store.Page{Limit: 10000}})
		if err != nil {
			t.Fatal(err)
		}
		live, err := st.Tokens().List(ctx, "seed-0000", store.TokenFilter{ActiveAt: &now, Page: store.Page{Limit: 10000}})
		if err != nil {
			t.Fatal(err)
		}
		// Rows i with i%3 == 0 are seed-0000's; rows i < 200 are revoked.
		if len(all) != 500 || len(live) != 500-67 {
			t.Errorf("seed-0000: %d rows, %d live; want 500 and %d", len(all), len(live), 500-67)
		}
		subjects := map[string]bool{}
		for _, tk := range all {
			subjects[tk.SubjectType+":"+tk.Subject] = true
		}
		if len(subjects) != 2+5 {
			t.Errorf("seed-0000: %d distinct subjects, want 7 (2 clients, 5 users)", len(subjects))
		}
		revs, err := st.Revocations().After(ctx, "", 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != 200 || revs[0].Scope != store.RevokeToken || revs[0].Until == nil || !revs[0].Until.After(now) {
			t.Errorf("%d revocations (first %+v), want 200 token revocations still in force", len(revs), revs[0])
		}
		st.Close()

		// A limit already spent stops the load before its first transaction.
		o.TimeLimit = time.Nanosecond
		if res, err := app.Seed(ctx, cfg, o); err != nil || res.Complete || res.LedgerRows != 0 {
			t.Errorf("time limit 1ns: %+v, %v; want an incomplete load of 0 rows", res, err)
		}
		for _, bad := range []app.SeedOptions{
			{LedgerRows: -1, Tenants: 1, Clients: 1, Users: 1},
			{LedgerRows: 10, Revocations: 11, Tenants: 1, Clients: 1, Users: 1},
			{LedgerRows: 10, Tenants: 0, Clients: 1, Users: 1},
		} {
			if _, err := app.Seed(ctx, cfg, bad); err == nil {
				t.Errorf("Seed(%+v) accepted", bad)
			}
		}

		s := apptest.StartWith(t, cfg.DatabaseURL, apptest.Options{Config: func(c *config.Config) { c.DataDir = cfg.DataDir }})
		s.Call(t, "GET", "/v1/tenants/seed-0002", s.Admin, nil, http.StatusOK)
	})
}
