package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

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
	exchange := func(c rplClient, form url.Values) (string, error) {
		st, raw, m, err := rplForm(c.endpoint("token"), c.id, c.secret, form)
		if err != nil {
			return "", err
		}
		tok, _ := m["refresh_token"].(string)
		if st != http.StatusOK || tok == "" {
			return "", fmt.Errorf("token endpoint: %d %s", st, raw)
		}
		return tok, nil
	}
	refresh := func(c rplClient, tok string) (string, error) {
		return exchange(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}})
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
		tok, err := exchange(app, url.Values{"grant_type": {"password"}, "username": {user.Username}, "password": {user.Password}})
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
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not die after SIGKILL")
	}
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
