package httpx

import (
	"net/http"
	"strconv"
	"time"
)

// DefaultRetryAfter is the Retry-After of a 429 or 503 answer whose wait is
// not known (RFC 9110 §10.2.3; RFC 6585 §4): a database outage or a
// deadline passed gives fast 503s, so a short wait costs little.
const DefaultRetryAfter = 2 * time.Second

// setRetryAfter sets h's Retry-After to d, in whole seconds rounded up.
func setRetryAfter(h http.Header, d time.Duration) {
	if d > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
}

// defaultRetryAfter gives every 429 and 503 answer a Retry-After, whatever
// wrote it, unless a more precise one is already set.
func defaultRetryAfter(h http.Header, status int) {
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && h.Get("Retry-After") == "" {
		setRetryAfter(h, DefaultRetryAfter)
	}
}
