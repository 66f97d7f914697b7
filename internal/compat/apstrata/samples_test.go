package apstrata_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/golden"
)

// TestSeedSamples: the seed's sample request, GET with apsws.time and
// apsws.authSig in the query, answered as the seed's XML and JSON samples;
// the cookie and referrer rules of user tokens.
func TestSeedSamples(t *testing.T) {
	t.Parallel()
	fx := setup(t, "")
	p := fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{"apsdb.tokenExpires": {"1800"}, "apsdb.tokenLifetime": {"7200"}})
	golden.Assert(t, "sample_success_xml", norm(t, nil, golden.Fetch(t, mustReq(t, "GET", fx.base+"GenerateToken?"+p.Encode()))))
	p = js(fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{"apsdb.tokenExpires": {"1800"}, "apsdb.tokenLifetime": {"7200"}}))
	golden.Assert(t, "sample_success_json", norm(t, nil, golden.Fetch(t, mustReq(t, "GET", fx.base+"GenerateToken?"+p.Encode()))))

	// The JavaScript SDK's own URL (Connection.js): the login in
	// apsws.user, milliseconds, simple mode, JSON.
	ts := now()
	sdk := fx.base + "GenerateToken?apsws.time=" + ts + "&apsws.authSig=" + simpleSig(ts, userLogin, "GenerateToken", strings.ToUpper(md5hex(userPass))) +
		"&apsws.user=" + url.QueryEscape(userLogin) + "&apsws.responseType=json&apsws.authMode=simple&apsdb.bindReferrer=false"
	if a := do(t, mustReq(t, "GET", sdk)); a.Status != 200 || !hexToken.MatchString(a.tok()) {
		t.Fatalf("the SDK's request: %d %s", a.Status, a.Raw)
	}

	// A user's token in a cookie, bound to the Referer's origin.
	p = js(fx.userSimple("GenerateToken", userLogin, userPass, url.Values{"apsdb.tokenInCookie": {"true"}, "apsdb.tokenExpires": {"60"}, "apsdb.tokenLifetime": {"120"}}))
	a := wantOK(t, fx.post(t, "GenerateToken", p, "Referer", "https://app.example.com/page"))
	var tok string
	for _, c := range (&http.Response{Header: a.Header}).Cookies() {
		if c.Name == "apsdb.authToken" {
			tok = c.Value
		}
	}
	if a.tok() != "" || !hexToken.MatchString(tok) {
		t.Fatalf("cookie delivery: body %s, cookie %q", a.Raw, tok)
	}
	up := js(url.Values{"apsws.time": {now()}, "apsws.authMode": {"token"}, "apsws.id": {userLogin}, "apsdb.authToken": {tok}})
	wantErr(t, fx.post(t, "RenewToken", up, "Referer", "https://evil.example.net/"), 400, "INVALID_SIGNATURE", "The token is not valid: the token is bound to another referrer")
	up.Set("apsws.time", now())
	r := wantOK(t, fx.post(t, "RenewToken", up, "Referer", "https://app.example.com/other"))
	if r.JSON.Response.Result["apsdb.tokenLifetime"] == "" || !hexToken.MatchString(r.tok()) {
		t.Fatalf("renewal %s", r.Raw)
	}
}

// TestPlainHTTPRefused: GenerateToken and RenewToken from another machine
// over plain HTTP are refused (here the machine is named by a trusted
// proxy's X-Forwarded-For).
func TestPlainHTTPRefused(t *testing.T) {
	t.Parallel()
	fx := setupWith(t, "", apptest.Options{Config: func(c *config.Config) { c.TrustedProxies = "127.0.0.0/8" }})
	p := js(fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{}))
	wantErr(t, fx.get(t, "GenerateToken", p, "X-Forwarded-For", "203.0.113.7"), 400, "INVALID_REQUEST", "GenerateToken must be sent over https")
	a := wantOK(t, fx.get(t, "GenerateToken", p)) // nothing was used up: the same signature works from loopback
	tp := js(url.Values{"apsws.time": {now()}, "apsws.authMode": {"token"}, "apsws.id": {deviceID}, "apsdb.authToken": {a.tok()}})
	wantErr(t, fx.post(t, "RenewToken", tp, "X-Forwarded-For", "203.0.113.7"), 400, "INVALID_REQUEST", "RenewToken must be sent over https")
}
