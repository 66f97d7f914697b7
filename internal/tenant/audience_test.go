package tenant

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/store"
)

func TestCheckAudience(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		aud  string
		ok   bool
	}{
		{name: "a name", aud: "api", ok: true},
		{name: "an https URI", aud: "https://orders.example.com", ok: true},
		{name: "a URN", aud: "urn:example:orders", ok: true},
		{name: "a URI with path and query", aud: "https://api.example.com/v1?x=1", ok: true},
		{name: "512 characters", aud: strings.Repeat("a", 512), ok: true},
		{name: "empty", aud: ""},
		{name: "513 characters", aud: strings.Repeat("a", 513)},
		{name: "a space", aud: "my api"},
		{name: "a tab", aud: "api\tx"},
		{name: "a newline", aud: "api\n"},
		{name: "DEL", aud: "api\x7f"},
		{name: "NUL", aud: "api\x00"},
		{name: "not a URI", aud: "http://[::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if msg := CheckAudience(tc.aud); (msg == "") != tc.ok {
				t.Fatalf("CheckAudience(%q) = %q, want ok %v", tc.aud, msg, tc.ok)
			}
		})
	}
}

func TestDefaultAudience(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy store.Policy
		want   []string
	}{
		{name: "the issuer URL", want: []string{"https://id.example.com/t/shop"}},
		{name: "the policy's", policy: store.Policy{DefaultAudience: "api"}, want: []string{"api"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := DefaultAudience("https://id.example.com", "shop", tc.policy); !slices.Equal(got, tc.want) {
				t.Fatalf("DefaultAudience = %q, want %q", got, tc.want)
			}
		})
	}
}
