package golden

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnvUpdate names the environment variable that, set to 1, rewrites the
// golden files instead of comparing them.
const EnvUpdate = "TOKEND_UPDATE_GOLDEN"

var update = flag.Bool("update", false, "rewrite golden files (testdata/*.golden) instead of comparing them")

// Updating reports whether golden files are being rewritten.
func Updating() bool { return *update || os.Getenv(EnvUpdate) == "1" }

// Path is the golden file of name: testdata/<name>.golden, relative to the
// package directory go test runs in. It panics if name is empty or not a
// plain file name (no separators, no leading dot).
func Path(name string) string {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		panic("golden: bad file name " + `"` + name + `"`)
	}
	return filepath.Join("testdata", name+".golden")
}

// Assert normalizes got and compares it with the golden file of name,
// failing t with a line diff on mismatch. When [Updating], it rewrites
// the file (only if its content changed) instead.
func Assert(t testing.TB, name string, got []byte) {
	t.Helper()
	check(t, name, got, Updating())
}

// Compare is Assert that never rewrites the file, even when updating.
func Compare(t testing.TB, name string, got []byte) {
	t.Helper()
	check(t, name, got, false)
}

func check(t testing.TB, name string, got []byte, write bool) {
	t.Helper()
	path := Path(name)
	got = Normalize(got)
	want, err := os.ReadFile(path)
	if err != nil && !(write && errors.Is(err, fs.ErrNotExist)) {
		t.Fatalf("golden file %s: %v (create it with go test -update, or %s=1 go test ./...)", path, err, EnvUpdate)
	}
	if bytes.Equal(got, want) {
		return
	}
	if write {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("golden file %s rewritten", path)
		return
	}
	t.Errorf("%s does not match (- golden file, + got; rewrite with -update or %s=1):\n%s", path, EnvUpdate, Diff(want, got))
}
