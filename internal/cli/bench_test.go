package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchBaselineJSON(t *testing.T) {
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetArgs([]string{"bench", "--mode", "baseline-sign", "--duration", "300ms", "--concurrency", "2", "--warmup", "50ms", "-o", "json"})
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	var res []struct {
		Mode     string  `json:"mode"`
		Requests int64   `json:"requests"`
		Errors   int64   `json:"errors"`
		P50      float64 `json:"p50_ms"`
		Max      float64 `json:"max_ms"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(res) != 1 || res[0].Mode != "baseline-sign" || res[0].Requests <= 0 || res[0].Errors != 0 || res[0].P50 > res[0].Max {
		t.Fatalf("unexpected result: %s", out.String())
	}
}

func TestBenchRefusesRemoteEndpoint(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--mode", "issue", "--endpoint", "http://example.com", "--tenant", "t", "--client-id", "c"},
		{"bench", "--mode", "baseline-sign,issue", "--endpoint", "http://10.1.2.3:8080", "--tenant", "t", "--client-id", "c"},
	} {
		root := newRoot()
		var out bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), "not a loopback") {
			t.Errorf("%v: err %v", args, err)
		}
	}
}

func TestBenchFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench"},
		{"bench", "--mode", "flood"},
		{"bench", "--mode", "baseline-sign", "--concurrency", "5000"},
		{"bench", "--mode", "baseline-sign", "--duration", "6m"},
		{"bench", "--mode", "baseline-sign", "-o", "xml"},
		{"bench", "--mode", "issue", "--client-id", "c"},
	} {
		root := newRoot()
		var out bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		if err := root.ExecuteContext(context.Background()); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
