package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/store"
)

// TestPruning seeds expired rows of every pruned table beside live ones,
// runs a server that prunes every 100 ms, issues and revokes tokens while
// it prunes, and checks that exactly the rows nothing needs are gone.
func TestPruning(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		as := apptest.StartWith(t, b.url(t), apptest.Options{Config: func(c *config.Config) {
			c.PruneInterval, c.PruneAfter = 100*time.Millisecond, time.Hour
		}})
		s := &server{URL: as.URL, Admin: as.Admin, App: as.App, Cfg: as.Cfg}
		o := setupOAuth(t, s, "acme")
		st, ctx := s.App.Store(), context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		longAgo, recent, ahead := now.Add(-2*time.Hour), now.Add(-10*time.Minute), now.Add(time.Hour)

		// Ledger: 1,100 rows past the retention (more than one batch),
		// one expired within it, one eternal, one expired whose lifetime
		// still runs.
		const expired = 1100
		var rows []store.Token
		for i := range expired {
			rows = append(rows, store.Token{Tenant: "acme", ID: fmt.Sprintf("old-%04d", i), Kind: "access", Format: store.FormatJWT,
				SubjectType: "client", Subject: "seeded", ClientID: "svc", IssuedAt: longAgo.Add(-time.Hour), ExpiresAt: &longAgo})
		}
		keep := []store.Token{
			{Tenant: "acme", ID: "recent", Kind: "access", Format: store.FormatJWT, IssuedAt: recent, ExpiresAt: &recent},
			{Tenant: "acme", ID: "eternal", Kind: "device", Format: store.FormatJWT, IssuedAt: longAgo},
			{Tenant: "acme", ID: "renewable", Kind: "device", Format: store.FormatJWT, IssuedAt: longAgo, ExpiresAt: &longAgo, LifetimeEnd: &ahead},
		}
		must(t, st.Tokens().Insert(ctx, append(rows, keep...)...))
		// Nonces: one whose window is over, one still in it.
		must(t, st.Nonces().Use(ctx, "acme|over", recent))
		must(t, st.Nonces().Use(ctx, "acme|live", ahead))
		// Throttle: a counter over long ago.
		_, err := st.Throttle().Fail(ctx, "acct|acme|gone", now.Add(-48*time.Hour), func(int) time.Duration { return time.Minute })
		must(t, err)
		// Revocations: one whose token expired long ago, a subject
		// cutoff that may still cover a valid token.
		gone, err := st.Revocations().Append(ctx, store.Revocation{Tenant: "acme", Scope: store.RevokeToken, Key: "old-0000", Cutoff: longAgo, Until: &longAgo})
		must(t, err)
		cutoff, err := st.Revocations().Append(ctx, store.Revocation{Tenant: "acme", Scope: store.RevokeSubject, SubjectType: "user", Key: "bob", Cutoff: now, Until: &ahead})
		must(t, err)

		// Issuance and revocation go on while pruning runs; a token
		// revoked now stays refused after every pruning round.
		tok := want(t, o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
		want(t, o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {tok}}), 200)
		deadline := time.Now().Add(90 * time.Second)
		for {
			want(t, o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}}), 200)
			l, err := st.Tokens().List(ctx, "acme", store.TokenFilter{Subject: "seeded", Page: store.Page{Limit: 1}})
			must(t, err)
			if len(l) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("expired ledger rows still there after 90 s: %s…", l[0].ID)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// One more round, so every table of a round that began before the
		// ledger was empty has been pruned.
		time.Sleep(300 * time.Millisecond)

		for _, k := range keep {
			if _, err := st.Tokens().Get(ctx, "acme", k.ID); err != nil {
				t.Errorf("ledger row %s: %v, want kept", k.ID, err)
			}
		}
		if err := st.Nonces().Use(ctx, "acme|over", ahead); err != nil {
			t.Errorf("a nonce past its window is still recorded: %v", err)
		}
		if err := st.Nonces().Use(ctx, "acme|live", ahead); err == nil {
			t.Error("a nonce still in its window was forgotten")
		}
		if f, _, err := st.Throttle().Get(ctx, "acct|acme|gone"); err != nil || f != 0 {
			t.Errorf("throttle counter over long ago: %d failures, %v", f, err)
		}
		l, err := st.Revocations().After(ctx, "acme", gone.Seq-1, 1000)
		must(t, err)
		seen := map[int64]bool{}
		for _, r := range l {
			seen[r.Seq] = true
		}
		if seen[gone.Seq] || !seen[cutoff.Seq] {
			t.Errorf("revocations after pruning: expired one kept %v, live cutoff kept %v", seen[gone.Seq], seen[cutoff.Seq])
		}
		if o.active(t, tok) {
			t.Error("a token revoked before pruning is active again")
		}
		for table, least := range map[string]float64{"tokens": expired, "nonces": 1, "throttle": 1, "revocations": 1} {
			if got := prunedRows(t, s.URL, table); got < least {
				t.Errorf("tokend_pruned_rows_total{table=%q} = %v, want at least %v", table, got, least)
			}
		}
	})
}

// prunedRows reads tokend_pruned_rows_total{table} from /metrics.
func prunedRows(t *testing.T, base, table string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^tokend_pruned_rows_total\{table="` + table + `"\} (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
