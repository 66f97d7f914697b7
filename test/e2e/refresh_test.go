package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// refreshSetup is the dev fixtures' password client demo-app on each of
// one or more servers sharing one database.
type refreshSetup struct {
	at             []rplClient // demo-app at each server
	user, password string
	admin          string
}

// startRefresh starts n servers on one database of backend with args: the
// first loads the dev fixtures, the others serve the same database. Two or
// more servers need PostgreSQL.
func startRefresh(t *testing.T, backend string, n int, args ...string) refreshSetup {
	t.Helper()
	var env []string
	if backend == "postgres" {
		if os.Getenv(pgtest.EnvURL) == "" {
			t.Skip(pgtest.EnvURL + " is not set: PostgreSQL tests need a server (.ci/run sets it)")
		}
		env = pgReplicaEnv(t)
	}
	// Replicas behind one address share their public URL, hence the
	// issuer of their tokens.
	args = append(args, "--public-url", "http://"+freeAddr(t))
	data := t.TempDir()
	first := serve(t, data, env, append([]string{"--dev"}, args...)...)
	creds := readCreds(t, data)
	s := refreshSetup{admin: creds.AdminToken}
	for _, c := range creds.Clients {
		if c.ClientID == "demo-app" {
			s.at = append(s.at, rplClient{base: first.URL, tenant: "demo", id: c.ClientID, secret: c.ClientSecret})
		}
	}
	if len(s.at) == 0 || len(creds.Users) == 0 {
		t.Fatal("no demo-app client or user in dev-credentials.json")
	}
	s.user, s.password = creds.Users[0].Username, creds.Users[0].Password
	for range n - 1 {
		s.at = append(s.at, s.at[0].at(serve(t, t.TempDir(), env, args...).URL))
	}
	return s
}

// tokenPair is a token endpoint answer.
type tokenPair struct {
	status        int
	access, renew string // access and refresh token of a 200
	raw           []byte
}

// grant posts form to c's token endpoint.
func (c rplClient) grant(form url.Values) (tokenPair, error) {
	st, raw, m, err := rplForm(c.endpoint("token"), c.id, c.secret, form)
	at, _ := m["access_token"].(string)
	rt, _ := m["refresh_token"].(string)
	return tokenPair{status: st, access: at, renew: rt, raw: raw}, err
}

