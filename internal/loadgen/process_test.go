package loadgen

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestBaselineProcessFailures: a child that prints no loopback URL, or
// exits at once, is an error that says so, and stop leaves no process.
func TestBaselineProcessFailures(t *testing.T) {
	for _, script := range []string{
		`echo "http://10.0.0.1:80"; cat`,
		`echo listening; cat`,
		`echo "address in use" >&2; exit 3`,
	} {
		_, _, err := StartBaselineProcess(context.Background(), "sh", "-c", script)
		if err == nil {
			t.Errorf("%s: no error", script)
			continue
		}
		t.Log(err)
	}
	_, _, err := StartBaselineProcess(context.Background(), "sh", "-c", `echo "boom" >&2; exit 3`)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("the child's standard error is not in the error: %v", err)
	}
}

// TestServeBaseline drives the child side in-process: the URL comes first,
// the server signs there, and the end of stdin stops it.
func TestServeBaseline(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- ServeBaseline(context.Background(), "127.0.0.1:0", BaselineVerify, BaselineOptions{}, stdinR, outW)
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(line)
	r, err := Run(context.Background(), Config{Mode: ModeBaselineVerify, Endpoint: base, Concurrency: 2,
		Duration: 200 * time.Millisecond, Warmup: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r)
	stdinW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", "example.com:80", "nonsense"} {
		if err := ServeBaseline(context.Background(), addr, BaselineSign, BaselineOptions{}, strings.NewReader(""), io.Discard); err == nil {
			t.Errorf("%s: no error", addr)
		}
	}
	if err := ServeBaseline(context.Background(), "127.0.0.1:0", "hash", BaselineOptions{}, strings.NewReader(""), io.Discard); err == nil {
		t.Error("unknown kind: no error")
	}
}
