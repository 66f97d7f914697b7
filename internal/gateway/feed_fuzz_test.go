package gateway

import (
	"net/url"
	"testing"

	"github.com/tokend/tokend/internal/fault"
)

// FuzzIntParam: the feed's cursor, limit and wait parameters are either
// within their bounds or refused with invalid_request naming the field.
func FuzzIntParam(f *testing.F) {
	for _, s := range []string{"", "0", "42", "-1", "9223372036854775807", "1e3", " 7", "+5", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		const lo, hi = 0, 1 << 62
		q := url.Values{}
		if v != "" {
			q.Set("after", v)
		}
		n, err := intParam(q, "after", 7, lo, hi)
		if err != nil {
			if fe := fault.As(err); fe == nil || fe.Code != fault.CodeInvalidRequest || fe.Field != "after" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if v == "" && n != 7 {
			t.Fatalf("default %d, want 7", n)
		}
		if n < lo || n > hi {
			t.Fatalf("%q gave %d, outside [%d, %d]", v, n, lo, hi)
		}
	})
}
