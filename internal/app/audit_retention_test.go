package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// TestAuditRetention: a tenant's audit_retention prunes its old events,
// leaving a signed checkpoint from which "audit verify" still proves the
// rest of the chain; a checkpoint the server did not sign breaks it; the
// export streams the remaining events as NDJSON, resumable with after.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		ctx := context.Background()
		a := s.Admin
		for bad, status := range map[any]int{3600: 422, -5: 422, "week": 400} {
			if r := s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": "kept", "policy": map[string]any{"audit_retention": bad}}); r.Status != status ||
				!strings.Contains(string(r.Raw), "audit_retention") {
				t.Errorf("audit_retention %v: %d %s", bad, r.Status, r.Raw)
			}
		}
		want(t, s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": "kept", "policy": map[string]any{"audit_retention": 86400}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": "forever"}), 201)
		if r := s.call(t, "POST", "/v1/tenants/kept/clients", a, map[string]any{"id": "c", "policy": map[string]any{"audit_retention": 86400}}); r.Status != 422 {
			t.Errorf("client audit_retention: %d %s", r.Status, r.Raw)
		}
		for _, ten := range []string{"kept", "forever"} {
			for _, id := range []string{"r1", "r2", "r3"} {
				want(t, s.call(t, "POST", "/v1/tenants/"+ten+"/roles", a, map[string]any{"name": id, "scopes": []string{"read"}}), 201)
			}
		}
		count := func(ten string) int {
			return len(want(t, s.call(t, "GET", "/v1/tenants/"+ten+"/audit?limit=1000", a, nil), 200).items())
		}
		before, keptForever := count("kept"), count("forever")
		if before < 3 {
			t.Fatalf("%d events", before)
		}
		got := s.App.Prune(ctx, time.Now().Add(48*time.Hour))
		if got["audit"] != before {
			t.Fatalf("pruned %v, want %d audit events", got, before)
		}
		if n := count("kept"); n != 0 {
			t.Fatalf("%d events left", n)
		}
		if n := count("forever"); n != keptForever {
			t.Fatalf("a tenant without retention lost events: %d of %d", n, keptForever)
		}
		// Events after the pruning chain onto the checkpoint.
		want(t, s.call(t, "POST", "/v1/tenants/kept/roles", a, map[string]any{"name": "r4", "scopes": []string{"read"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/kept/roles", a, map[string]any{"name": "r5", "scopes": []string{"read"}}), 201)
		v := want(t, s.call(t, "GET", "/v1/tenants/kept/audit/verify", a, nil), 200)
		if v.Body["ok"] != true || v.Body["pruned"] != float64(before) || v.Body["events"] != float64(2) {
			t.Fatalf("verify after pruning: %s", v.Raw)
		}

		// The export: every remaining event, one JSON object per line.
		export := func(query string) (int, []map[string]any) {
			t.Helper()
			req, _ := http.NewRequest("GET", s.URL+"/v1/tenants/kept/audit/export"+query, nil)
			req.Header.Set("Authorization", "Bearer "+a)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != 200 {
				return res.StatusCode, nil
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" {
				t.Errorf("Content-Type %q", ct)
			}
			var lines []map[string]any
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				lines = append(lines, m)
			}
			return 200, lines
		}
		_, lines := export("")
		if len(lines) != 2 || lines[0]["seq"] != float64(before+1) || lines[1]["seq"] != float64(before+2) || lines[0]["hash"] == "" || lines[1]["prev_hash"] != lines[0]["hash"] {
			t.Fatalf("export: %v", lines)
		}
		if _, l := export("?after=" + jsonNumber(lines[0]["seq"])); len(l) != 1 || l[0]["seq"] != lines[1]["seq"] {
			t.Fatalf("export after the first: %v", l)
		}
		if _, l := export("?action=role.create&after=0"); len(l) != 2 {
			t.Fatalf("export filtered: %v", l)
		}
		for _, q := range []string{"?limit=5", "?after=x", "?from=yesterday"} {
			if st, _ := export(q); st != 400 {
				t.Errorf("export %s: %d", q, st)
			}
		}
		// A bigger log streams in pages.
		for i := 0; i < 1100; i++ {
			if err := s.App.Store().Audit().Append(ctx, func(e *store.AuditEvent) { e.Hash = []byte{1} }, store.AuditEvent{Tenant: "forever", Time: time.Now(), Action: "bulk", Outcome: "success"}); err != nil {
				t.Fatal(err)
			}
		}
		req, _ := http.NewRequest("GET", s.URL+"/v1/tenants/forever/audit/export", nil)
		req.Header.Set("Authorization", "Bearer "+a)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		res.Body.Close()
		if n := bytes.Count(body.Bytes(), []byte("\n")); n != keptForever+1100 {
			t.Fatalf("export of %d events gave %d lines", keptForever+1100, n)
		}

		// A checkpoint without the server's signature breaks the chain.
		if _, err := s.App.Store().Audit().Prune(ctx, "kept", time.Now().Add(time.Hour), 1, func(last store.AuditEvent) store.AuditCheckpoint {
			return store.AuditCheckpoint{Tenant: last.Tenant, Seq: last.Seq, Hash: last.Hash, EventTime: last.Time, PrunedAt: time.Now(), Sig: []byte("forged")}
		}); err != nil {
			t.Fatal(err)
		}
		v = want(t, s.call(t, "GET", "/v1/tenants/kept/audit/verify", a, nil), 200)
		if v.Body["ok"] != false || !strings.Contains(v.str("reason"), "signature") {
			t.Fatalf("verify with a forged checkpoint: %s", v.Raw)
		}
	})
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
