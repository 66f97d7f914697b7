package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// proxyTenant creates a tenant with the password grant, a user and a
// password client, and returns a function that tries one login through
// the server with the given forwarding headers.
func proxyTenant(t *testing.T, base, admin, tenant string) func(login, password string, hdr map[string]string) int {
	t.Helper()
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/tenants", map[string]any{"id": tenant, "policy": map[string]any{"password_grant": true}}},
		{"/v1/tenants/" + tenant + "/users", map[string]any{"login": "alice@example.com", "password": "correct horse battery"}},
	} {
		if st, raw, _, err := rplJSON("POST", base+c.path, admin, c.body); err != nil || st != http.StatusCreated {
			t.Fatalf("POST %s: %d %v %s", c.path, st, err, raw)
		}
	}
	st, raw, m, err := rplJSON("POST", base+"/v1/tenants/"+tenant+"/clients", admin, map[string]any{"id": "app",
		"grant_types": []string{"password"}, "policy": map[string]any{"password_grant": true}})
	secret, _ := m["client_secret"].(string)
	if err != nil || st != http.StatusCreated || secret == "" {
		t.Fatalf("create client: %d %v %s", st, err, raw)
	}
	return func(login, password string, hdr map[string]string) int {
		t.Helper()
		form := url.Values{"grant_type": {"password"}, "username": {login}, "password": {password}}
		req, _ := http.NewRequest("POST", base+"/t/"+tenant+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", secret)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		st, raw, _, err := rplDo(req)
		if err != nil {
			t.Fatal(err)
		}
		if st != 200 && st != 400 && st != 429 {
			t.Fatalf("login: %d %s", st, raw)
		}
		return st
	}
}

// failAddr makes the per-address login throttle of a tenant block: 20 free
// failures, each with another login so that no account blocks first, and
// the 21st blocks the address. hdr gives each attempt's forwarding headers.
func failAddr(t *testing.T, login func(string, string, map[string]string) int, hdr func(i int) map[string]string) {
	t.Helper()
	for i := range 21 {
		if st := login(fmt.Sprintf("nobody-%d@example.com", i), "wrong", hdr(i)); st != 400 {
			t.Fatalf("failure %d: %d, want 400", i+1, st)
		}
	}
}

