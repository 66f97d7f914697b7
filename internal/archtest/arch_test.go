// Package archtest enforces the import rules that keep tokend's layers
// apart, by reading `go list -deps`.
package archtest

import (
	"encoding/json"
	"os/exec"
	"slices"
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
		"internal/grant", "internal/revoke", "internal/ledger", "internal/authn", "internal/binding",
		"internal/secrets", "internal/secrets/sealed", "internal/exchange"}
	// namedSurfaces are the surfaces outside internal/compat; every
	// package under internal/compat is a surface too (see surfacesOf).
	namedSurfaces = []string{"internal/admin", "internal/oauth", "internal/gateway", "internal/tokenapi"}
	backends      = []string{"internal/store/sqlite", "internal/store/postgres", "internal/secrets/vault"}
	drivers       = []string{"modernc.org/sqlite", "github.com/jackc/pgx", "database/sql"}
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
	surfaces := surfacesOf(pkgs)
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

// TestVaultOnlyFromApp: the Vault backend (and its HTTP client) is wired
// by internal/app alone.
func TestVaultOnlyFromApp(t *testing.T) {
	const v = mod + "/internal/secrets/vault"
	for path, p := range list(t) {
		if path != mod+"/internal/app" && slices.Contains(p.Imports, v) {
			t.Errorf("%s imports %s; only internal/app wires it", path, v)
		}
	}
}

// testSupport are imported only from _test.go files.
var testSupport = []string{"internal/apptest", "internal/golden", "internal/store/sqlite/sqlitetest", "internal/faulttest",
	"internal/secrets/secretstest", "internal/secrets/vaulttest", "internal/testenv"}

func TestTestSupportOnlyInTests(t *testing.T) {
	pkgs := list(t)
	for path, p := range pkgs {
		if slices.Contains(testSupport, strings.TrimPrefix(path, mod+"/")) {
			continue // test support may build on test support
		}
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

// compatPrefix holds the compatible surfaces, one package per legacy API.
const compatPrefix = "internal/compat/"

// surfacesOf lists the surfaces present in pkgs, relative to the module:
// the named ones that exist and every package under internal/compat.
func surfacesOf(pkgs map[string]pkg) []string {
	var out []string
	for _, s := range namedSurfaces {
		if _, ok := pkgs[mod+"/"+s]; ok {
			out = append(out, s)
		}
	}
	for path := range pkgs {
		if rel, ok := strings.CutPrefix(path, mod+"/"); ok && strings.HasPrefix(rel, compatPrefix) {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// compatAllowed is what a package under internal/compat may import from
// this module (internal/compat/doc.go says why).
var compatAllowed = []string{"internal/httpx", "internal/fault", "internal/reqctx", "claims",
	"internal/authn", "internal/grant", "internal/mint", "internal/revoke", "internal/introspect", "internal/binding",
	"internal/token", "internal/compat", "verify"}

// compatViolations lists the imports of compatible surfaces that break the
// rule: only compatAllowed from this module, never another surface.
func compatViolations(pkgs map[string]pkg) []string {
	var out []string
	for _, s := range surfacesOf(pkgs) {
		if !strings.HasPrefix(s, compatPrefix) {
			continue
		}
		for _, imp := range pkgs[mod+"/"+s].Imports {
			rel, ok := strings.CutPrefix(imp, mod+"/")
			if !ok {
				continue
			}
			if !slices.Contains(compatAllowed, rel) {
				out = append(out, s+" imports "+rel)
			}
		}
	}
	return out
}

func TestCompatImports(t *testing.T) {
	for _, v := range compatViolations(list(t)) {
		t.Error(v)
	}
}

// TestCompatRuleCatches feeds the rule a made-up surface that imports what
// it must not, so that a rule that stopped finding anything fails here.
func TestCompatRuleCatches(t *testing.T) {
	pkgs := map[string]pkg{
		mod + "/internal/compat/good": {ImportPath: mod + "/internal/compat/good",
			Imports: []string{"net/http", mod + "/internal/httpx", mod + "/internal/mint", mod + "/claims"}},
		mod + "/internal/compat/bad": {ImportPath: mod + "/internal/compat/bad",
			Imports: []string{mod + "/internal/store", mod + "/internal/issue", mod + "/internal/directory",
				mod + "/internal/store/sqlite", mod + "/internal/oauth", mod + "/internal/compat/good", mod + "/internal/grant"}},
		mod + "/internal/oauth": {ImportPath: mod + "/internal/oauth"},
	}
	got := compatViolations(pkgs)
	want := []string{
		"internal/compat/bad imports internal/store",
		"internal/compat/bad imports internal/issue",
		"internal/compat/bad imports internal/directory",
		"internal/compat/bad imports internal/store/sqlite",
		"internal/compat/bad imports internal/oauth",
		"internal/compat/bad imports internal/compat/good",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := surfacesOf(pkgs); !slices.Equal(s, []string{"internal/compat/bad", "internal/compat/good", "internal/oauth"}) {
		t.Fatalf("surfaces %v", s)
	}
}

// TestUpstreamLeaf: package upstream/oidc, which reaches other providers
// over HTTP, depends on nothing of tokend's, and only package app (and
// tests) import it: the core sees other providers through
// exchange.Upstream alone.
func TestUpstreamLeaf(t *testing.T) {
	pkgs := list(t)
	up := mod + "/internal/upstream/oidc"
	if _, ok := pkgs[up]; !ok {
		t.Fatalf("%s missing", up)
	}
	for _, d := range pkgs[up].Deps {
		if strings.HasPrefix(d, mod+"/") {
			t.Errorf("%s depends on %s; it must stay a leaf", up, d)
		}
	}
	for path, p := range pkgs {
		if path == mod+"/internal/app" || strings.HasPrefix(path, up) {
			continue
		}
		if has(p.Imports, up) {
			t.Errorf("%s imports %s; only internal/app wires it", path, up)
		}
	}
}
