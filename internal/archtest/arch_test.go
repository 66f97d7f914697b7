// Package archtest enforces the import rules that keep tokend's layers
// apart, by reading `go list -deps`.
package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/tokend/tokend"

type pkg struct {
	ImportPath string
	Deps       []string
	Imports    []string
}

func list(t *testing.T) map[string]pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", mod+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

var (
	core = []string{"internal/issue", "internal/introspect", "internal/audit", "internal/directory", "internal/mint", "internal/keys",
		"internal/changes", "internal/fault", "internal/store", "internal/tenant", "internal/principal", "internal/token", "internal/reqctx",
		"internal/grant", "internal/revoke", "internal/ledger"}
	surfaces = []string{"internal/admin", "internal/oauth"}
	backends = []string{"internal/store/sqlite", "internal/store/postgres"}
	drivers  = []string{"modernc.org/sqlite", "github.com/jackc/pgx", "database/sql"}
)

func has(deps []string, prefix string) bool {
	for _, d := range deps {
		if d == prefix || strings.HasPrefix(d, prefix+"/") {
			return true
		}
	}
	return false
}

func TestLayers(t *testing.T) {
	pkgs := list(t)
	for _, c := range core {
		p, ok := pkgs[mod+"/"+c]
		if !ok {
			t.Errorf("core package %s missing", c)
			continue
		}
		for _, bad := range append([]string{"net/http"}, drivers...) {
			if has(p.Deps, bad) {
				t.Errorf("core package %s depends on %s", c, bad)
			}
		}
		for _, s := range append(surfaces, backends...) {
			if has(p.Deps, mod+"/"+s) {
				t.Errorf("core package %s depends on %s", c, s)
			}
		}
	}
	for _, s := range surfaces {
		p := pkgs[mod+"/"+s]
		for _, other := range append(surfaces, backends...) {
			if other != s && has(p.Deps, mod+"/"+other) {
				t.Errorf("surface %s depends on %s", s, other)
			}
		}
	}
	for _, pub := range []string{"claims", "verify", "revocation"} {
		p, ok := pkgs[mod+"/"+pub]
		if !ok {
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, mod+"/internal") {
				t.Errorf("public package %s depends on %s", pub, d)
			}
		}
	}
}

// testSupport are imported only from _test.go files.
var testSupport = []string{"internal/apptest", "internal/golden"}

func TestTestSupportOnlyInTests(t *testing.T) {
	pkgs := list(t)
	for path, p := range pkgs {
		for _, ts := range testSupport {
			if has(p.Imports, mod+"/"+ts) {
				t.Errorf("%s imports the test-support package %s outside its tests", path, ts)
			}
		}
	}
	for _, d := range pkgs[mod+"/internal/golden"].Deps {
		if strings.HasPrefix(d, mod+"/") {
			t.Errorf("internal/golden depends on %s; it must stay a leaf", d)
		}
	}
}
