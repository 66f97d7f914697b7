package loadgen

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	seq := func(n int) []time.Duration {
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(i + 1)
		}
		return s
	}
	tests := []struct {
		name string
		data []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p50", []time.Duration{7}, 50, 7},
		{"single p99.9", []time.Duration{7}, 99.9, 7},
		{"two p50", []time.Duration{1, 2}, 50, 1},
		{"two p99", []time.Duration{1, 2}, 99, 2},
		{"100 p50", seq(100), 50, 50},
		{"100 p99", seq(100), 99, 99},
		{"100 p99.9", seq(100), 99.9, 100},
		{"100 p100", seq(100), 100, 100},
		{"1000 p50", seq(1000), 50, 500},
		{"1000 p99", seq(1000), 99, 990},
		{"1000 p99.9", seq(1000), 99.9, 999},
		{"10000 p99.9", seq(10000), 99.9, 9990},
		{"10 p1", seq(10), 1, 1},
		{"10 p0 clamps to first", seq(10), 0, 1},
		{"repeated values", []time.Duration{5, 5, 5, 9}, 75, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.data, tt.p); got != tt.want {
				t.Errorf("Percentile(p=%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}
