package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// TestPostgresMigrateConcurrently runs two `tokend migrate` processes on
// one fresh database at once, then a server on it.
func TestPostgresMigrateConcurrently(t *testing.T) {
	if os.Getenv("TOKEND_TEST_POSTGRES") == "" {
		t.Skip("TOKEND_TEST_POSTGRES is not set")
	}
	t.Parallel()
	url := pgtest.NewDatabase(t)
	env := []string{"TOKEND_DATABASE_URL=" + url}
	var wg sync.WaitGroup
	outs := make([]string, 2)
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var errs string
			outs[i], errs, codes[i] = run(t, env, "", "migrate", "--data", t.TempDir())
			outs[i] += errs
		}()
	}
	wg.Wait()
	applied := 0
	for i := range 2 {
		if codes[i] != 0 {
			t.Fatalf("migrate %d: exit %d: %s", i, codes[i], outs[i])
		}
		if strings.Contains(outs[i], "applied migrations") {
			applied++
		}
	}
	if applied != 1 {
		t.Fatalf("want exactly one process to apply the migrations: %q", outs)
	}
	out, _, code := run(t, env, "", "migrate", "--data", t.TempDir())
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("third migrate: %d %s", code, out)
	}
	data := t.TempDir()
	// master key shared by env, as replicas sharing a database must
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env = append(env, "TOKEND_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
	p := serve(t, data, env)
	if st, _ := api(t, "GET", p.URL+"/readyz", "", nil); st != 200 {
		t.Fatalf("readyz %d", st)
	}
}
