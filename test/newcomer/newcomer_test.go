// Package newcomer follows the README and docs/*.md as a newcomer does, on
// a fresh clone: it runs the quick start's server command, every shell
// block of the development walk-through, and then every shell block of
// docs/ and docs/compat/ not marked "<!-- newcomer: not-run: REASON -->",
// literally, and fails on the first command that does not work as printed.
package newcomer

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Env turns the walk-through on; .ci/run sets it. It needs git, jq, curl
// and the loopback port 8080 that the README uses.
const Env = "TOKEND_TEST_NEWCOMER"

// block is one fenced shell block of a Markdown file.
type block struct {
	heading string // the section it is under
	line    int    // its first line
	code    string
	// notRun is the reason given by a "<!-- newcomer: not-run: REASON -->"
	// line just before the block: it needs what a fresh machine and the
	// dev server lack (a real provider, production hosts, a second server).
	notRun string
}

// notRunMarker starts the comment that keeps a block from being run.
const notRunMarker = "<!-- newcomer: not-run:"

// shellBlocks returns the ```sh blocks of a Markdown document.
func shellBlocks(md string) []block {
	var out []block
	var heading string
	var cur *block
	var code strings.Builder
	prev := ""
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		last := prev
		if strings.TrimSpace(l) != "" {
			prev = l
		}
		switch {
		case cur != nil && strings.HasPrefix(l, "```"):
			cur.code = code.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			code.WriteString(l + "\n")
		case strings.HasPrefix(l, "```sh"):
			cur = &block{heading: heading, line: n + 1}
			if r, ok := strings.CutPrefix(strings.TrimSpace(last), notRunMarker); ok {
				cur.notRun = strings.TrimSpace(strings.TrimSuffix(r, "-->"))
				if cur.notRun == "" {
					cur.notRun = "?" // reported as a marker without a reason
				}
			}
			code.Reset()
		case strings.HasPrefix(l, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(l, "#"))
		}
	}
	return out
}

// walkthrough are the README sections whose blocks a newcomer runs, in
// order, against the dev server; the others are for production (a system
// data directory, an external database), benchmarks or other providers.
var walkthrough = []struct{ file, section string }{
	{"README.md", "What `--dev` does"}, {"README.md", "The `tokend` binary"}, {"README.md", "Admin API and CLI"},
	{"docs/tokens.md", "Creation scopes"}, {"docs/tokens.md", "Signed token requests"},
}

// prelude runs before each block: commands fail as a newcomer would
// notice, an HTTP error included.
const prelude = `set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
`

func TestREADME(t *testing.T) {
	if os.Getenv(Env) == "" {
		t.Skip(Env + " is not set; .ci/run sets it")
	}
	for _, tool := range []string{"git", "jq", "curl", "go", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to follow the README: %v", tool, err)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://127.0.0.1:8080/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("something already answers on 127.0.0.1:8080, the README's address")
	}
	// A fresh clone of the checkout, and a GOBIN of its own on PATH for
	// "go install".
	tmp := t.TempDir()
	clone := filepath.Join(tmp, "tokend")
	run(t, root, nil, "git", "clone", "-q", root, clone)
	gobin := filepath.Join(tmp, "bin")
	env := append(os.Environ(), "GOBIN="+gobin, "PATH="+gobin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"TOKEND_ENDPOINT=", "TOKEND_TOKEN=", "TOKEND_TENANT=")

	md, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := shellBlocks(string(md))
	var serve *block
	for i := range blocks {
		if blocks[i].heading == "Quick start" && strings.Contains(blocks[i].code, "serve --dev") {
			serve = &blocks[i]
			break
		}
	}
	if serve == nil {
		t.Fatal("the README's quick start has no block that runs tokend serve --dev")
	}

	// The quick start: the server runs until the test ends.
	var log bytes.Buffer
	cmd := exec.Command("bash", "-c", prelude+serve.code)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = clone, env, &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // go run and the server it started
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(5 * time.Minute) // go run builds first
	for {
		resp, err := http.Get("http://127.0.0.1:8080/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("README line %d (%s) exited:\n%s", serve.line, strings.TrimSpace(serve.code), log.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("README line %d: the server was not ready within 5 minutes:\n%s", serve.line, log.String())
		}
	}

	ran := 0
	docs := map[string][]block{"README.md": blocks}
	for _, w := range walkthrough {
		if _, ok := docs[w.file]; !ok {
			md, err := os.ReadFile(filepath.Join(clone, w.file))
			if err != nil {
				t.Fatal(err)
			}
			docs[w.file] = shellBlocks(string(md))
		}
		found := false
		for _, b := range docs[w.file] {
			if b.heading != w.section {
				continue
			}
			found = true
			out := run(t, clone, env, "bash", "-c", prelude+b.code)
			// A block that asks for a token must print one.
			if strings.Contains(b.code, "oauth2/token") || strings.Contains(b.code, "/tokens") && strings.Contains(b.code, "curl") {
				if !strings.Contains(out, `token":"ey`) {
					t.Fatalf("%s line %d (%s): no token in:\n%s", w.file, b.line, w.section, out)
				}
			}
			ran++
		}
		if !found {
			t.Fatalf("%s has no shell block under %q any more; update test/newcomer", w.file, w.section)
		}
	}
	// Every other shell block of docs/ runs as printed against the dev
	// server, in file order, unless a marker says why it cannot.
	files, _ := filepath.Glob(filepath.Join(clone, "docs", "*.md"))
	compat, _ := filepath.Glob(filepath.Join(clone, "docs", "compat", "*.md"))
	skipped := 0
	for _, f := range append(files, compat...) {
		rel, _ := filepath.Rel(clone, f)
		md, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range shellBlocks(string(md)) {
			if walked(rel, b.heading) {
				continue
			}
			if b.notRun == "?" {
				t.Fatalf("%s line %d: a not-run marker without a reason", rel, b.line)
			}
			if b.notRun != "" {
				t.Logf("%s line %d not run: %s", rel, b.line, b.notRun)
				skipped++
				continue
			}
			run(t, clone, env, "bash", "-c", prelude+b.code)
			ran++
		}
	}
	t.Logf("ran %d shell blocks of the README and docs/ as printed; %d marked not-run", ran, skipped)
}

// walked reports whether the walk-through above ran file's section.
func walked(file, section string) bool {
	for _, w := range walkthrough {
		if w.file == filepath.ToSlash(file) && w.section == section {
			return true
		}
	}
	return false
}

// run runs name args in dir and returns its output, failing the test with
// it when the command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		script := strings.Join(args, " ")
		t.Fatalf("%s failed: %v\n--- command\n%s\n--- output\n%s", name, err, strings.TrimPrefix(script, "-c "+prelude), out)
	}
	return fmt.Sprint(string(out))
}
