package admin_test

import (
	"bufio"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
)

// faultCtors maps the fault constructors to the code they make.
var faultCtors = map[string]fault.Code{
	"InvalidRequest": fault.CodeInvalidRequest, "InvalidClient": fault.CodeInvalidClient, "InvalidGrant": fault.CodeInvalidGrant,
	"UnauthorizedClient": fault.CodeUnauthorizedClient, "UnsupportedGrantType": fault.CodeUnsupportedGrantType,
	"InvalidScope": fault.CodeInvalidScope, "InvalidTarget": fault.CodeInvalidTarget, "InvalidToken": fault.CodeInvalidToken,
	"Unauthenticated": fault.CodeUnauthenticated, "Forbidden": fault.CodeForbidden, "InsufficientScope": fault.CodeInsufficientScope,
	"NotFound": fault.CodeNotFound, "Conflict": fault.CodeConflict, "Invalid": fault.CodeValidation, "TooLarge": fault.CodeTooLarge,
	"UnsupportedMediaType": fault.CodeUnsupportedMediaType, "RateLimited": fault.CodeRateLimited,
	"Unavailable": fault.CodeUnavailable, "Internal": fault.CodeInternal,
}

// faultConsts maps the names of the fault.Code constants to their values,
// read from the fault package's source.
func faultConsts(t *testing.T, dir string) map[string]fault.Code {
	t.Helper()
	out := map[string]fault.Code{}
	for _, f := range parseDir(t, dir) {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || len(vs.Values) != len(vs.Names) {
				return true
			}
			for i, name := range vs.Names {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(name.Name, "Code") && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					out[name.Name] = fault.Code(v)
				}
			}
			return true
		})
	}
	return out
}

// oauthOnly are the sources of the OAuth endpoints' own error rendering
// (httpx.WriteOAuthError: RFC 6749 §5.2 codes, slow_down), which the admin API
// does not call (TestErrorTableIsExact checks).
var oauthOnly = []string{"internal/httpx/oauth_error.go"}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var out []*ast.File
	fs := token.NewFileSet()
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") || slices.ContainsFunc(oauthOnly, func(o string) bool { return strings.HasSuffix(n, filepath.FromSlash(o)) }) {
			continue
		}
		f, err := parser.ParseFile(fs, n, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// producible returns the codes the admin API's code can answer with: every
// fault constructor called and every fault.Code constant named in the
// admin package and the packages of this module it depends on, plus
// server_error (any unexpected error). It reads more than the admin API
// runs (a shared package's code for other surfaces counts too; a code only
// compared, in a switch or with ==, does not), so the
// test holds the doc to every code that code can reach.
func producible(t *testing.T) map[fault.Code]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json", "github.com/tokend/tokend/internal/admin").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var dirs []string
	faultDir := ""
	for dec.More() {
		var p struct{ ImportPath, Dir string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		switch {
		case p.ImportPath == "github.com/tokend/tokend/internal/fault":
			faultDir = p.Dir
		case strings.HasPrefix(p.ImportPath, "github.com/tokend/tokend/"):
			dirs = append(dirs, p.Dir)
		}
	}
	consts := faultConsts(t, faultDir)
	codes := map[fault.Code]bool{fault.CodeInternal: true}
	for _, d := range dirs {
		for _, f := range parseDir(t, d) {
			// A code compared (==, !=, a case of a switch) is read, not made.
			read := map[ast.Node]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.CaseClause:
					for _, e := range x.List {
						read[e] = true
					}
				case *ast.BinaryExpr:
					if x.Op == token.EQL || x.Op == token.NEQ {
						read[x.X], read[x.Y] = true, true
					}
				}
				return true
			})
			ast.Inspect(f, func(n ast.Node) bool {
				if read[n] {
					return false
				}
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "fault" {
					return true
				}
				if c, ok := faultCtors[sel.Sel.Name]; ok {
					codes[c] = true
				}
				if c, ok := consts[sel.Sel.Name]; ok {
					codes[c] = true
				}
				return true
			})
		}
	}
	return codes
}

// docCodes reads the table of docs/admin-api.md's "Errors" section: the
// codes each row names, with the row's status.
func docCodes(t *testing.T) map[fault.Code]int {
	t.Helper()
	f, err := os.Open("../../docs/admin-api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[fault.Code]int{}
	in := false
	code := regexp.MustCompile("`([a-z_]+)`")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "## ") {
			in = l == "## Errors"
			continue
		}
		if !in || !strings.HasPrefix(l, "| ") {
			continue
		}
		cells := strings.Split(l, "|")
		if len(cells) < 4 {
			continue
		}
		status, err := strconv.Atoi(strings.TrimSpace(cells[1]))
		if err != nil {
			continue // the header and its rule
		}
		for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
			out[fault.Code(m[1])] = status
		}
	}
	if len(out) == 0 {
		t.Fatal("no error table in docs/admin-api.md")
	}
	return out
}

// TestErrorTableIsExact: docs/admin-api.md's error table names every code
// the admin API's code can produce, at the status httpx renders it with,
// and no other.
func TestErrorTableIsExact(t *testing.T) {
	for _, f := range parseDir(t, ".") {
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "WriteOAuthError" {
				t.Errorf("the admin API calls httpx.WriteOAuthError, whose codes the test leaves out (oauthOnly)")
			}
			return true
		})
	}
	doc := docCodes(t)
	can := producible(t)
	var missing, extra []string
	for c := range can {
		if _, ok := doc[c]; !ok {
			missing = append(missing, string(c))
		}
	}
	for c, status := range doc {
		if !can[c] {
			extra = append(extra, string(c))
			continue
		}
		if want := httpx.Status(c); status != want {
			t.Errorf("docs/admin-api.md gives %s status %d; the server answers %d", c, status, want)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("the admin API can answer codes docs/admin-api.md does not list: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("docs/admin-api.md lists codes the admin API's code never produces: %v", extra)
	}
}
