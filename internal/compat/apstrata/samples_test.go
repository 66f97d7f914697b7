package apstrata_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

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
	// Over plain HTTP from another machine GenerateToken is refused;
	// the test server is on loopback, so only the unit of the rule is
	// seen here (Secure): see doc.go.
	if !strings.HasPrefix(fx.base, "http://127.0.0.1") {
		t.Fatalf("base %s", fx.base)
	}
}
