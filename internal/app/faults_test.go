package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/faulttest"
	"github.com/tokend/tokend/internal/logsink"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/internal/testenv"
)

// faultTimeout is the request deadline of the fault tests, and faultMargin
// what an answer may take beyond it (a loaded machine, the race detector).
const (
	faultTimeout = 2 * time.Second
	faultMargin  = 3 * time.Second
)

var digits = regexp.MustCompile(`[0-9]+`)

// logBuffer collects a server's log lines, written the way the tokend
// binary writes them (package logsink).
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// logLine is the part of a JSON log record the tests read.
type logLine struct {
	Level      string
	Msg        string
	Error      string
	RequestID  string `json:"request_id"`
	Status     int
	Suppressed int
}

func (l *logBuffer) lines(t *testing.T) []logLine {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	for _, s := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if s == "" {
			continue
		}
		var ll logLine
		if err := json.Unmarshal([]byte(s), &ll); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		out = append(out, ll)
	}
	return out
}

// faultServer starts a server on databaseURL with the fault tests' request
// deadline and a stale window, logging through logsink into the returned
// buffer (flushed by flush).
func faultServer(t *testing.T, databaseURL string, dataDir string, staleFor time.Duration) (*server, *logBuffer, func()) {
	t.Helper()
	buf := &logBuffer{}
	sink := logsink.New(buf)
	t.Cleanup(func() { sink.Close() })
	s := apptest.StartWith(t, databaseURL, apptest.Options{
		Log: slog.New(sink.Handler(slog.NewJSONHandler(sink, nil))),
		Config: func(c *config.Config) {
			c.RequestTimeout, c.StaleFor = faultTimeout, staleFor
			if dataDir != "" {
				c.DataDir = dataDir
			}
		},
	})
	return &server{URL: s.URL, Admin: s.Admin, App: s.App, Cfg: s.Cfg}, buf, func() { _ = sink.Flush() }
}

// outcome is one answered (or unanswered) request.
type outcome struct {
	status    int
	body      map[string]any
	requestID string
	took      time.Duration
	err       error
}

// tryForm posts a form with HTTP Basic client authentication; unlike
// form it may run on any goroutine and reports a missing answer.
func (o oauthTenant) tryForm(endpoint, id, secret string, v url.Values) outcome {
	req, err := http.NewRequest("POST", o.s.URL+"/t/"+o.ten+"/oauth2/"+endpoint, strings.NewReader(v.Encode()))
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return tryRequest(req)
}