func (c rplClient) refresh(rt string) (tokenPair, error) {
	return c.grant(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// login runs the password grant and fails the test unless it gets both tokens.
func (s refreshSetup) login(t *testing.T) tokenPair {
	t.Helper()
	p, err := s.at[0].grant(url.Values{"grant_type": {"password"}, "username": {s.user}, "password": {s.password}})
	if err != nil || p.status != http.StatusOK || p.renew == "" {
		t.Fatalf("login: %v %d %s", err, p.status, p.raw)
	}
	return p
}

// refresh presents rt at server i and fails the test unless it gets status.
func (s refreshSetup) refresh(t *testing.T, i int, rt string, status int) tokenPair {
	t.Helper()
	p, err := s.at[i].refresh(rt)
	if err != nil || p.status != status {
		t.Fatalf("refresh at server %d: %v %d %s, want %d", i, err, p.status, p.raw, status)
	}
	return p
}

// reuses counts the tenant's token.reuse audit events.
func (s refreshSetup) reuses(t *testing.T) int {
	t.Helper()
	st, raw, m, err := rplJSON("GET", s.at[0].base+"/v1/tenants/demo/audit?action=token.reuse", s.admin, nil)
	items, _ := m["items"].([]any)
	if err != nil || st != http.StatusOK {
		t.Fatalf("audit: %v %d %s", err, st, raw)
	}
	return len(items)
}

// wantReplayRefused presents the superseded refresh token rt at server i and
// checks that it is refused, that a token.reuse event is audited, and that
// every token of family is inactive on every server within a second (the
// revocation reaches other replicas' deny-lists through the log).
func (s refreshSetup) wantReplayRefused(t *testing.T, i int, rt string, family map[string]string) {
	t.Helper()
	before := s.reuses(t)
	p := s.refresh(t, i, rt, http.StatusBadRequest)
	if got := string(p.raw); !strings.Contains(got, `"invalid_grant"`) {
		t.Fatalf("replay answered %s, want invalid_grant", got)
	}
	if n := s.reuses(t); n != before+1 {
		t.Errorf("%d token.reuse audit events after the replay, want %d", n, before+1)
	}
	acked := time.Now()
	for name, tok := range family {
		for j, c := range s.at {
			if _, err := waitInactive(c, tok, acked, time.Second); err != nil {
				t.Errorf("%s at server %d after the family was revoked: %v", name, j, err)
			}
		}
	}
}

// TestRefreshRotationTwoReplicas runs two servers on one PostgreSQL
// database: refresh-token rotation has exactly one winner across them, a
// retry or a replay within the grace on the other replica gets that same
// successor, and the second use of a successor held twice revokes the
// family everywhere (RFC 9700 §4.14.2).
func TestRefreshRotationTwoReplicas(t *testing.T) {
	t.Parallel()
	s := startRefresh(t, "postgres", 2)

	t.Run("lost response retried at the other replica", func(t *testing.T) {
		rt0 := s.login(t).renew
		rt1 := s.refresh(t, 0, rt0, http.StatusOK).renew
		if got := s.refresh(t, 1, rt0, http.StatusOK).renew; got != rt1 {
			t.Fatalf("the retry at B got %q, want the successor %q that A handed out", got, rt1)
		}
		s.refresh(t, 1, rt1, http.StatusOK)
	})

	for _, winner := range []int{0, 1} {
		t.Run(fmt.Sprintf("theft within the grace, server %d uses the successor first", winner), func(t *testing.T) {
			login := s.login(t)
			// The client refreshes at A; a thief replays the same token at B.
			client := s.refresh(t, 0, login.renew, http.StatusOK)
			thief := s.refresh(t, 1, login.renew, http.StatusOK)
			if thief.renew != client.renew {
				t.Fatalf("the replay within the grace got %q, want the client's successor %q", thief.renew, client.renew)
			}
			first := s.refresh(t, winner, client.renew, http.StatusOK)
			s.wantReplayRefused(t, 1-winner, client.renew, map[string]string{
				"login access": login.access, "client's access": client.access, "thief's access": thief.access,
				"winner's access": first.access, "winner's refresh": first.renew,
			})
		})
	}

	t.Run("50 concurrent refreshes across both", func(t *testing.T) {
		rt0 := s.login(t).renew
		const n = 50
		got := make([]tokenPair, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = s.at[i%2].refresh(rt0) })
		}
		wg.Wait()
		distinct := map[string]bool{}
		for i, p := range got {
			switch {
			case errs[i] != nil:
				t.Fatalf("refresh %d: %v", i, errs[i])
			case p.status != http.StatusOK:
				t.Errorf("refresh %d at server %d: %d %s, want 200 (a retry within the grace)", i, i%2, p.status, p.raw)
			default:
				distinct[p.renew] = true
			}
		}
		if len(distinct) != 1 {
			t.Fatalf("%d distinct successors among the 200s of %d concurrent refreshes, want 1", len(distinct), n)
		}
		for rt1 := range distinct {
			for j, c := range s.at {
				if active, _, err := c.introspect(rt1); err != nil || !active {
					t.Fatalf("the one successor at server %d: active=%v %v", j, active, err)
				}
			}
			s.refresh(t, 1, rt1, http.StatusOK)
		}
	})
}

// TestRefreshReplayAfterGrace: a spent refresh token presented after the
// grace is theft even though its successor is unused, and revokes the
// family.
func TestRefreshReplayAfterGrace(t *testing.T) {
	t.Parallel()
	const grace = time.Second
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := startRefresh(t, backend, 1, "--refresh-grace", grace.String())
			login := s.login(t)
			next := s.refresh(t, 0, login.renew, http.StatusOK)
			time.Sleep(grace + 250*time.Millisecond)
			s.wantReplayRefused(t, 0, login.renew, map[string]string{
				"login access": login.access, "successor's access": next.access, "successor": next.renew,
			})
		})
	}
}
