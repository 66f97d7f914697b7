package loadgen

import (
	"math"
	"strconv"
	"time"
)

// Result is what a run measured. Latency percentiles are exact (nearest
// rank over every sampled successful request); a failed request counts in
// Requests and Errors but not in the latencies.
type Result struct {
	// Mode is the mode that ran.
	Mode string
	// Concurrency is the number of workers.
	Concurrency int
	// Requests is the number of measured requests, successful or not.
	Requests int64
	// Errors is how many of Requests failed (transport error, unexpected
	// status or body).
	Errors int64
	// Duration is the measured wall time, from the end of warmup until the
	// last worker finished.
	Duration time.Duration
	// RPS is Requests / Duration.
	RPS float64
	// P50, P99, P999 and Max are latencies of successful requests.
	P50, P99, P999, Max time.Duration
	// Samples is the number of latencies the percentiles were computed from.
	Samples int64
	// FirstError describes the first failed request, "" when none failed.
	FirstError string
	// Rejected400 and Throttled429 split the successful ModeBadPassword
	// requests: answered 400 invalid_grant (the password was checked and
	// wrong) or 429 (the login throttle refused without checking).
	Rejected400, Throttled429 int64
	// SourceAddrs is how many distinct loopback source addresses
	// ModeBadPassword workers sent from (0 for the default source).
	SourceAddrs int
	// Note, when not empty, is something the reader of the result must know,
	// such as source-address rotation being unavailable.
	Note string
	// Background is the result of Config.Background, nil without one.
	Background *Result
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p percent of
// the samples are at or below it. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The small epsilon keeps e.g. 99.9% of 1000 at rank 999 despite
	// floating point rounding.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// String formats r as one line, for logs.
func (r Result) String() string {
	return r.Mode + ": " + strconv.FormatInt(r.Requests, 10) + " requests, " +
		strconv.FormatInt(r.Errors, 10) + " errors, " + strconv.FormatFloat(r.RPS, 'f', 1, 64) + " req/s, p50 " +
		r.P50.String() + ", p99 " + r.P99.String() + ", p99.9 " + r.P999.String() + ", max " + r.Max.String()
}
