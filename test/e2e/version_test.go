package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: the version set at build time is what "tokend version"
// prints, what the ready log line says and what /metrics labels
// tokend_build_info with.
func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "version", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Version   string `json:"version"`
		Revision  string `json:"revision"`
		GoVersion string `json:"go_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("version -o json: %v: %s", err, out)
	}
	if v.Version != e2eVersion || v.GoVersion != runtime.Version() {
		t.Fatalf("version -o json = %s", out)
	}
	line, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(line), "tokend "+e2eVersion+" ") {
		t.Fatalf("version = %q, %v", line, err)
	}

	p := serve(t, t.TempDir(), nil, "--dev")
	if out := p.OutputWith("tokend ready"); !strings.Contains(out, "version="+e2eVersion) {
		t.Fatalf("ready line does not name the version:\n%s", out)
	}
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^tokend_build_info\{goversion="([^"]+)",revision="([^"]*)",version="([^"]+)"\} 1$`).FindSubmatch(b)
	if m == nil || string(m[1]) != runtime.Version() || string(m[2]) != v.Revision || string(m[3]) != e2eVersion {
		t.Fatalf("tokend_build_info not as expected:\n%s", regexp.MustCompile(`(?m)^tokend_build.*$`).Find(b))
	}
}
