package e2e

import (
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// TestKillNineKeepsAcknowledgedWrites kills the server with SIGKILL under
// load and checks that every issue and revocation it acknowledged survives
// the restart, on SQLite and on PostgreSQL.
func TestKillNineKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		// the restarted server listens elsewhere but must keep its issuer
		args := []string{"--dev", "--public-url", "http://" + freeAddr(t)}
		p := serve(t, data, nil, args...)
		creds := readCreds(t, data)
		var cl rplClient
		for _, c := range creds.Clients {
			if c.ClientID == "demo-service" {
				cl = rplClient{base: p.URL, tenant: "demo", id: c.ClientID, secret: c.ClientSecret}
			}
		}
		if cl.id == "" {
			t.Fatalf("no demo-service client in dev-credentials.json: %+v", creds.Clients)
		}
		killNineCheck(t, p, cl, creds.AdminToken, func() *proc { return serve(t, data, nil, args...) })
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(pgtest.EnvURL) == "" {
			t.Skip(pgtest.EnvURL + " is not set: PostgreSQL tests need a server (.ci/run sets it)")
		}
		t.Parallel()
		env := pgReplicaEnv(t)
		admin := pgBootstrap(t, env)
		data := t.TempDir()
		args := []string{"--public-url", "http://" + freeAddr(t)}
		p := serve(t, data, env, args...)
		cl := createTenantClient(t, p.URL, admin, "acme")
		killNineCheck(t, p, cl, admin, func() *proc { return serve(t, data, env, args...) })
	})
}

// sigkill kills p with SIGKILL and waits for it to die.
func sigkill(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not die after SIGKILL")
	}
}

type issuedToken struct {
	tok, jti string
	// revoke is set when the load decided to revoke the token (attempted),
	// revoked when that revocation was acknowledged with 200.
	revoke, revoked bool
}

// killNineCheck runs a bounded load of issues and revocations against p,
// kills p with SIGKILL while it runs, restarts with restart and checks
// every acknowledged write.
func killNineCheck(t *testing.T, p *proc, cl rplClient, admin string, restart func() *proc) {
	t.Helper()
	if _, err := cl.issue(); err != nil {
		t.Fatalf("issue before the load: %v", err)
	}

	const (
		workers  = 8
		maxOps   = 2000
		maxLoad  = 3 * time.Second
		killAt   = time.Second
		killOpsN = 1500 // kill earlier if the load is this far already
	)
	var (
		ops      atomic.Int64
		killed   atomic.Bool
		mu       sync.Mutex
		issued   []*issuedToken
		badJWT   []string
		preKill  []string // failures before the kill, which must not happen
		wg       sync.WaitGroup
		start    = time.Now()
		loadDone = make(chan struct{})
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				if time.Since(start) > maxLoad || ops.Add(1) > maxOps {
					return
				}
				tok, err := cl.issue()
				if err != nil {
					if killed.Load() {
						return
					}
					mu.Lock()
					preKill = append(preKill, "issue: "+err.Error())
					mu.Unlock()
					continue
				}
				jti, err := jwtID(tok)
				it := &issuedToken{tok: tok, jti: jti}
				mu.Lock()
				if err != nil {
					badJWT = append(badJWT, err.Error())
				}
				issued = append(issued, it)
				mu.Unlock()
				if (w+n)%2 != 0 {
					continue
				}
				if ops.Add(1) > maxOps {
					return
				}
				mu.Lock()
				it.revoke = true
				mu.Unlock()
				if err := cl.revoke(tok); err != nil {
					if killed.Load() {
						return
					}
					mu.Lock()
					preKill = append(preKill, "revoke: "+err.Error())
					mu.Unlock()
					continue
				}
				mu.Lock()
				it.revoked = true
				mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(loadDone) }()

	// kill after ~1 s, or earlier once most of the operations are done
	killTimer := time.NewTimer(killAt)
	defer killTimer.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-killTimer.C:
			break wait
		case <-loadDone:
			break wait
		case <-tick.C:
			if ops.Load() >= killOpsN {
				break wait
			}
		}
	}
	killed.Store(true)
	killAfter := time.Since(start)
	opsAtKill := ops.Load()
	sigkill(t, p)
	select {
	case <-loadDone:
	case <-time.After(30 * time.Second):
		t.Fatal("load did not stop after the kill")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(preKill) > 0 {
		t.Fatalf("%d requests failed before the kill, e.g. %s", len(preKill), preKill[0])
	}
	if len(badJWT) > 0 {
		t.Fatalf("%d issued tokens without a readable jti, e.g. %s", len(badJWT), badJWT[0])
	}
	var attempted, acked, untouched int
	for _, it := range issued {
		if it.revoke {
			attempted++
		} else {
			untouched++
		}
		if it.revoked {
			acked++
		}
	}
	t.Logf("load: SIGKILL after %v at op %d; %d issues acknowledged, %d revocations attempted, %d acknowledged, %d tokens never revoked",
		killAfter.Round(time.Millisecond), opsAtKill, len(issued), attempted, acked, untouched)
	if acked == 0 || untouched == 0 {
		t.Fatalf("load too small to check anything: %d acknowledged revocations, %d unrevoked tokens", acked, untouched)
	}

	q := restart()
	cl = cl.at(q.URL)
	var lostRevoke, lostToken, lostLedger, inFlightRevoked int
	fail := func(format string, args ...any) {
		if lostRevoke+lostToken+lostLedger < 10 {
			t.Errorf(format, args...)
		}
	}
	checkStart := time.Now()
	for _, it := range issued {
		st, raw, _, err := rplJSON("GET", q.URL+"/v1/tenants/"+cl.tenant+"/tokens/"+url.PathEscape(it.jti), admin, nil)
		if err != nil {
			t.Fatalf("ledger lookup %s: %v", it.jti, err)
		}
		if st != http.StatusOK {
			fail("acknowledged issue %s missing from the ledger after SIGKILL: %d %s", it.jti, st, raw)
			lostLedger++
		}
		active, m, err := cl.introspect(it.tok)
		if err != nil {
			t.Fatalf("introspect %s after restart: %v", it.jti, err)
		}
		switch {
		case it.revoked && active:
			fail("acknowledged revocation of %s lost after SIGKILL: introspection says %v", it.jti, m)
			lostRevoke++
		case !it.revoke && !active:
			fail("acknowledged, never revoked token %s inactive after SIGKILL", it.jti)
			lostToken++
		case it.revoke && !it.revoked && !active:
			inFlightRevoked++
		}
	}
	t.Logf("after restart (checked in %v): %d ledger entries missing, %d acknowledged revocations lost, %d unrevoked tokens inactive; %d of %d unacknowledged revocations took effect",
		time.Since(checkStart).Round(time.Millisecond), lostLedger, lostRevoke, lostToken, inFlightRevoked, attempted-acked)
}

