package authn

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLegacyCanonical: the wiki's "Default Signature Type" example.
func TestLegacyCanonical(t *testing.T) {
	t.Parallel()
	p := url.Values{"apsdb.store": {"myStore"}, "additionalParam1": {"value1"}, "apsws.time": {"1234567890"}, "apsws.authSig": {"x"}}
	const u = "http://sandbox.apstrata.com/sandbox-apsdb/rest/authenticationkey/CreateStore"
	want := "POST\nhttp%3A%2F%2Fsandbox.apstrata.com%2Fsandbox%2Dapsdb%2Frest%2Fauthenticationkey%2FCreateStore\nadditionalParam1=value1&apsdb.store=myStore&apsws.time=1234567890"
	if got := legacyCanonical("post", u, p, "apsws.authSig", true); got != want {
		t.Fatalf("with %%2D:\n%q\nwant\n%q", got, want)
	}
	if got := LegacyCanonical("POST", u, p, "apsws.authSig"); got != strings.ReplaceAll(want, "%2D", "-") {
		t.Fatalf("RFC 3986:\n%q", got)
	}
	// Spaces are %20 and * is %2A.
	if got := LegacyCanonical("GET", "h", url.Values{"a b": {"x*y"}}, ""); got != "GET\nh\na%20b=x%2Ay" {
		t.Fatalf("escaping: %q", got)
	}
}

// TestLegacySignatureForms: simple signatures in either hex case, complex
// ones in hex and base64; anything else fails.
func TestLegacySignatureForms(t *testing.T) {
	t.Parallel()
	// The wiki's simple example: 1234567890 + asdfg + CreateStore + qwerty.
	h := md5.Sum([]byte("1234567890asdfgCreateStoreqwerty"))
	sig := hex.EncodeToString(h[:])
	for _, s := range []string{sig, strings.ToUpper(sig)} {
		if _, ok := simpleValid([]byte("qwerty"), "1234567890asdfgCreateStore", s); !ok {
			t.Errorf("simple %q refused", s)
		}
	}
	for _, s := range []string{"", sig[:30], sig + "00", strings.Repeat("0", 32)} {
		if _, ok := simpleValid([]byte("qwerty"), "1234567890asdfgCreateStore", s); ok {
			t.Errorf("simple %q accepted", s)
		}
	}
	m := hmac.New(sha1.New, []byte("secret"))
	m.Write([]byte("canon"))
	mac := m.Sum(nil)
	for _, s := range []string{hex.EncodeToString(mac), strings.ToUpper(hex.EncodeToString(mac)), base64.StdEncoding.EncodeToString(mac)} {
		if _, ok := complexValid([]byte("secret"), "canon", s); !ok {
			t.Errorf("complex %q refused", s)
		}
	}
	if _, ok := complexValid([]byte("secret"), "other", hex.EncodeToString(mac)); ok {
		t.Error("complex signature of another string accepted")
	}
}

// TestLegacyTime: seconds and milliseconds.
func TestLegacyTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Time{
		"1234567890":    time.Unix(1234567890, 0),
		"1234567890123": time.UnixMilli(1234567890123),
	} {
		if got, ok := LegacyTime(in); !ok || !got.Equal(want) {
			t.Errorf("LegacyTime(%q) = %v, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "x", "-1", "0", "1.5"} {
		if _, ok := LegacyTime(bad); ok {
			t.Errorf("LegacyTime(%q) accepted", bad)
		}
	}
}
