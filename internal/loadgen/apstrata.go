package loadgen

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/signing"
)

// Seed 004's token minting, measured side by side (ClientID is the
// device id, ClientSecret its secret):
//
//   - ModeSignedDevice: tokend's own signed request, POST
//     /t/{Tenant}/tokens/generate, ClientSecret the device's signing
//     secret (package signing);
//   - ModeApstrata: the apstrata surface, POST
//     /apsdb/rest/{AccountKey}/GenerateToken signed in complex mode
//     (HMAC-SHA1, wiki "Default Signature Type") with the device's
//     ApstrataPassword.
//
// Each request carries a unique parameter, so that no signature repeats
// (each is accepted once).
const (
	ModeSignedDevice = "signed-device"
	ModeApstrata     = "apstrata"
)

// prepareSignedDevice is ModeSignedDevice.
func prepareSignedDevice(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	path := "/t/" + url.PathEscape(c.Tenant) + "/tokens/generate"
	t := &target{url: strings.TrimRight(c.Endpoint, "/") + path}
	nonce := strconv.FormatUint(rand.Uint64()>>20, 36)
	t.next = func(w *worker) (func() []byte, checkFunc, error) {
		n := 0
		prefix := nonce + "-" + strconv.Itoa(w.id) + "-"
		build := func() []byte {
			n++
			p := url.Values{"principal": {"device:" + c.ClientID}, "ts": {strconv.FormatInt(time.Now().Unix(), 10)},
				"expires_in": {"600"}, "lifetime": {"3600"}, "n": {prefix + strconv.Itoa(n)}}
			p.Set("sig", signing.Sign(c.ClientSecret, http.MethodPost, path, p))
			return []byte(p.Encode())
		}
		return build, expectStatus200, nil
	}
	return t, nil
}

// prepareApstrata is ModeApstrata.
func prepareApstrata(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	u := strings.TrimRight(c.Endpoint, "/") + "/apsdb/rest/" + url.PathEscape(c.AccountKey) + "/GenerateToken"
	t := &target{url: u}
	h := md5.Sum([]byte(c.ApstrataPassword))
	key := []byte(strings.ToUpper(hex.EncodeToString(h[:])))
	nonce := strconv.FormatUint(rand.Uint64()>>20, 36)
	t.next = func(w *worker) (func() []byte, checkFunc, error) {
		n := 0
		prefix := nonce + "-" + strconv.Itoa(w.id) + "-"
		build := func() []byte {
			n++
			p := url.Values{"apsws.time": {strconv.FormatInt(time.Now().UnixMilli(), 10)}, "apsws.id": {c.ClientID},
				"apsws.responseType": {"json"}, "apsdb.tokenExpires": {"600"}, "apsdb.tokenLifetime": {"3600"},
				"apsws.customField": {prefix + strconv.Itoa(n)}}
			p.Set("apsws.authSig", apstrataSig(key, u, p))
			return []byte(p.Encode())
		}
		return build, expectStatus200, nil
	}
	return t, nil
}

// apstrataSig is the complex signature of a POST to u with parameters p.
func apstrataSig(key []byte, u string, p url.Values) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	pairs := make([]string, 0, len(p))
	for k, vs := range p {
		for _, v := range vs {
			pairs = append(pairs, esc(k)+"="+esc(v))
		}
	}
	sort.Strings(pairs)
	m := hmac.New(sha1.New, key)
	m.Write([]byte("POST\n" + esc(u) + "\n" + strings.Join(pairs, "&")))
	return hex.EncodeToString(m.Sum(nil))
}