// TestKillNineKeepsAcknowledgedRotations kills the server with SIGKILL
// while clients rotate refresh tokens, and checks after the restart that
// the last refresh token each client was given can still be exchanged: an
// acknowledged rotation was durable. (A rotation in flight at the kill may
// have committed unacknowledged; the client's retry of its last token is
// then the grace retry, which must succeed too.)
func TestKillNineKeepsAcknowledgedRotations(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var env []string
			if backend == "postgres" {
				if os.Getenv(pgtest.EnvURL) == "" {
					t.Skip(pgtest.EnvURL + " is not set: PostgreSQL tests need a server (.ci/run sets it)")
				}
				env = pgReplicaEnv(t)
			}
			t.Parallel()
			data := t.TempDir()
			// a grace period no restart outlasts; the issuer stays the same
			args := []string{"--dev", "--refresh-grace", "5m", "--public-url", "http://" + freeAddr(t)}
			p := serve(t, data, env, args...)
			killNineRotations(t, p, readCreds(t, data), func() *proc { return serve(t, data, env, args...) })
		})
	}
}

func killNineRotations(t *testing.T, p *proc, creds devCreds, restart func() *proc) {
	t.Helper()
	var app rplClient
	for _, c := range creds.Clients {
		if c.ClientID == "demo-app" {
			app = rplClient{base: p.URL, tenant: "demo", id: c.ClientID, secret: c.ClientSecret}
		}
	}
	if app.id == "" || len(creds.Users) == 0 {
		t.Fatalf("no demo-app client or user in dev-credentials.json")
	}
	user := creds.Users[0]
	refresh := func(c rplClient, tok string) (string, error) {
		return c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}, "refresh_token")
	}

	const (
		workers = 8
		maxOps  = 3000
		maxLoad = 3 * time.Second
		killAt  = time.Second
	)
	var (
		ops     atomic.Int64
		killed  atomic.Bool
		mu      sync.Mutex
		last    = make([]string, workers) // the last refresh token each worker was given
		rotated int
		preKill []string
		wg      sync.WaitGroup
		start   = time.Now()
	)
	for w := range workers {
		tok, err := app.token(url.Values{"grant_type": {"password"}, "username": {user.Username}, "password": {user.Password}}, "refresh_token")
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		last[w] = tok
		wg.Go(func() {
			for time.Since(start) < maxLoad && ops.Add(1) <= maxOps {
				next, err := refresh(app, tok)
				if err != nil {
					if !killed.Load() {
						mu.Lock()
						preKill = append(preKill, err.Error())
						mu.Unlock()
					}
					return
				}
				mu.Lock()
				last[w], rotated = next, rotated+1
				mu.Unlock()
				tok = next
			}
		})
	}
	time.Sleep(killAt)
	killed.Store(true)
	sigkill(t, p)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(preKill) > 0 {
		t.Fatalf("%d rotations failed before the kill, e.g. %s", len(preKill), preKill[0])
	}
	if rotated < workers {
		t.Fatalf("load too small: %d acknowledged rotations", rotated)
	}
	t.Logf("SIGKILL after %d acknowledged rotations by %d clients", rotated, workers)

	q := restart()
	app = app.at(q.URL)
	for w, tok := range last {
		if _, err := refresh(app, tok); err != nil {
			t.Errorf("client %d: its last acknowledged refresh token after the restart: %v", w, err)
		}
	}
}
