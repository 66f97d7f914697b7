package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// envPGBin names the directory of the PostgreSQL server binaries (initdb,
// pg_ctl, pg_basebackup) the failover tests build their clusters with.
const envPGBin = "TOKEND_TEST_PG_BIN"

// pgNode is one PostgreSQL server of a test cluster, run as the postgres
// OS user when the test runs as root.
type pgNode struct {
	bin, dir, sock string
	port           int
}

// pgRun runs a PostgreSQL program of bin as the postgres user (when root).
func pgRun(t *testing.T, bin, prog string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	path := filepath.Join(bin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// haDir makes a temporary directory the postgres user owns.
func haDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tokend-ha-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("the failover test runs the servers as the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// pgCluster is a primary and a streaming standby made from it with
// pg_basebackup -R, both on loopback, synchronous when sync is set.
type pgCluster struct {
	primary, standby *pgNode
}

func newPGCluster(t *testing.T, bin string, synchronous bool, port int) *pgCluster {
	t.Helper()
	root := haDir(t)
	p := &pgNode{bin: bin, dir: filepath.Join(root, "primary"), sock: root, port: port}
	s := &pgNode{bin: bin, dir: filepath.Join(root, "standby"), sock: root, port: port + 1}
	pgRun(t, bin, "initdb", "-D", p.dir, "-A", "trust", "-U", "postgres", "--no-sync")
	names := ""
	if synchronous {
		names = "*"
	}
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nshared_buffers = 16MB\nwal_log_hints = on\nwal_keep_size = 128MB\nsynchronous_standby_names = '%s'\nsynchronous_commit = on\n", p.port, root, names)
	f, err := os.OpenFile(filepath.Join(p.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{primary: p, standby: s}
	p.start(t)
	t.Cleanup(func() { p.stop(); s.stop() })
	pgRun(t, bin, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", "postgres", "-D", s.dir, "-R", "-X", "stream")
	// The standby, once promoted, waits for no standby of its own (an HA
	// manager turns synchronous replication off when no standby is left,
	// unless told to stay strict).
	s.start(t, "-c", "synchronous_standby_names=")
	c.waitStreaming(t, synchronous)
	return c
}

func (n *pgNode) start(t *testing.T, opts ...string) {
	t.Helper()
	o := append([]string{"-p", strconv.Itoa(n.port)}, opts...)
	pgRun(t, n.bin, "pg_ctl", "-D", n.dir, "-l", n.dir+".log", "-o", strings.Join(o, " "), "-w", "-t", "60", "start")
}

// stop stops the server at once if it still runs.
func (n *pgNode) stop() {
	path := filepath.Join(n.bin, "pg_ctl")
	args := []string{"-D", n.dir, "-m", "immediate", "stop"}
	if os.Geteuid() == 0 {
		_ = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...).Run()
	} else {
		_ = exec.Command(path, args...).Run()
	}
}

// postmaster returns the pid of the server's postmaster.
func (n *pgNode) postmaster(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// children returns the pids of the processes the postmaster started whose
// command line contains sub ("" for all).
func (n *pgNode) children(t *testing.T, sub string) []int {
	t.Helper()
	pm := strconv.Itoa(n.postmaster(t))
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) < 2 || f[1] != pm {
			continue
		}
		if cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline"); strings.Contains(string(cmd), sub) {
			pids = append(pids, c)
		}
	}
	return pids
}

// stallReplication stops the primary's WAL senders (SIGSTOP): the standby
// falls behind as over a slow network, and with synchronous replication
// every commit waits.
func (n *pgNode) stallReplication(t *testing.T) {
	t.Helper()
	ws := n.children(t, "walsender")
	if len(ws) == 0 {
		t.Fatal("no walsender process on the primary")
	}
	for _, p := range ws {
		if err := syscall.Kill(p, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
}

// kill9 kills the postmaster and every process it started with SIGKILL,
// as a crash of the machine would end them.
func (n *pgNode) kill9(t *testing.T) {
	t.Helper()
	pid := n.postmaster(t)
	pids := append([]int{pid}, n.children(t, "")...)
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	// The port is free once the postmaster is gone.
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *pgNode) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", n.port)
}

func (n *pgNode) conn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, n.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// waitStreaming waits until the primary shows the standby streaming (in
// sync_state sync when sync is set).
func (c *pgCluster) waitStreaming(t *testing.T, synchronous bool) {
	t.Helper()
	want := "async"
	if synchronous {
		want = "sync"
	}
	db := c.primary.conn(t)
	for i := 0; ; i++ {
		var state string
		err := db.QueryRow(context.Background(), "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'").Scan(&state)
		if err == nil && state == want {
			return
		}
		if i == 300 {
			t.Fatalf("standby not streaming (%s) after 30s: %q %v", want, state, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// haEvent is one answer the load got from a replica.
type haEvent struct {
	at      time.Time
	replica int
	op      string
	status  int
}

// haLoad is what a steady load on two replicas saw acknowledged.
type haLoad struct {
	mu      sync.Mutex
	events  []haEvent
	issued  []string // jti of every access token handed out (client_credentials and refresh)
	revoked []string // tokens whose RFC 7009 revocation was answered 200
	bad     []string // answers that are neither 200 nor 503 with Retry-After
	// lostRenewals counts refresh tokens handed out that the promoted
	// server does not know (asynchronous replication only).
	lostRenewals int
	// async accepts a refresh refused as unknown (400 invalid_grant):
	// after an asynchronous failover, the refresh token last handed out
	// may be one the new primary never received.
	async bool
}

func (l *haLoad) note(replica int, op string, st int, hdr http.Header, raw []byte, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, haEvent{time.Now(), replica, op, st})
	switch {
	case l.async && op == "refresh" && st == http.StatusBadRequest && strings.Contains(string(raw), "invalid_grant"):
		l.lostRenewals++
	case err != nil:
		l.bad = append(l.bad, fmt.Sprintf("replica %d %s: %v (a hang past the client's timeout, or a broken connection)", replica, op, err))
	case st == http.StatusServiceUnavailable && hdr.Get("Retry-After") == "":
		l.bad = append(l.bad, fmt.Sprintf("replica %d %s: 503 without Retry-After: %s", replica, op, raw))
	case st != http.StatusOK && st != http.StatusServiceUnavailable:
		l.bad = append(l.bad, fmt.Sprintf("replica %d %s: %d %s", replica, op, st, raw))
	}
}

// haPost posts form with client authentication and returns the answer.
func haPost(c rplClient, name string, form url.Values) (int, http.Header, []byte, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, c.endpoint(name), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	resp, err := rplHTTP.Do(req)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, resp.Header, raw, m, err
}

// run drives replica i with svc (client_credentials) and app (a refresh
// chain started by login) until stop, at most ops rounds: issue, introspect
// on the other replica, revoke every third token, refresh.
func (l *haLoad) run(i int, svc, other, app rplClient, login func(rplClient) (string, error), stop <-chan struct{}, ops int) {
	renew, err := login(app)
	if err != nil {
		l.note(i, "login", 0, nil, nil, err)
		return
	}
	for n := 0; n < ops; n++ {
		select {
		case <-stop:
			return
		default:
		}
		st, hdr, raw, m, err := haPost(svc, "token", url.Values{"grant_type": {"client_credentials"}})
		l.note(i, "issue", st, hdr, raw, err)
		if tok, _ := m["access_token"].(string); st == http.StatusOK && tok != "" {
			if jti, err := jwtID(tok); err == nil {
				l.mu.Lock()
				l.issued = append(l.issued, jti)
				l.mu.Unlock()
			}
			st, hdr, raw, _, err = haPost(other, "introspect", url.Values{"token": {tok}})
			l.note(1-i, "introspect", st, hdr, raw, err)
			if n%3 == 0 {
				st, hdr, raw, _, err = haPost(svc, "revoke", url.Values{"token": {tok}})
				l.note(i, "revoke", st, hdr, raw, err)
				if st == http.StatusOK {
					l.mu.Lock()
					l.revoked = append(l.revoked, tok)
					l.mu.Unlock()
				}
			}
		}
		// A refresh answered 503 may have rotated all the same: the same
		// refresh token presented again within --refresh-grace gets the
		// same successor.
		st, hdr, raw, m, err = haPost(app, "token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {renew}})
		l.note(i, "refresh", st, hdr, raw, err)
		if st == http.StatusBadRequest && l.async {
			// Lost with the old primary: log in again.
			if rt, err := login(app); err == nil {
				renew = rt
			}
		}
		if rt, _ := m["refresh_token"].(string); st == http.StatusOK && rt != "" {
			renew = rt
			if jti, err := jwtID(m["access_token"].(string)); err == nil {
				l.mu.Lock()
				l.issued = append(l.issued, jti)
				l.mu.Unlock()
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gap returns, for replica i, the time from the first issuance not
// answered 200 at or after from to the first 200 after it (0, false when
// every issuance succeeded).
func (l *haLoad) gap(i int, from time.Time) (first503, back time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.replica != i || e.op != "issue" || e.at.Before(from) {
			continue
		}
		if first503.IsZero() {
			if e.status != http.StatusOK {
				first503 = e.at
			}
			continue
		}
		if e.status == http.StatusOK {
			return first503, e.at, true
		}
	}
	return first503, time.Time{}, false
}

// unacknowledged counts the writes (issuance, revocation, refresh) answered
// 503: each may have committed on the primary without being acknowledged.
func (l *haLoad) unacknowledged() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.op != "introspect" && e.status == http.StatusServiceUnavailable {
			n++
		}
	}
	return n
}

// okAfter counts replica i's issuances answered 200 after t.
func (l *haLoad) okAfter(i int, t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.replica == i && e.op == "issue" && e.status == http.StatusOK && e.at.After(t) {
			n++
		}
	}
	return n
}

// TestFailoverSynchronous runs two replicas on a primary with a
// synchronous standby under steady load, kills the primary with SIGKILL,
// promotes the standby and checks that every acknowledged write is on it.
func TestFailoverSynchronous(t *testing.T) { failover(t, true, 15411) }

// TestFailoverAsynchronous is the same with asynchronous replication, where
// what was acknowledged but not yet streamed is lost: it reports how much,
// and checks only what still holds.
func TestFailoverAsynchronous(t *testing.T) { failover(t, false, 15421) }

func failover(t *testing.T, synchronous bool, port int) {
	bin := os.Getenv(envPGBin)
	if bin == "" {
		t.Skip(envPGBin + " is not set: the failover test builds PostgreSQL clusters with its initdb, pg_ctl and pg_basebackup (.ci/run sets it)")
	}
	cl := newPGCluster(t, bin, synchronous, port)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	dbURL := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		cl.primary.port, cl.standby.port)
	env := []string{"TOKEND_DATABASE_URL=" + dbURL, "TOKEND_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	args := []string{"--public-url", "http://" + freeAddr(t), "--request-timeout", "2s", "--refresh-grace", "1m"}
	if synchronous {
		args = append(args, "--require-synchronous-standby")
	}
	data := []string{t.TempDir(), t.TempDir()}
	a := serve(t, data[0], env, append([]string{"--dev"}, args...)...)
	creds := readCreds(t, data[0])
	b := serve(t, data[1], env, args...)
	reps := []*proc{a, b}
	svc := createTenantClient(t, a.URL, creds.AdminToken, "acme")
	var app rplClient
	for _, c := range creds.Clients {
		if c.ClientID == "demo-app" {
			app = rplClient{base: a.URL, tenant: "demo", id: c.ClientID, secret: c.ClientSecret}
		}
	}
	login := func(c rplClient) (string, error) {
		p, err := c.grant(url.Values{"grant_type": {"password"}, "username": {creds.Users[0].Username}, "password": {creds.Users[0].Password}})
		if err == nil && (p.status != http.StatusOK || p.renew == "") {
			err = fmt.Errorf("login: %d %s", p.status, p.raw)
		}
		return p.renew, err
	}
	load := &haLoad{async: !synchronous}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load.run(i, svc.at(r.URL), svc.at(reps[1-i].URL), app.at(r.URL), login, stop, 5000)
		}()
	}
	stopLoad := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}
	defer stopLoad()

	time.Sleep(3 * time.Second)
	// For the last 3 s (beyond the 2 s request timeout) the standby falls
	// behind: with synchronous replication, writes wait and get 503 at
	// their deadline (their rows may commit on the primary alone, never
	// acknowledged); with asynchronous replication they are acknowledged,
	// and lost below.
	stalled := time.Now()
	cl.primary.stallReplication(t)
	time.Sleep(3 * time.Second)
	killed := time.Now()
	cl.primary.kill9(t)
	// While no primary is reachable (the standby refuses writes), requests
	// get 503 at once.
	time.Sleep(2 * time.Second)
	pgRun(t, bin, "pg_ctl", "-D", cl.standby.dir, "-w", "-t", "60", "promote")
	promoted := time.Now()
	for i := range reps {
		for load.okAfter(i, promoted) < 20 {
			if time.Since(promoted) > 30*time.Second {
				stopLoad()
				t.Fatalf("replica %d: fewer than 20 tokens issued in 30s after the promotion", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(time.Second)
	stopLoad()

	load.mu.Lock()
	bad, issued, revoked, events, lostRenewals := load.bad, load.issued, load.revoked, len(load.events), load.lostRenewals
	load.mu.Unlock()
	for _, s := range bad {
		t.Error(s)
	}
	t.Logf("load: %d answers, %d tokens issued, %d revocations acknowledged", events, len(issued), len(revoked))
	if lostRenewals > 0 {
		t.Logf("%d refreshes refused after the failover: the refresh token presented was handed out but lost with the old primary (the client logged in again)", lostRenewals)
	}
	for i := range reps {
		f, back, ok := load.gap(i, stalled)
		if !ok {
			t.Errorf("replica %d: no failed issuance then success after the kill (first failure %v)", i, f)
			continue
		}
		t.Logf("replica %d: failover gap (first non-200 to first 200 issuance) %v; first failure %v after the replication stalled (the kill %v after), first success %v after pg_ctl promote returned",
			i, back.Sub(f).Round(time.Millisecond), f.Sub(stalled).Round(time.Millisecond), killed.Sub(stalled).Round(time.Millisecond), back.Sub(promoted).Round(time.Millisecond))
	}

	// What the new primary holds of what was acknowledged.
	db := cl.standby.conn(t)
	ctx := context.Background()
	revokedIDs := make([]string, 0, len(revoked))
	for _, tok := range revoked {
		id, _ := jwtID(tok)
		revokedIDs = append(revokedIDs, id)
	}
	missing := func(q string, ids []string) []string {
		t.Helper()
		rows, err := db.Query(ctx, q, ids)
		if err != nil {
			t.Fatal(err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, id := range ids {
			if !slices.Contains(found, id) {
				out = append(out, id)
			}
		}
		return out
	}
	lostTokens := missing(`SELECT id FROM tokens WHERE id = ANY($1)`, issued)
	lostRevocations := missing(`SELECT key FROM revocations WHERE scope = 'token' AND key = ANY($1)`, revokedIDs)
	lostAudit := missing(`SELECT e.subject FROM audit_events e WHERE e.action = 'token.issue' AND e.subject = ANY($1)
		UNION SELECT d.value FROM audit_events e, jsonb_each_text(e.detail::jsonb) d WHERE e.action = 'token.issue' AND d.value = ANY($1)`, issued)
	report := fmt.Sprintf("acknowledged but missing on the promoted standby: %d of %d tokens, %d of %d revocations, %d of %d issuance audit events",
		len(lostTokens), len(issued), len(lostRevocations), len(revoked), len(lostAudit), len(issued))
	if synchronous && (len(lostTokens)+len(lostRevocations)+len(lostAudit) > 0) {
		t.Errorf("synchronous replication: %s (tokens %v, revocations %v, audit %v)", report, lostTokens, lostRevocations, lostAudit)
	} else {
		t.Log(report)
	}

	// Every revocation the promoted standby holds is honoured by both
	// replicas; with synchronous replication that is every acknowledged one.
	for i, r := range reps {
		still := 0
		for j, tok := range revoked {
			active, _, err := svc.at(r.URL).introspect(tok)
			if err != nil {
				t.Fatalf("replica %d: introspect a revoked token: %v", i, err)
			}
			if active {
				if slices.Contains(lostRevocations, revokedIDs[j]) {
					still++
					continue
				}
				t.Errorf("replica %d: token %s is active after its acknowledged revocation", i, revokedIDs[j])
			}
		}
		if still > 0 {
			t.Logf("replica %d: %d tokens whose revocation was lost are active again", i, still)
		}
	}

	// A replica that saw changes the promoted server lost says so (its
	// change log went back) and stays unready until it restarts; it is
	// restarted, as its operator would. With synchronous replication that
	// can happen too, but only through writes nobody saw acknowledged: a
	// commit still waiting for the stalled standby when its request's
	// deadline passed is cancelled, and PostgreSQL then keeps it on the
	// primary alone ("canceling wait for synchronous replication"), where
	// the other replica may read it before the primary dies. Whether a
	// replica sees the log go back is a matter of timing (the promoted
	// server's sequence starts past what it replayed); what is asserted of
	// synchronous replication is above: no acknowledged token, revocation
	// or audit event is missing.
	for i, r := range reps {
		st, raw, _, err := rplJSON("GET", r.URL+"/readyz", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if st == http.StatusServiceUnavailable && strings.Contains(string(raw), "change log went back") {
			if synchronous && load.unacknowledged() == 0 {
				t.Errorf("replica %d: the change log went back with synchronous replication and every write acknowledged: %s", i, raw)
			}
			t.Logf("replica %d after the failover: %s; restarting it", i, raw)
			if err := r.stop(t); err != nil {
				t.Fatalf("replica %d: stop: %v", i, err)
			}
			extra := args
			if i == 0 {
				extra = append([]string{"--dev"}, args...)
			}
			// Not ready while no synchronous standby is left; serve
			// waits for ready, so the restart goes without the flag.
			reps[i] = serve(t, data[i], env, slices.DeleteFunc(slices.Clone(extra), func(s string) bool { return s == "--require-synchronous-standby" })...)
		}
	}
	a, b = reps[0], reps[1]
	if !synchronous {
		for i, r := range reps {
			active := 0
			for j, tok := range revoked {
				if !slices.Contains(lostRevocations, revokedIDs[j]) {
					continue
				}
				if ok, _, err := svc.at(r.URL).introspect(tok); err == nil && ok {
					active++
				}
			}
			t.Logf("replica %d: %d of the %d tokens whose revocation was lost are active now", i, active, len(lostRevocations))
		}
	}

	// A revocation made on the new primary through one replica reaches the
	// other through the change log it follows there.
	tok, err := svc.at(a.URL).issue()
	if err != nil {
		t.Fatalf("issue after the failover: %v", err)
	}
	if err := svc.at(a.URL).revoke(tok); err != nil {
		t.Fatalf("revoke after the failover: %v", err)
	}
	if d, err := waitInactive(svc.at(b.URL), tok, time.Now(), 10*time.Second); err != nil {
		t.Errorf("revocation on replica 0 after the failover, on replica 1: %v", err)
	} else {
		t.Logf("revocation on replica 0 after the failover seen by replica 1 after %v", d.Round(time.Millisecond))
	}

	cli := []string{"TOKEND_ENDPOINT=" + a.URL, "TOKEND_TOKEN=" + creds.AdminToken}
	for _, ten := range []string{"acme", "demo"} {
		out, errs, code := run(t, cli, "", "audit", "verify", "-t", ten)
		if code != 0 {
			t.Errorf("tokend audit verify -t %s after the failover: exit %d\n%s%s", ten, code, out, errs)
		}
	}

	// The old primary rejoins as a standby of the new one: pg_rewind
	// discards what it had that the new primary never got, and tokend's
	// connections, which try it first, refuse it.
	// pg_rewind reads the new timeline from the source's control file,
	// which the first checkpoint after the promotion writes.
	if _, err := db.Exec(ctx, "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	pgRun(t, bin, "pg_rewind", "--target-pgdata="+cl.primary.dir, "-R",
		fmt.Sprintf("--source-server=host=127.0.0.1 port=%d user=postgres dbname=postgres", cl.standby.port))
	cl.primary.start(t)
	streaming := false
	for range 300 {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").Scan(&n); err == nil && n == 1 {
			streaming = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !streaming {
		l, _ := os.ReadFile(cl.primary.dir + ".log")
		t.Fatalf("the rewound old primary does not stream from the new one; its log:\n%s", l[max(0, len(l)-3000):])
	}
	tok, err = svc.at(b.URL).issue()
	if err != nil {
		t.Fatalf("issue with the old primary back as a standby (first in the URL): %v", err)
	}
	jti, _ := jwtID(tok)
	old := cl.primary.conn(t)
	var rows, lost int
	for range 100 {
		if err := old.QueryRow(ctx, "SELECT count(*) FROM tokens WHERE id = $1", jti).Scan(&rows); err == nil && rows == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rows != 1 {
		t.Errorf("a token issued after the rejoin is not on the rejoined standby")
	}
	if len(lostTokens) > 0 {
		if err := old.QueryRow(ctx, "SELECT count(*) FROM tokens WHERE id = ANY($1)", lostTokens).Scan(&lost); err != nil {
			t.Fatal(err)
		}
		t.Logf("the rewound old primary holds %d of the %d tokens lost at the failover", lost, len(lostTokens))
		if lost != 0 {
			t.Errorf("pg_rewind kept %d tokens the new primary never had", lost)
		}
	}

	// With --require-synchronous-standby, a replica is not ready while the
	// promoted server has no synchronous standby, and says why.
	for i, r := range reps {
		var st int
		var raw []byte
		for range 150 {
			st, raw, _, err = rplJSON("GET", r.URL+"/readyz", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			// The replica re-checks every 5 s, so an answer may still
			// carry the reason of a check made while the servers were
			// being switched: wait for the settled one.
			if synchronous && st == http.StatusServiceUnavailable && strings.Contains(string(raw), "synchronous_standby_names is empty") {
				break
			}
			if !synchronous {
				break // logged only: nothing is required of it
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("replica %d /readyz after the failover: %d %s", i, st, raw)
		if synchronous && (st != http.StatusServiceUnavailable || !strings.Contains(string(raw), "synchronous_standby_names is empty")) {
			t.Errorf("replica %d: /readyz with --require-synchronous-standby and no standby left: %d %s", i, st, raw)
		}
	}
}
