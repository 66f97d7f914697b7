package cli

import (
	"math"
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

// TestMemoryLimitFor: the soft memory limit is DefaultMemoryLimit for a
// small live heap and twice the live heap beyond half of it.
func TestMemoryLimitFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, DefaultMemoryLimit},
		{DefaultMemoryLimit / 2, DefaultMemoryLimit},
		{200 << 20, 400 << 20},
		{math.MaxUint64, math.MaxInt64 - 1},
	} {
		if got := memoryLimitFor(tc.live); got != tc.want {
			t.Errorf("memoryLimitFor(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
}
