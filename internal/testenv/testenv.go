// Package testenv finds the third-party programs some tests drive, from
// the environment variables .ci/run sets: a test is skipped only when its
// variable is unset, and fails when the variable names a program that
// does not work, so that CI never passes by skipping. It is imported only
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
