package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// rplResult is one answer of a concurrent request.
type rplResult struct {
	status int
	raw    []byte
	body   map[string]any
}

// rplConcurrently sends n requests at once (request i made by req(i)) and
// returns their answers in order; a transport error fails the test.
func rplConcurrently(t *testing.T, n int, req func(i int) (int, []byte, map[string]any, error)) []rplResult {
	t.Helper()
	out := make([]rplResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i].status, out[i].raw, out[i].body, errs[i] = req(i)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

func rplStatuses(rs []rplResult) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.status]++
	}
	return m
}

// TestTwoReplicasSubjectSerialization runs two servers on one PostgreSQL
// database and sends them, alternately and at once, the requests whose
// outcome depends on a subject's other tokens: with token_limit 3, 12
// mints leave exactly 3 active; 10 rotate:true mints exactly 1; 12
// renewals of 3 tokens, beside 3 mints, renew each token once and mint
// none. Then `tokend tokens revoke-all` through one replica revokes the
// device kiosk-1, as the other sees it, and not the client kiosk-1.
func TestTwoReplicasSubjectSerialization(t *testing.T) {
	a, b, admin, env := twoReplicas(t)
	replicas := []string{a.URL, b.URL}

	createTenantClient(t, a.URL, admin, "acme")
	for _, c := range []struct {
		path string
		body map[string]any
		want int
	}{
		{"/v1/tenants/acme", map[string]any{"policy": map[string]any{"token_limit": 3}}, http.StatusOK},
		{"/v1/tenants/acme/devices", map[string]any{"id": "kiosk-1", "type": "kiosk"}, http.StatusCreated},
	} {
		method := "POST"
		if c.want == http.StatusOK {
			method = "PATCH"
		}
		if st, raw, _, err := rplJSON(method, a.URL+c.path, admin, c.body); err != nil || st != c.want {
			t.Fatalf("%s %s: %d %v %s", method, c.path, st, err, raw)
		}
	}
	mint := func(body map[string]any) func(int) (int, []byte, map[string]any, error) {
		return func(i int) (int, []byte, map[string]any, error) {
			return rplJSON("POST", replicas[i%2]+"/v1/tenants/acme/devices/kiosk-1/tokens", admin, body)
		}
	}
	renew := func(base, tok string) (int, []byte, map[string]any, error) {
		return rplJSON("POST", base+"/t/acme/tokens/renew", tok, nil)
	}
	activeRows := func() int {
		t.Helper()
		q := url.Values{"subject_type": {"device"}, "subject": {"kiosk-1"}, "active": {"true"}, "limit": {"1000"}}
		st, raw, m, err := rplJSON("GET", b.URL+"/v1/tenants/acme/tokens?"+q.Encode(), admin, nil)
		items, _ := m["items"].([]any)
		if err != nil || st != http.StatusOK {
			t.Fatalf("ledger: %d %v %s", st, err, raw)
		}
		return len(items)
	}
	// liveOnBoth waits (bounded) until both replicas' gateway check
	// accepts exactly want of toks, and fails otherwise.
	liveOnBoth := func(what string, toks []string, want int) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			var counts []int
			for _, base := range replicas {
				n := 0
				for _, tok := range toks {
					req, _ := http.NewRequest("GET", base+"/t/acme/check", nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					st, raw, _, err := rplDo(req)
					if err != nil || (st != http.StatusOK && st != http.StatusUnauthorized) {
						t.Fatalf("%s: check: %d %v %s", what, st, err, raw)
					}
					if st == http.StatusOK {
						n++
					}
				}
				counts = append(counts, n)
			}
			if counts[0] == want && counts[1] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v tokens active on A and B, want %d on each", what, counts, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	tokens := func(rs []rplResult) []string {
		var l []string
		for _, r := range rs {
			if tok, _ := r.body["access_token"].(string); tok != "" {
				l = append(l, tok)
			}
		}
		return l
	}
	lasting := map[string]any{"expires_in": 600, "lifetime": 3600}

	rs := rplConcurrently(t, 12, mint(lasting))
	if st := rplStatuses(rs); st[201] != 3 || st[409] != 9 {
		t.Fatalf("12 concurrent mints on two replicas with token_limit 3: statuses %v", st)
	}
	if n := activeRows(); n != 3 {
		t.Fatalf("%d active ledger rows after 12 concurrent mints, want 3", n)
	}
	liveOnBoth("after the concurrent mints", tokens(rs), 3)

	rs = rplConcurrently(t, 10, mint(map[string]any{"rotate": true, "expires_in": 600, "lifetime": 3600}))
	if st := rplStatuses(rs); st[201] != 10 {
		t.Fatalf("10 concurrent rotations on two replicas: statuses %v", st)
	}
	if n := activeRows(); n != 1 {
		t.Fatalf("%d active ledger rows after 10 concurrent rotations, want 1", n)
	}
	rotated := tokens(rs)
	liveOnBoth("after the concurrent rotations", rotated, 1)

	// Back at the limit; each token renewed at once on both replicas.
	var held []string
	for _, tok := range rotated {
		req, _ := http.NewRequest("GET", a.URL+"/t/acme/check", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if st, _, _, err := rplDo(req); err == nil && st == http.StatusOK {
			held = append(held, tok)
		}
	}
	for i := range 2 {
		st, raw, m, err := mint(lasting)(i)
		tok, _ := m["access_token"].(string)
		if err != nil || st != http.StatusCreated || tok == "" {
			t.Fatalf("mint to the limit: %d %v %s", st, err, raw)
		}
		held = append(held, tok)
	}
	rs = rplConcurrently(t, 15, func(i int) (int, []byte, map[string]any, error) {
		if i >= 12 {
			return mint(lasting)(i)
		}
		return renew(replicas[i%2], held[i%3])
	})
	renewed, refused, minted := 0, 0, 0
	successors := tokens(rs[:12])
	for i, r := range rs {
		desc, _ := r.body["error_description"].(string)
		switch {
		case i >= 12 && r.status == http.StatusCreated:
			minted++
		case i >= 12 && r.status != http.StatusConflict:
			t.Fatalf("mint beside the renewals: %d %s", r.status, r.raw)
		case i < 12 && r.status == http.StatusOK:
			renewed++
		case i < 12 && r.status == http.StatusBadRequest && strings.Contains(desc, "already renewed"):
			refused++
		case i < 12:
			t.Fatalf("renewal: %d %s", r.status, r.raw)
		}
	}
	if renewed != 3 || refused != 9 || minted != 0 {
		t.Fatalf("12 concurrent renewals of 3 tokens and 3 mints, on two replicas: %d renewed, %d refused, %d minted; want 3, 9, 0",
			renewed, refused, minted)
	}
	if n := activeRows(); n != 3 {
		t.Fatalf("%d active ledger rows after the renewals, want 3", n)
	}

	// Subjects are typed across replicas and in the CLI: revoking device
	// kiosk-1 through A leaves client kiosk-1 alone, as B sees it.
	st, raw, m, err := rplJSON("POST", a.URL+"/v1/tenants/acme/clients", admin, map[string]any{
		"id": "kiosk-1", "grant_types": []string{"client_credentials"}, "scopes": []string{"read"}})
	sec, _ := m["client_secret"].(string)
	if err != nil || st != http.StatusCreated || sec == "" {
		t.Fatalf("create client kiosk-1: %d %v %s", st, err, raw)
	}
	clientTok, err := rplClient{base: b.URL, tenant: "acme", id: "kiosk-1", secret: sec}.issue()
	if err != nil {
		t.Fatal(err)
	}
	cli := append([]string{"TOKEND_ENDPOINT=" + a.URL, "TOKEND_TOKEN=" + admin}, env...)
	if _, errOut, code := run(t, cli, "", "tokens", "revoke-all", "-t", "acme", "--subject", "kiosk-1"); code == 0 || !strings.Contains(errOut, "--subject-type") {
		t.Fatalf("revoke-all --subject without a type: exit %d, %s", code, errOut)
	}
	out, errOut, code := run(t, cli, "", "tokens", "revoke-all", "-t", "acme", "--subject-type", "device", "--subject", "kiosk-1")
	if code != 0 || !strings.Contains(out, "device") {
		t.Fatalf("revoke-all: exit %d\n%s%s", code, out, errOut)
	}
	liveOnBoth("device kiosk-1 after revoke-all", append(held, successors...), 0)
	liveOnBoth("client kiosk-1 after revoking device kiosk-1", []string{clientTok}, 1)
}
