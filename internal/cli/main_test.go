package cli

import (
	"os"
	"testing"
)

// TestMain lets this test binary stand in for the tokend binary: bench
// starts its baseline server as a child process of os.Executable(), which
// under go test is this binary, run with TOKEND_CLI_TEST_MAIN=1.
func TestMain(m *testing.M) {
	if os.Getenv("TOKEND_CLI_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Setenv("TOKEND_CLI_TEST_MAIN", "1")
	os.Exit(m.Run())
}
