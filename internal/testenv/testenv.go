// Package testenv finds the third-party programs some tests drive, and
// the machine capabilities some tests need, from the environment
// variables .ci/run sets: a test is skipped only when its variable is
// unset, and fails when the variable names a program that does not work
// or claims a capability the machine lacks, so that CI never passes by
// skipping. It is imported only
// from _test.go files.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Environment variables naming the programs.
const (
	// EnvPyJWT names a Python 3 interpreter that has PyJWT (Debian
	// python3-jwt).
	EnvPyJWT = "TOKEND_TEST_PYJWT"
	// EnvNginx names an nginx binary (Debian nginx-light).
	EnvNginx = "TOKEND_TEST_NGINX"
	// EnvIPv6 (any value) says the machine has an IPv6 loopback (::1).
	EnvIPv6 = "TOKEND_TEST_IPV6"
	// EnvRoot (any value) says the tests run as root and may mount file
	// systems.
	EnvRoot = "TOKEND_TEST_ROOT"
)

// PyJWT returns the interpreter EnvPyJWT names, skipping the test when it
// is unset and failing it when that interpreter cannot import jwt.
func PyJWT(t testing.TB) string {
	t.Helper()
	py := os.Getenv(EnvPyJWT)
	if py == "" {
		t.Skip(EnvPyJWT + " is not set: the PyJWT tests are skipped (.ci/run sets it to /usr/bin/python3 with Debian python3-jwt)")
	}
	if out, err := exec.Command(py, "-c", "import jwt").CombinedOutput(); err != nil {
		t.Fatalf("%s=%s cannot import jwt: %v\n%s", EnvPyJWT, py, err, out)
	}
	return py
}

// Nginx returns the binary EnvNginx names, skipping the test when it is
// unset and failing it when that binary does not run.
func Nginx(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(EnvNginx)
	if bin == "" {
		t.Skip(EnvNginx + " is not set: the nginx tests are skipped (.ci/run sets it, installing Debian nginx-light if need be)")
	}
	if out, err := exec.Command(bin, "-v").CombinedOutput(); err != nil {
		t.Fatalf("%s=%s does not run: %v\n%s", EnvNginx, bin, err, out)
	}
	return bin
}

// Need skips the test when the capability env stands for is missing
// (err, saying why) and env is unset, and fails it when env is set: a
// machine that says it has the capability must provide it. It returns
// when err is nil.
func Need(t testing.TB, env string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv(env) != "" {
		t.Fatalf("%s is set, but: %v", env, err)
	}
	t.Skipf("%v (%s is not set; .ci/run sets it)", err, env)
}
