package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
)

// tryClient asks base's token endpoint for a client_credentials token as
// client id with secret, from the loopback address ip, and returns the
// status; it checks the shape of refusals (RFC 6749 §5.2 body; a 429 says
// when to retry).
func tryClient(t *testing.T, base, tenant, ip, id, secret string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/t/"+tenant+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := apptest.From(ip).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	switch resp.StatusCode {
	case 200:
	case 401:
		if body.Error != "invalid_client" {
			t.Fatalf("401 with error %q", body.Error)
		}
	case 429:
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || body.Error != "slow_down" || !strings.Contains(body.Description, "retry in") {
			t.Fatalf("429 with Retry-After %q and body %+v", resp.Header.Get("Retry-After"), body)
		}
	default:
		t.Fatalf("client authentication answered %d %+v", resp.StatusCode, body)
	}
	return resp.StatusCode
}

// failureCounts returns how many failure events of action a tenant's
// audit log holds and the sum of their counts.
func failureCounts(t *testing.T, base, admin, tenant, action string) (rows, failures int) {
	t.Helper()
	st, raw, _, err := rplJSON("GET", base+"/v1/tenants/"+tenant+"/audit?action="+action+"&limit=1000", admin, nil)
	if err != nil || st != 200 {
		t.Fatalf("audit: %d %v %s", st, err, raw)
	}
	var page struct {
		Items []struct {
			Outcome string            `json:"outcome"`
			Detail  map[string]string `json:"detail"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Items {
		n, err := strconv.Atoi(e.Detail["count"])
		if err != nil || e.Outcome != "failure" {
			t.Fatalf("audit event %+v", e)
		}
		rows, failures = rows+1, failures+n
	}
	return rows, failures
}

// TestClientSecretThrottle: failed client authentications are throttled
// per client and address and per address (429, Retry-After), never per
// client alone: the real client, from another address, is not locked out.
// On PostgreSQL a second replica sees the same counts. A thousand failures
// leave a bounded number of audit events whose counts add up to them,
// written on shutdown at the latest; so do failed password logins.
func TestClientSecretThrottle(t *testing.T) {
	t.Parallel()
	eachStoreBackend(t, func(t *testing.T, backend string, env []string, data, admin string) {
		p := serve(t, data, env)
		c := createTenantClient(t, p.URL, admin, "shop")
		sent := map[int]int{}
		try := func(base, ip, id, secret string) int {
			st := tryClient(t, base, "shop", ip, id, secret)
			sent[st]++
			return st
		}

		// A thousand wrong secrets from A: a few are checked, then A is
		// refused without a check.
		const n = 1000
		before := map[int]int{}
		start := time.Now()
		for range n {
			before[try(p.URL, "127.0.0.10", "svc", "wrong")]++
		}
		if before[401] < 6 || before[401] > 20 || before[429] != n-before[401] {
			t.Fatalf("%d wrong secrets from one address: %v in %v", n, before, time.Since(start))
		}
		if st := try(p.URL, "127.0.0.10", "svc", c.secret); st != 429 {
			t.Fatalf("the right secret from the blocked address: %d, want 429", st)
		}
		// The client itself, from another address, is not locked out.
		if st := try(p.URL, "127.0.0.11", "svc", c.secret); st != 200 {
			t.Fatalf("the client from another address: %d, want 200", st)
		}
		// Guessing at many clients from one address blocks the address.
		for i := range 21 {
			if st := try(p.URL, "127.0.0.12", "guess"+strconv.Itoa(i), "wrong"); st != 401 {
				t.Fatalf("guess %d: %d, want 401", i, st)
			}
		}
		if st := try(p.URL, "127.0.0.12", "svc", c.secret); st != 429 {
			t.Fatalf("svc from an address that guessed at 21 clients: %d, want 429", st)
		}

		// Failed password logins are counted the same way.
		login := proxyTenant(t, p.URL, admin, "users")
		logins := map[int]int{}
		for range 100 {
			logins[login("alice@example.com", "wrong", nil)]++
		}
		if logins[400] < 6 || logins[429] < 80 {
			t.Fatalf("100 wrong passwords: %v", logins)
		}

		stops := []*proc{p}
		if backend == "postgres" {
			// A second replica: the counts are shared. The first attempt
			// from A may pass its throttle check (the replica has not
			// seen A fail yet), but is counted and blocks.
			q := serve(t, t.TempDir(), env)
			stops = append(stops, q)
			first := try(q.URL, "127.0.0.10", "svc", "wrong")
			if second := try(q.URL, "127.0.0.10", "svc", c.secret); second != 429 {
				t.Fatalf("replica 2: from the blocked address %d then %d, want 429", first, second)
			}
			if st := try(q.URL, "127.0.0.11", "svc", c.secret); st != 200 {
				t.Fatalf("replica 2: the client from another address: %d, want 200", st)
			}
		}
		for _, s := range stops {
			if err := s.stop(t); err != nil {
				t.Fatal(err)
			}
		}
		p = serve(t, data, env)
		if rows, failures := failureCounts(t, p.URL, admin, "users", "auth.user"); failures != 100 || rows > 6 {
			t.Fatalf("100 failed logins (%v): %d audit events counting %d", logins, rows, failures)
		}
		rows, failures := failureCounts(t, p.URL, admin, "shop", "auth.client")
		if failures != sent[401]+sent[429] {
			t.Fatalf("audit events count %d failures, want %d (%v)", failures, sent[401]+sent[429], sent)
		}
		if rows > 40 {
			t.Fatalf("%d failures took %d audit events", failures, rows)
		}
		t.Logf("%d failures (%v) in %d audit events", failures, sent, rows)
	})
}