// auditAddrs returns the remote_addr of a tenant's failed auth.user events.
func auditAddrs(t *testing.T, base, admin, tenant string) map[string]int {
	t.Helper()
	st, raw, _, err := rplJSON("GET", base+"/v1/tenants/"+tenant+"/audit?action=auth.user&limit=1000", admin, nil)
	if err != nil || st != 200 {
		t.Fatalf("audit: %d %v %s", st, err, raw)
	}
	var page struct {
		Items []struct {
			RemoteAddr string `json:"remote_addr"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range page.Items {
		out[e.RemoteAddr]++
	}
	return out
}

// accessAddrs counts the remote_addr of the access-log lines for path once
// n of them are written (logs are written in batches), or after 5 s.
func accessAddrs(t *testing.T, p *proc, path string, n int) map[string]int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, total := map[string]int{}, 0
		for _, l := range lines(p.Output(), `"path":"`+path+`"`) {
			var rec struct {
				Msg        string `json:"msg"`
				RemoteAddr string `json:"remote_addr"`
			}
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "request" {
				out[rec.RemoteAddr]++
				total++
			}
		}
		if total >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTrustedProxies: without --trusted-proxies a spoofed X-Forwarded-For
// or Forwarded changes nothing (the throttle, the audit and the access log
// see the peer); with it, the right-most untrusted address of the chain is
// the client, so two clients behind one proxy have separate throttles. The
// address throttle is per tenant.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	eachStoreBackend(t, func(t *testing.T, backend string, env []string, data, admin string) {

		// No trusted proxy: the forwarding headers are ignored.
		p := serve(t, data, env)
		direct := proxyTenant(t, p.URL, admin, "direct")
		failAddr(t, direct, func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i), "Forwarded": fmt.Sprintf("for=198.51.100.%d", i)}
		})
		if st := direct("alice@example.com", "correct horse battery", map[string]string{"X-Forwarded-For": "198.51.100.200"}); st != 429 {
			t.Fatalf("a spoofed X-Forwarded-For escaped the address throttle: %d", st)
		}
		if got := auditAddrs(t, p.URL, admin, "direct"); len(got) != 1 || got["127.0.0.1"] == 0 {
			t.Fatalf("audit remote_addr %v, want only 127.0.0.1", got)
		}
		if got := accessAddrs(t, p, "/t/direct/oauth2/token", 22); len(got) != 1 || got["127.0.0.1"] != 22 {
			t.Fatalf("access log remote_addr %v, want 22 times 127.0.0.1", got)
		}
		// The blocked address is blocked in that tenant only.
		other := proxyTenant(t, p.URL, admin, "other")
		if st := other("alice@example.com", "correct horse battery", nil); st != 200 {
			t.Fatalf("the address blocked in tenant direct is blocked in tenant other: %d", st)
		}
		if err := p.stop(t); err != nil {
			t.Fatal(err)
		}

		// 127.0.0.1 trusted (by flag on SQLite, by environment on PostgreSQL).
		if backend == "sqlite" {
			p = serve(t, data, env, "--trusted-proxies", "127.0.0.1/32")
		} else {
			p = serve(t, data, append(env, "TOKEND_TRUSTED_PROXIES=127.0.0.0/8"))
		}
		proxied := proxyTenant(t, p.URL, admin, "proxied")
		failAddr(t, proxied, func(int) map[string]string { return map[string]string{"X-Forwarded-For": "203.0.113.7"} })
		for name, hdr := range map[string]map[string]string{
			"the blocked client":                 {"X-Forwarded-For": "203.0.113.7"},
			"the blocked client, spoofing a hop": {"X-Forwarded-For": "203.0.113.8, 203.0.113.7"},
			"the blocked client, by Forwarded":   {"Forwarded": `for=203.0.113.7;proto=https`},
		} {
			if st := proxied("alice@example.com", "correct horse battery", hdr); st != 429 {
				t.Errorf("%s: %d, want 429", name, st)
			}
		}
		for name, hdr := range map[string]map[string]string{
			"another client":               {"X-Forwarded-For": "203.0.113.8"},
			"another client, by Forwarded": {"Forwarded": `for="203.0.113.9:4711"`},
		} {
			if st := proxied("alice@example.com", "correct horse battery", hdr); st != 200 {
				t.Errorf("%s behind the same proxy: %d, want 200", name, st)
			}
		}
		if got := auditAddrs(t, p.URL, admin, "proxied"); len(got) != 1 || got["203.0.113.7"] == 0 {
			t.Fatalf("audit remote_addr %v, want only 203.0.113.7", got)
		}
		if got := accessAddrs(t, p, "/t/proxied/oauth2/token", 26); got["203.0.113.7"] != 24 || got["203.0.113.8"] != 1 || got["203.0.113.9"] != 1 || got["127.0.0.1"] != 0 {
			t.Fatalf("access log remote_addr %v", got)
		}
	})
}

// eachStoreBackend runs f on SQLite and on PostgreSQL (skipped when
// TOKEND_TEST_POSTGRES is not set), in parallel, with a data directory
// bootstrapped for it: env is what every tokend process needs, admin the
// system admin key.
func eachStoreBackend(t *testing.T, f func(t *testing.T, backend string, env []string, data, admin string)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var env []string
			if backend == "postgres" {
				if os.Getenv(pgtest.EnvURL) == "" {
					t.Skip(pgtest.EnvURL + " is not set")
				}
				env = pgReplicaEnv(t)
			}
			data := t.TempDir()
			f(t, backend, env, data, bootstrapAt(t, env, data))
		})
	}
}
