package signing

import (
	"math"
	"testing"
	"time"
)

func TestInWindow(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name string
		ts   int64
		want bool
	}{
		{name: "now", ts: now.Unix(), want: true},
		{name: "a minute ago", ts: now.Add(-time.Minute).Unix(), want: true},
		{name: "a minute ahead", ts: now.Add(time.Minute).Unix(), want: true},
		{name: "exactly the window ago", ts: now.Add(-Window).Unix(), want: true},
		{name: "exactly the window ahead", ts: now.Add(Window).Unix(), want: true},
		{name: "a second too old", ts: now.Add(-Window - time.Second).Unix(), want: false},
		{name: "a second too far ahead", ts: now.Add(Window + time.Second).Unix(), want: false},
		{name: "zero", ts: 0, want: false},
		{name: "negative", ts: -1, want: false},
		{name: "far future", ts: math.MaxInt64, want: false},
		{name: "far past", ts: math.MinInt64, want: false},
		{name: "milliseconds instead of seconds", ts: now.UnixMilli(), want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := InWindow(tc.ts, now); got != tc.want {
				t.Fatalf("InWindow(%d, %d) = %v, want %v", tc.ts, now.Unix(), got, tc.want)
			}
		})
	}
}
