package apstrata_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/golden"
)

// TestErrors: every error of the seed's table, in JSON, with its status;
// force200 and JSONP; a refused request changes nothing.
func TestErrors(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, fx *fixture) {
		dev := func(p url.Values) url.Values { return js(fx.userSimple("GenerateToken", deviceID, devicePass, p)) }
		usr := func(p url.Values) url.Values { return js(fx.userSimple("GenerateToken", userLogin, userPass, p)) }
		for _, tc := range []struct {
			name         string
			p            url.Values
			hdr          []string
			code, detail string
		}{
			{"unknown parameter", dev(url.Values{"apsdb.store": {"x"}}), nil, "INVALID_PARAMETER", "The parameter [apsdb.store] is not allowed in GenerateToken"},
			{"runAs from a device", dev(url.Values{"apsdb.runAs": {userLogin}}), nil, "INVALID_PARAMETER", "Invalid parameter apsdb.runAs"},
			{"anonymous", js(url.Values{"apsws.time": {now()}}), nil, "INVALID_REQUEST", "GenerateToken must not be called anonymously"},
			{"owner for itself", js(fx.ownerSimple("GenerateToken", url.Values{})), nil, "INVALID_REQUEST", "GenerateToken must not be called anonymously"},
			{"expires not a number", dev(url.Values{"apsdb.tokenExpires": {"ten"}}), nil, "INVALID_PARAMETER_VALUE", "The parameter [apsdb.tokenExpires] is not a valid number."},
			{"lifetime not a number", dev(url.Values{"apsdb.tokenLifetime": {"1.5"}}), nil, "INVALID_PARAMETER_VALUE", "The parameter [apsdb.tokenLifetime] is not a valid number."},
			{"expires zero", dev(url.Values{"apsdb.tokenExpires": {"0"}}), nil, "INVALID_PARAMETER_VALUE", "The parameter [apsdb.tokenExpires] can't be a zero or a negative number."},
			{"lifetime negative", dev(url.Values{"apsdb.tokenLifetime": {"-5"}}), nil, "INVALID_PARAMETER_VALUE", "The parameter [apsdb.tokenLifetime] can't be a zero or a negative number."},
			{"lifetime too long", dev(url.Values{"apsdb.tokenLifetime": {"604801"}}), nil, "INVALID_PARAMETER_VALUE", "The parameter [apsdb.Lifetime] must be equal to or less than [604800]"},
			{"expires too long", dev(url.Values{"apsdb.tokenExpires": {"86401"}}), nil, "INVALID_PARAMETER_VALUE", "The parameter [apsdb.tokenExpires] must be equal to or less than [86400]"},
			{"expires beyond lifetime", dev(url.Values{"apsdb.tokenExpires": {"900"}, "apsdb.tokenLifetime": {"600"}}), nil, "INVALID_PARAMETER_VALUE", "The parameter [apsdb.tokenExpires: 900] must be equal to or less than [apsdb.tokenLifetime: 600]"},
			{"bad signature", js(url.Values{"apsws.time": {now()}, "apsws.authMode": {"simple"}, "apsws.id": {deviceID}, "apsws.authSig": {strings.Repeat("ab", 16)}}), nil, "INVALID_SIGNATURE", "The signature is not valid"},
			{"unknown identifier", js(fx.userSimple("GenerateToken", "nobody", devicePass, url.Values{})), nil, "INVALID_SIGNATURE", "The signature is not valid"},
			{"runAs unknown", js(fx.ownerSimple("GenerateToken", url.Values{"apsdb.runAs": {"nobody"}})), nil, "INVALID_IDENTIFIER", "The identifier [nobody] is not a valid device or user identifier"},
			{"malformed referer", usr(url.Values{}), []string{"Referer", "not a url"}, "MALFORMED_REFERER", "Invalid originating referrer from the Referer header [not a url]"},
			{"time far away", js(url.Values{"apsws.time": {"1234567890"}, "apsws.authMode": {"simple"}, "apsws.id": {deviceID}, "apsws.authSig": {strings.Repeat("ab", 16)}}), nil, "INVALID_SIGNATURE", "The parameter [apsws.time] is too far from the server's time"},
		} {
			a := fx.get(t, "GenerateToken", tc.p, tc.hdr...)
			wantErr(t, a, 400, tc.code, tc.detail)
			if tc.name != "bad signature" {
				golden.Assert(t, "error_"+strings.ReplaceAll(tc.name, " ", "_"), norm(t, a))
			}
		}
		// An unknown action, another method.
		wantErr(t, fx.get(t, "CreateStore", js(url.Values{"apsws.time": {now()}})), 400, "INVALID_REQUEST", "The action [CreateStore] is not supported")
		req0 := mustReq(t, "PUT", fx.base+"GenerateToken?apsws.responseType=json")
		if a := do(t, req0); a.Status != 405 || a.code() != "INVALID_REQUEST" {
			t.Fatalf("PUT: %d %s", a.Status, a.Raw)
		}
		// Unknown account key.
		a := do(t, mustReq(t, "GET", fx.s.URL+"/apsdb/rest/nokey/GenerateToken?apsws.responseType=json&apsws.time="+now()))
		wantErr(t, a, 400, "INVALID_SIGNATURE", "The authentication key [nokey] is not valid")

		// Token limit (tenant token_limit 4): the fifth live token is refused.
		for i := 0; i < 4; i++ {
			wantOK(t, fx.get(t, "GenerateToken", dev(url.Values{"apsdb.tokenExpires": {"60"}})))
		}
		a = fx.get(t, "GenerateToken", dev(url.Values{"apsdb.tokenExpires": {"60"}}))
		wantErr(t, a, 400, "TOO_MANY_TOKENS", "The total number of tokens must not exceed [4]")
		golden.Assert(t, "error_too_many_tokens", norm(t, a))

		// force200 and JSONP.
		a = fx.get(t, "GenerateToken", url.Values{"apsws.time": {now()}, "apsdb.force200ResponseStatus": {"true"}, "apsws.responseType": {"json"}})
		if a.Status != 200 || a.code() != "INVALID_REQUEST" {
			t.Fatalf("force200: %d %s", a.Status, a.Raw)
		}
		req := mustReq(t, "GET", fx.base+"GenerateToken?apsws.time="+now()+"&apsws.jc=app.cb")
		golden.Assert(t, "jsonp_failure", norm(t, nil, golden.Fetch(t, req)))
		wantErr(t, fx.get(t, "GenerateToken", url.Values{"apsws.time": {now()}, "apsws.jc": {"alert(1)//"}, "apsws.responseType": {"json"}}), 400, "INVALID_PARAMETER_VALUE", "The parameter [apsws.jc] must be a JavaScript identifier")

		// The seed's failure sample in XML.
		req = mustReq(t, "GET", fx.base+"GenerateToken?apsws.time="+now())
		golden.Assert(t, "sample_failure_xml", norm(t, nil, golden.Fetch(t, req)))
	})
}

func mustReq(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

var (
	uuidRe  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	tokenRe = regexp.MustCompile(`\b[0-9A-F]{32}\b`)
)

// norm renders an answer (or takes a rendered one) with the request id
// and token replaced.
func norm(t *testing.T, a any, rendered ...[]byte) []byte {
	t.Helper()
	var b []byte
	if len(rendered) > 0 {
		b = rendered[0]
	} else {
		an := a.(answer)
		b = append([]byte("HTTP "+http.StatusText(an.Status)+"\nContent-Type: "+an.Header.Get("Content-Type")+"\n\n"), an.Raw...)
	}
	b = uuidRe.ReplaceAll(b, []byte("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"))
	return tokenRe.ReplaceAll(b, []byte("<token>"))
}
