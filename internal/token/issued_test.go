package token

import (
	"testing"
	"time"
)

func TestIssuedExpiresIn(t *testing.T) {
	t.Parallel()
	at := time.Unix(1_700_000_000, 0)
	exp := func(d time.Duration) *time.Time { e := at.Add(d); return &e }
	for _, tc := range []struct {
		name      string
		expiresAt *time.Time
		want      int64
	}{
		{name: "eternal", expiresAt: nil, want: 0},
		{name: "whole seconds", expiresAt: exp(600 * time.Second), want: 600},
		{name: "rounded", expiresAt: exp(600*time.Second + 600*time.Millisecond), want: 601},
	} {
		if got := (Issued{IssuedAt: at, ExpiresAt: tc.expiresAt}).ExpiresIn(); got != tc.want {
			t.Errorf("%s: ExpiresIn() = %d, want %d", tc.name, got, tc.want)
		}
	}
}
