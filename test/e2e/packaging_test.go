package e2e

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealthcheck: "tokend healthcheck" exits 0 against a ready server,
// asked on loopback when the server listens on every address, and 1 when
// nothing answers.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	p := serve(t, t.TempDir(), nil, "--dev")
	addr := strings.TrimPrefix(p.URL, "http://")
	out, err := exec.Command(binary, "healthcheck", "--addr", addr).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"status":"ready"`) {
		t.Fatalf("healthcheck of a ready server: %v\n%s", err, out)
	}
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(binary, "healthcheck")
	cmd.Env = append(os.Environ(), "TOKEND_ADDR=0.0.0.0:"+port)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("healthcheck with TOKEND_ADDR on every address: %v\n%s", err, out)
	}
	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(binary, "healthcheck", "--addr", addr, "--timeout", "1s").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("healthcheck of a stopped server: %v\n%s", err, out)
	}
}

// TestStaticBuild: the container image's build (CGO_ENABLED=0) gives a
// static binary, with no program interpreter and no shared library, so
// that it runs in an image that holds nothing else.
func TestStaticBuild(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "tokend")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "../../cmd/tokend")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is dynamically linked (%v segment)", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs %v", libs)
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(out), "tokend ") {
		t.Fatalf("static binary: %v %s", err, out)
	}
}

// TestDockerfile checks what the image promises, as far as it can be
// checked without a container engine: a static build, a final stage with
// nothing but the binary, a user other than root, and a HEALTHCHECK run by
// the binary itself.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []string
	var user, health string
	static := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "FROM "):
			stages = append(stages, l)
			user, health = "", ""
		case strings.HasPrefix(l, "USER "):
			user = strings.TrimPrefix(l, "USER ")
		case strings.HasPrefix(l, "HEALTHCHECK "):
			health = l
		case strings.Contains(l, "CGO_ENABLED=0 go build"):
			static = true
		}
		for strings.HasSuffix(l, `\`) && sc.Scan() { // continuation lines
			l = strings.TrimSpace(sc.Text())
			if strings.HasPrefix(health, "HEALTHCHECK") && !strings.Contains(health, "CMD") {
				health += " " + l
			}
		}
	}
	if len(stages) < 2 || stages[len(stages)-1] != "FROM scratch" {
		t.Errorf("final stage is %v, want FROM scratch", stages)
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("final stage runs as %q, want a non-root user", user)
	}
	if !strings.Contains(health, `CMD ["/tokend", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %q does not run tokend healthcheck", health)
	}
	if !static {
		t.Error("the build stage does not build with CGO_ENABLED=0")
	}
}

// TestSystemdUnit verifies deploy/tokend.service with systemd-analyze
// (TOKEND_TEST_SYSTEMD_ANALYZE names it; .ci/run sets it where systemd is
// installed): the unit parses, names an executable, and its sandbox scores
// an exposure of at most 2.0 (systemd's "OK"; --threshold counts tenths).
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	sa := os.Getenv("TOKEND_TEST_SYSTEMD_ANALYZE")
	if sa == "" {
		t.Skip("TOKEND_TEST_SYSTEMD_ANALYZE is not set; .ci/run sets it to systemd-analyze where it exists")
	}
	b, err := os.ReadFile("../../deploy/tokend.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "tokend.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/tokend", binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sa, "verify", unit).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(sa, "security", "--offline=yes", "--threshold=20", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security (threshold 20, i.e. exposure 2.0): %v\n%s", err, out)
	}
}
