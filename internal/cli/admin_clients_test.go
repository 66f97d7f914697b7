package cli

import (
	"strings"
	"testing"
	"time"
)

func TestParseExpiresAt(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "1893456000", want: 1893456000},
		{in: "2030-01-01T00:00:00Z", want: 1893456000},
		{in: "2030-01-01T02:00:00+02:00", want: 1893456000},
		{in: "+90m", want: 1893456000 + 5400},
		{in: "+1h30m", want: 1893456000 + 5400},
		{in: "+1ms", want: 1893456001}, // rounded up, never earlier than asked
		{in: "", wantErr: "want unix seconds"},
		{in: "0", wantErr: "want unix seconds"},
		{in: "-5", wantErr: "want unix seconds"},
		{in: "2h", wantErr: "want unix seconds"},
		{in: "+", wantErr: "want unix seconds"},
		{in: "+0s", wantErr: "must be positive"},
		{in: "1893456000000", wantErr: "milliseconds"},
		{in: "2030-01-01", wantErr: "want unix seconds"},
	} {
		got, err := parseExpiresAt(tc.in, now)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "--expires-at") {
				t.Errorf("parseExpiresAt(%q) = %d, %v; want an error about --expires-at containing %q", tc.in, got, err, tc.wantErr)
			}
		case err != nil || got != tc.want:
			t.Errorf("parseExpiresAt(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}
