package signing_test

import (
	"net/url"
	"testing"

	"github.com/tokend/tokend/signing"
)

// TestGolden pins the wire format: other languages reproduce these bytes.
func TestGolden(t *testing.T) {
	t.Parallel()
	p := url.Values{"ts": {"1764061200"}, "principal": {"device:kiosk-1"}, "expires_in": {"600"}, "scope": {"orders:read orders:write"}, "sig": {"ignored"}}
	want := "POST\n/t/shop/tokens/generate\nexpires_in=600&principal=device%3Akiosk-1&scope=orders%3Aread%20orders%3Awrite&ts=1764061200"
	if got := signing.Canonical("post", "/t/shop/tokens/generate", p); got != want {
		t.Fatalf("Canonical =\n%q\nwant\n%q", got, want)
	}
	// printf '%s' "$CANONICAL" | openssl dgst -sha256 -hmac tkd_ss_secret
	const golden = "76bddb1cbcd7e870dac0ea432b66ac9e3628d95fe834003b084471bdf18ee557"
	const wrong = "0b6a5b3c3f8b4b1e6c4e3f6d9f3f0e8a3d7b0e5c2a1f9d8c7b6a5f4e3d2c1b0a"
	got := signing.Sign("tkd_ss_secret", "POST", "/t/shop/tokens/generate", p)
	if got != golden {
		t.Fatalf("signature %q, want the openssl result %q", got, golden)
	}
	if !signing.Valid([]byte("tkd_ss_secret"), "POST", "/t/shop/tokens/generate", p, got) {
		t.Fatal("a signature does not validate")
	}
	if signing.Valid([]byte("tkd_ss_other"), "POST", "/t/shop/tokens/generate", p, got) || signing.Valid([]byte("tkd_ss_secret"), "POST", "/t/shop/tokens/generate", p, wrong) {
		t.Fatal("a wrong secret or signature validates")
	}
	p.Set("expires_in", "601")
	if signing.Valid([]byte("tkd_ss_secret"), "POST", "/t/shop/tokens/generate", p, got) {
		t.Fatal("a changed parameter validates")
	}
}
