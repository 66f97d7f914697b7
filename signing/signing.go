// Package signing is the wire format of tokend's signed token requests: a
// device, user or tenant owner proves its identity with an HMAC-SHA256 of
// the request under a signing secret tokend issued to it.
//
// The string to sign is three lines joined by "\n":
//
//	METHOD                (upper case, e.g. POST)
//	PATH                  (e.g. /t/shop/tokens/generate)
//	k1=v1&k2=v2&...       (every parameter but sig, sorted by name then
//	                       value, names and values percent-encoded as by
//	                       RFC 3986, space as %20)
//
// The parameters include ts, the current unix time in seconds (accepted
// within ±5 minutes of the server's clock), and principal (device:ID,
// user:ID or client:ID). sig is the lowercase hex HMAC-SHA256 of that
// string keyed with the signing secret (its UTF-8 bytes). Each signature
// is accepted once.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Window is how far a request's ts may be from the server's clock.
const Window = 5 * time.Minute

// InWindow reports whether ts (unix seconds) is within Window of now,
// either side, the bounds included.
func InWindow(ts int64, now time.Time) bool {
	d := now.Sub(time.Unix(ts, 0))
	return -Window <= d && d <= Window
}

// Canonical returns the string to sign.
func Canonical(method, path string, params url.Values) string {
	type kv struct{ k, v string }
	var all []kv
	for k, vs := range params {
		if k == "sig" {
			continue
		}
		for _, v := range vs {
			all = append(all, kv{k, v})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].k != all[j].k {
			return all[i].k < all[j].k
		}
		return all[i].v < all[j].v
	})
	parts := make([]string, len(all))
	for i, p := range all {
		parts[i] = escape(p.k) + "=" + escape(p.v)
	}
	return strings.ToUpper(method) + "\n" + path + "\n" + strings.Join(parts, "&")
}

// escape percent-encodes per RFC 3986 (unreserved characters kept).
func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// Sign returns the signature of a request: hex HMAC-SHA256 of Canonical.
func Sign(secret, method, path string, params url.Values) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(Canonical(method, path, params)))
	return hex.EncodeToString(m.Sum(nil))
}

// Valid reports whether sig is the signature of the request, in constant
// time.
func Valid(secret []byte, method, path string, params url.Values, sig string) bool {
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(Canonical(method, path, params)))
	return hmac.Equal(m.Sum(nil), want)
}