func tryRequest(req *http.Request) outcome {
	c := &http.Client{Timeout: faultTimeout + 3*faultMargin}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return outcome{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := outcome{status: resp.StatusCode, requestID: resp.Header.Get("X-Request-Id"), took: time.Since(start)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (o oauthTenant) issue() outcome {
	return o.tryForm("token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}})
}

// issueConcurrently sends n client_credentials requests at once.
func (o oauthTenant) issueConcurrently(n int) []outcome {
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = o.issue() })
	}
	wg.Wait()
	return out
}

// wantUnavailableInTime fails unless every outcome is an answered 503
// temporarily_unavailable within the deadline and the margin.
func wantUnavailableInTime(t *testing.T, what string, outs []outcome) {
	t.Helper()
	for i, r := range outs {
		switch {
		case r.err != nil:
			t.Errorf("%s: request %d got no answer in %s: %v", what, i, r.took, r.err)
		case r.status != http.StatusServiceUnavailable || r.body["error"] != "temporarily_unavailable":
			t.Errorf("%s: request %d: %d %v, want 503 temporarily_unavailable", what, i, r.status, r.body)
		case r.took > faultTimeout+faultMargin:
			t.Errorf("%s: request %d answered after %s, past the %s deadline", what, i, r.took, faultTimeout)
		}
	}
}

// delivered returns the ids of the tokens the outcomes handed out.
func delivered(t *testing.T, outs []outcome) []string {
	t.Helper()
	var ids []string
	for _, r := range outs {
		if r.status == http.StatusOK {
			ids = append(ids, payload(t, r.body["access_token"].(string))["jti"].(string))
		}
	}
	return ids
}

// issueUntilOK retries an issuance until it succeeds (the database is
// back), within a bound.
func (o oauthTenant) issueUntilOK(t *testing.T) outcome {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := o.issue()
		if r.status == http.StatusOK {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("no issuance succeeded after the database came back: %d %v %v", r.status, r.body, r.err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// wantRecovered fails unless, once the fault is gone, issuance works
// again, every token handed out during it (outs) or after is in the
// ledger, and every answer was logged with the status the client got.
func (o oauthTenant) wantRecovered(t *testing.T, outs []outcome, logs *logBuffer, flush func()) {
	t.Helper()
	ok := o.issueUntilOK(t)
	wantInLedger(t, o.s, delivered(t, append(outs, ok)))
	flush()
	wantAccessLogged(t, logs.lines(t), outs)
}

// wantInLedger fails unless every delivered token has its ledger row.
func wantInLedger(t *testing.T, s *server, ids []string) {
	t.Helper()
	for _, id := range ids {
		if _, err := s.App.Store().Tokens().Get(context.Background(), "shop", id); err != nil {
			t.Errorf("token %s was handed out but its ledger row is missing: %v", id, err)
		}
	}
}

// wantAccessLogged fails unless every answered request has exactly one
// access-log line, with the status the client got.
func wantAccessLogged(t *testing.T, lines []logLine, outs []outcome) {
	t.Helper()
	byID := map[string][]int{}
	for _, l := range lines {
		if l.Msg == "request" {
			byID[l.RequestID] = append(byID[l.RequestID], l.Status)
		}
	}
	for i, r := range outs {
		if r.err != nil {
			continue
		}
		if got := byID[r.requestID]; len(got) != 1 || got[0] != r.status {
			t.Errorf("request %d (%s): access log has statuses %v, the client got %d", i, r.requestID, got, r.status)
		}
	}
}

func readyz(t *testing.T, s *server) response {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/readyz", nil)
	return send(t, req)
}

// TestLockedSQLiteAnswersInTime: while another connection holds the
// database's write lock (BEGIN IMMEDIATE), concurrent issuances all get
// 503 within the request deadline, and so does the next round (it used to
// wait for each earlier request's lock timeout in turn); /readyz says
// writes fail; once the lock is released, issuance works and the node is
// ready again.
func TestLockedSQLiteAnswersInTime(t *testing.T) {
	t.Parallel()
	srv, logs, flush := faultServer(t, "", "", time.Minute)
	o := setupOAuth(t, srv, "shop")
	wantInLedger(t, srv, delivered(t, []outcome{o.issueUntilOK(t)}))

	db, err := sql.Open("sqlite", filepath.Join(srv.Cfg.DataDir, "tokend.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	lock, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var all []outcome
	for round := range 2 {
		outs := o.issueConcurrently(20)
		wantUnavailableInTime(t, fmt.Sprintf("round %d", round), outs)
		all = append(all, outs...)
	}
	r := readyz(t, srv)
	if problems, _ := r.Body["problems"].(map[string]any); r.Status != 503 || problems["writes"] == nil {
		t.Errorf("readyz with writes failing: %d %s", r.Status, r.Raw)
	}
	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	o.wantRecovered(t, all, logs, flush)
	want(t, readyz(t, srv), 200)
}

// TestFullDiskSQLite: with the data directory's file system full, writes
// answer 503, /readyz answers 503 naming the failing writes, and both
// recover once there is room again. The file system is a small tmpfs
// mounted for the test: only root may mount it, so the test is skipped
// for other users unless TOKEND_TEST_ROOT is set (.ci/run sets it), and
// fails if root cannot mount it.
func TestFullDiskSQLite(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		testenv.Need(t, testenv.EnvRoot, errors.New("not root: the full-disk case mounts a tmpfs for the data directory, which needs root"))
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=16m,mode=0700"); err != nil {
		t.Fatalf("mount a tmpfs for the data directory as root: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	srv, _, _ := faultServer(t, "", dir, time.Minute)
	o := setupOAuth(t, srv, "shop")
	o.issueUntilOK(t)

	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	// The WAL reuses its space for a while; the disk shows once it grows.
	var full outcome
	var handedOut []outcome
	for range 2000 {
		full = o.issue()
		if full.status != http.StatusOK {
			break
		}
		handedOut = append(handedOut, full)
	}
	if full.status != 503 || full.body["error"] != "temporarily_unavailable" {
		t.Fatalf("issuance on a full disk: %d %v %v", full.status, full.body, full.err)
	}
	r := readyz(t, srv)
	if problems, _ := r.Body["problems"].(map[string]any); r.Status != 503 || problems["writes"] == nil {
		t.Errorf("readyz on a full disk: %d %s", r.Status, r.Raw)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	handedOut = append(handedOut, o.issueUntilOK(t))
	want(t, readyz(t, srv), 200)
	wantInLedger(t, srv, delivered(t, handedOut))
}

// pgThroughProxy starts a server on a fresh PostgreSQL database reached
// through a loopback proxy the test controls.
func pgThroughProxy(t *testing.T, staleFor time.Duration) (*server, *faulttest.Proxy, *logBuffer, func()) {
	t.Helper()
	p, proxied := faulttest.StartFor(t, pgtest.NewDatabase(t))
	srv, logs, flush := faultServer(t, proxied, "", staleFor)
	return srv, p, logs, flush
}

// TestFrozenPostgresAnswersInTime: with PostgreSQL frozen (the proxy stops
// forwarding: connections stay open, nothing comes back), 40 concurrent
// issuances each get a 503 within the request deadline, each logged with
// the status the client got; no token is handed out whose ledger row is
// missing, even after the frozen writes are delivered; and issuance works
// again once the database answers.
func TestFrozenPostgresAnswersInTime(t *testing.T) {
	t.Parallel()
	srv, p, logs, flush := pgThroughProxy(t, time.Minute)
	o := setupOAuth(t, srv, "shop")
	o.issueUntilOK(t)

	p.Pause()
	outs := o.issueConcurrently(40)
	wantUnavailableInTime(t, "frozen database", outs)
	r := readyz(t, srv)
	if r.Status != 503 {
		t.Errorf("readyz with the database frozen: %d %s", r.Status, r.Raw)
	}
	p.Resume()
	o.wantRecovered(t, outs, logs, flush)
}

// TestLockedPostgresAnswersInTime: with another session holding an
// exclusive lock on the ledger table, 40 concurrent issuances each get a
// 503 within the deadline; the sessions tokend gave up on stop waiting for
// the lock on the server too (statement_timeout), so they do not pile up;
// after the lock is released issuance works and every token handed out is
// in the ledger.
func TestLockedPostgresAnswersInTime(t *testing.T) {
	t.Parallel()
	direct := pgtest.NewDatabase(t)
	srv, logs, flush := faultServer(t, direct, "", time.Minute)
	o := setupOAuth(t, srv, "shop")
	o.issueUntilOK(t)

	ctx := context.Background()
	locker, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	outs := o.issueConcurrently(40)
	wantUnavailableInTime(t, "locked ledger", outs)

	// tokend's abandoned statements end on the server as well.
	var waiting int
	for deadline := time.Now().Add(faultTimeout + faultMargin); ; {
		if err := locker.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if waiting != 0 {
		t.Errorf("%d sessions still wait for the lock after tokend gave up on them", waiting)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	o.wantRecovered(t, outs, logs, flush)
}

// TestPostgresOutageServesLastKnownState: when the connection to
// PostgreSQL is cut, introspection of a valid JWT and the gateway check go
// on answering from the last known client, keys and revocations for the
// stale window, and answer 503 after it; a client the database said was
// disabled stays refused; issuances answer 503 and /readyz says why; the
// error log stays a few lines a second however many requests fail; and
// all of it recovers when the database is back.
func TestPostgresOutageServesLastKnownState(t *testing.T) {
	t.Parallel()
	// Longer than the 2 s the client record is cached for.
	const staleFor = 4 * time.Second
	srv, p, logs, flush := pgThroughProxy(t, staleFor)
	o := setupOAuth(t, srv, "shop")
	tok := o.issueUntilOK(t).body["access_token"].(string)
	p0 := "/v1/tenants/shop/clients"
	off := want(t, srv.call(t, "POST", p0, srv.Admin, map[string]any{"id": "off", "grant_types": []string{"client_credentials"}}), 201).str("client_secret")
	want(t, srv.call(t, "PATCH", p0+"/off", srv.Admin, map[string]any{"disabled": true}), 200)

	introspect := func(id, secret string) outcome {
		return o.tryForm("introspect", id, secret, url.Values{"token": {tok}})
	}
	check := func() outcome {
		req, _ := http.NewRequest("GET", srv.URL+"/t/shop/check", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return tryRequest(req)
	}
	// Past the cache lifetime, so that the client is read from the
	// database now: the stale window is counted from here.
	time.Sleep(2100 * time.Millisecond)
	if r := introspect("svc", o.svcSecret); r.status != 200 || r.body["active"] != true {
		t.Fatalf("introspection before the outage: %d %v", r.status, r.body)
	}
	if r := introspect("off", off); r.status != 401 {
		t.Fatalf("introspection by a disabled client: %d %v", r.status, r.body)
	}
	p.Cut()
	cut := time.Now()
	for time.Since(cut) < staleFor-time.Second {
		if r := introspect("svc", o.svcSecret); r.status != 200 || r.body["active"] != true {
			t.Fatalf("introspection %s into the outage: %d %v %v", time.Since(cut), r.status, r.body, r.err)
		}
		if r := check(); r.status != 200 {
			t.Fatalf("gateway check %s into the outage: %d %v %v", time.Since(cut), r.status, r.body, r.err)
		}
		// Refused, and after a few tries throttled (counted on this
		// replica while the database cannot count).
		if r := introspect("off", off); (r.status != 401 || r.body["error"] != "invalid_client") && r.status != 429 {
			t.Fatalf("introspection by a disabled client in the outage: %d %v", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Many failing requests, few error lines.
	var failed []outcome
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 30 {
				r := o.issue()
				mu.Lock()
				failed = append(failed, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, r := range failed {
		if r.status != 503 || r.body["error"] != "temporarily_unavailable" {
			t.Fatalf("issuance in the outage: %d %v %v", r.status, r.body, r.err)
		}
	}
	if r := readyz(t, srv); r.Status != 503 {
		t.Errorf("readyz in the outage: %d %s", r.Status, r.Raw)
	}

	// Past the window: the last known state is too old to answer from.
	time.Sleep(time.Until(cut.Add(2*time.Second + staleFor + time.Second)))
	if r := introspect("svc", o.svcSecret); r.status != 503 || r.body["error"] != "temporarily_unavailable" {
		t.Errorf("introspection past the stale window: %d %v %v", r.status, r.body, r.err)
	}
	if r := check(); r.status != 503 {
		t.Errorf("gateway check past the stale window: %d %v %v", r.status, r.body, r.err)
	}
	outage := time.Since(cut)
	flush()
	errLines, keys := 0, map[string]bool{}
	for _, l := range logs.lines(t) {
		if l.Level == "ERROR" || l.Level == "WARN" {
			errLines++
			// Errors that differ only in numbers (ports) are one error.
			keys[l.Level+l.Msg+digits.ReplaceAllString(l.Error, "#")] = true
		}
	}
	t.Logf("%d error lines (%d distinct errors) for %d failed requests in %s", errLines, len(keys), len(failed), outage)
	if limit := len(keys) * (2 + int(outage/time.Second)); len(keys) > 12 || errLines > limit || errLines > len(failed)/3 {
		t.Errorf("%d error lines (%d distinct) for %d failed requests in %s, want at most %d", errLines, len(keys), len(failed), outage, limit)
	}

	p.Resume()
	deadline := time.Now().Add(30 * time.Second)
	for r := introspect("svc", o.svcSecret); r.status != 200 || r.body["active"] != true; r = introspect("svc", o.svcSecret) {
		if time.Now().After(deadline) {
			t.Fatalf("introspection after the outage: %d %v %v", r.status, r.body, r.err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	o.issueUntilOK(t)
	want(t, readyz(t, srv), 200)
}
