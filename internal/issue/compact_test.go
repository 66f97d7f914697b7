package issue

import (
	"testing"
	"time"
)

// TestCompactPayload: Knock's claim order, a Rails integer id as a JSON
// number, any other id as a string, no exp for an eternal token.
func TestCompactPayload(t *testing.T) {
	t.Parallel()
	exp := time.Unix(4102444800, 0)
	for _, tc := range []struct {
		name string
		exp  *time.Time
		sub  string
		aud  []string
		want string
	}{
		{"uuid", &exp, "123e4567-e89b-12d3-a456-426614174000", []string{"api"},
			`{"exp":4102444800,"sub":"123e4567-e89b-12d3-a456-426614174000","aud":["api"],"jti":"j"}`},
		{"integer", &exp, "42", []string{"api"}, `{"exp":4102444800,"sub":42,"aud":["api"],"jti":"j"}`},
		{"leading zero", &exp, "042", []string{"api"}, `{"exp":4102444800,"sub":"042","aud":["api"],"jti":"j"}`},
		{"too big for bigint", &exp, "99999999999999999999", []string{"api"}, `{"exp":4102444800,"sub":"99999999999999999999","aud":["api"],"jti":"j"}`},
		{"eternal", nil, "7", []string{"api", "kiosk"}, `{"sub":7,"aud":["api","kiosk"],"jti":"j"}`},
		{"quotes", &exp, `a"b`, nil, `{"exp":4102444800,"sub":"a\"b","aud":[],"jti":"j"}`},
	} {
		if got := string(CompactPayload(tc.exp, tc.sub, tc.aud, "j")); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
