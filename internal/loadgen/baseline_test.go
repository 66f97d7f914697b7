package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestBaselines(t *testing.T) {
	for _, mode := range []string{ModeBaselineSign, ModeBaselineVerify} {
		t.Run(mode, func(t *testing.T) {
			base, stop, err := StartBaseline(mode)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			r, err := Run(context.Background(), Config{Mode: mode, Endpoint: base, Concurrency: 4,
				Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, r)
			t.Log(r)
		})
	}
	// With no endpoint, Run starts and stops its own baseline.
	r, err := Run(context.Background(), Config{Mode: ModeBaselineVerify, Concurrency: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r)
}

func TestBaselineVerifyRejectsForgery(t *testing.T) {
	base, stop, err := StartBaseline(BaselineVerify)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	other, stopOther, err := StartBaseline(BaselineSign)
	if err != nil {
		t.Fatal(err)
	}
	defer stopOther()
	// A token signed by another key must not verify.
	resp, err := http.PostForm(other+baselineSignPath, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	var tr tokenResponse
	_ = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	for _, tok := range []string{tr.AccessToken, "not-a-jwt"} {
		resp, err := http.PostForm(base+baselineVerifyPath, url.Values{"token": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		var ir struct{ Active bool }
		_ = json.NewDecoder(resp.Body).Decode(&ir)
		resp.Body.Close()
		if ir.Active {
			t.Errorf("token %.20q verified", tok)
		}
	}
}
