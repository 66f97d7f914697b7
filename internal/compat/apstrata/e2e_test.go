package apstrata_test

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// The client side of these tests signs from the wiki's description
// ("Simple Signature Type", "Default Signature Type") and the SDK's
// Connection.js, written apart from the server's code on purpose.

const (
	ownerSecret = "qwerty-owner-secret"
	devicePass  = "r2d2-password"
	userPass    = "alice password"
	userLogin   = "alice@example.com"
	deviceID    = "r2d2"
	accountKey  = "X735F0C3PO"
)

type fixture struct {
	s    *apptest.Server
	key  string
	base string
}

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

func backends(t *testing.T, f func(t *testing.T, fx *fixture)) {
	for _, b := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, setup(t, b.url(t)))
		})
	}
}

func setup(t *testing.T, dbURL string) *fixture {
	t.Helper()
	return setupWith(t, dbURL, apptest.Options{})
}

func setupWith(t *testing.T, dbURL string, o apptest.Options) *fixture {
	t.Helper()
	s := apptest.StartWith(t, dbURL, o)
	a := s.Admin
	s.Call(t, "POST", "/v1/tenants", a, map[string]any{"id": "acct", "policy": map[string]any{"allow_eternal": true, "token_limit": 4}}, 201)
	s.Call(t, "POST", "/v1/tenants/acct/roles", a, map[string]any{"name": "app", "scopes": []string{"read"}}, 201)
	s.Call(t, "POST", "/v1/tenants/acct/devices", a, map[string]any{"id": deviceID, "type": "device", "roles": []string{"app"}}, 201)
	u := s.Call(t, "POST", "/v1/tenants/acct/users", a, map[string]any{"login": userLogin, "password": "a-tokend-password-1", "roles": []string{"app"}}, 201)
	uid, _ := u["id"].(string)
	s.Call(t, "POST", "/v1/tenants/acct/clients", a, map[string]any{"id": "owner", "scopes": []string{"tokend:admin"}}, 201)
	s.Call(t, "PUT", "/v1/tenants/acct/devices/"+deviceID+"/legacy-secret", a, map[string]any{"password": devicePass}, 204)
	s.Call(t, "PUT", "/v1/tenants/acct/users/"+uid+"/legacy-secret", a, map[string]any{"password_md5": md5hex(userPass)}, 204)
	s.Call(t, "PUT", "/v1/tenants/acct/clients/owner/legacy-secret", a, map[string]any{"secret": ownerSecret}, 204)
	s.Call(t, "PUT", "/v1/tenants/acct/surfaces/apstrata", a, map[string]any{"account_key": accountKey, "owner_client": "owner"}, 200)
	return &fixture{s: s, key: accountKey, base: s.URL + "/apsdb/rest/" + accountKey + "/"}
}

// simple signs the way Connection.js does.
func simpleSig(ts, who, action, secret string) string { return md5hex(ts + who + action + secret) }

var lastMilli atomic.Int64

// now is the SDK's apsws.time, milliseconds, one value per request (a
// simple signature covers only time, identifier and action: two alike
// within a millisecond would be one signature, used twice).
func now() string {
	for {
		last, n := lastMilli.Load(), time.Now().UnixMilli()
		if n <= last {
			n = last + 1
		}
		if lastMilli.CompareAndSwap(last, n) {
			return strconv.FormatInt(n, 10)
		}
	}
}

func (fx *fixture) ownerSimple(action string, p url.Values) url.Values {
	ts := now()
	p.Set("apsws.time", ts)
	p.Set("apsws.authMode", "simple")
	p.Set("apsws.authSig", simpleSig(ts, fx.key, action, ownerSecret))
	return p
}

func (fx *fixture) userSimple(action, login, password string, p url.Values) url.Values {
	ts := now()
	p.Set("apsws.time", ts)
	p.Set("apsws.authMode", "simple")
	p.Set("apsws.id", login)
	p.Set("apsws.authSig", simpleSig(ts, login, action, strings.ToUpper(md5hex(password))))
	return p
}

// complexSig is the "Default Signature Type": HMAC-SHA1 over the method,
// the encoded URL and the sorted encoded pairs.
func complexSig(method, rawURL string, p url.Values, secret string, b64 bool) string {
	enc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
				b.WriteByte(c)
			} else {
				b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
			}
		}
		return b.String()
	}
	var pairs []string
	for k, vs := range p {
		for _, v := range vs {
			pairs = append(pairs, enc(k)+"="+enc(v))
		}
	}
	sort.Strings(pairs)
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(method + "\n" + enc(rawURL) + "\n" + strings.Join(pairs, "&")))
	if b64 {
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return hex.EncodeToString(m.Sum(nil))
}

type answer struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   struct {
		Response struct {
			Metadata struct{ RequestID, Status, ErrorCode, ErrorDetail string } `json:"metadata"`
			Result   map[string]string                                          `json:"result"`
		} `json:"response"`
	}
}

func (a answer) code() string   { return a.JSON.Response.Metadata.ErrorCode }
func (a answer) detail() string { return a.JSON.Response.Metadata.ErrorDetail }
func (a answer) tok() string    { return a.JSON.Response.Result["apsdb.authToken"] }

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.JSON); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	return a
}

func (fx *fixture) get(t *testing.T, action string, p url.Values, hdr ...string) answer {
	t.Helper()
	req, _ := http.NewRequest("GET", fx.base+action+"?"+p.Encode(), nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, req)
}

func (fx *fixture) post(t *testing.T, action string, p url.Values, hdr ...string) answer {
	t.Helper()
	req, _ := http.NewRequest("POST", fx.base+action, strings.NewReader(p.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, req)
}

func js(p url.Values) url.Values { p.Set("apsws.responseType", "json"); return p }

var hexToken = regexp.MustCompile(`^[0-9A-F]{32}$`)

func wantOK(t *testing.T, a answer) answer {
	t.Helper()
	if a.Status != 200 || a.JSON.Response.Metadata.Status != "success" {
		t.Fatalf("want success: %d %s", a.Status, a.Raw)
	}
	return a
}

func wantErr(t *testing.T, a answer, status int, code, detail string) {
	t.Helper()
	if a.Status != status || a.code() != code || (detail != "" && a.detail() != detail) {
		t.Fatalf("want %d %s %q: got %d %s", status, code, detail, a.Status, a.Raw)
	}
}

// TestSignaturesAndTokens: both signature modes from owner, user and
// device; the token's form; using, renewing and deleting it.
func TestSignaturesAndTokens(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, fx *fixture) {
		// Device, simple mode, neither expiry nor lifetime: eternal.
		a := wantOK(t, fx.get(t, "GenerateToken", js(fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{}))))
		if !hexToken.MatchString(a.tok()) || a.JSON.Response.Result["apsdb.tokenExpires"] != "0" {
			t.Fatalf("device token %s", a.Raw)
		}
		// Token mode verifies; RenewToken refuses an eternal token.
		tp := func(tok string) url.Values {
			return js(url.Values{"apsws.time": {now()}, "apsws.authMode": {"token"}, "apsws.id": {deviceID}, "apsdb.authToken": {tok}})
		}
		wantOK(t, fx.get(t, "VerifyCredentials", tp(a.tok())))
		wantOK(t, fx.get(t, "VerifyCredentials", tp(strings.ToLower(a.tok()))))
		wantErr(t, fx.post(t, "RenewToken", tp(a.tok())), 400, "INVALID_REQUEST", "")
		// DeleteToken revokes it.
		wantOK(t, fx.post(t, "DeleteToken", tp(a.tok())))
		wantErr(t, fx.get(t, "VerifyCredentials", tp(a.tok())), 400, "INVALID_SIGNATURE", "")

		// User, simple mode, by login, XML by default.
		p := fx.userSimple("GenerateToken", userLogin, userPass, url.Values{"apsdb.tokenExpires": {"60"}, "apsdb.tokenLifetime": {"600"}})
		x := fx.post(t, "GenerateToken", p)
		var xr struct {
			Metadata struct {
				Status string `xml:"status"`
			} `xml:"metadata"`
			Result struct {
				Token    string `xml:"apsdb.authToken"`
				Expires  string `xml:"apsdb.tokenExpires"`
				Lifetime string `xml:"apsdb.tokenLifetime"`
			} `xml:"result"`
		}
		if err := xml.Unmarshal(x.Raw, &xr); err != nil || x.Status != 200 || xr.Metadata.Status != "success" || !hexToken.MatchString(xr.Result.Token) ||
			xr.Result.Expires != "60" || xr.Result.Lifetime != "600" {
			t.Fatalf("user token in XML: %d %s %v", x.Status, x.Raw, err)
		}
		// Replay is refused.
		wantErr(t, fx.post(t, "GenerateToken", js(p)), 400, "INVALID_SIGNATURE", "The signature was already used")
		// Renew: a new token, the old one valid a few seconds more.
		up := func(tok string) url.Values {
			return js(url.Values{"apsws.time": {now()}, "apsws.authMode": {"token"}, "apsws.id": {userLogin}, "apsdb.authToken": {tok}})
		}
		r := wantOK(t, fx.post(t, "RenewToken", up(xr.Result.Token)))
		if r.tok() == xr.Result.Token || !hexToken.MatchString(r.tok()) {
			t.Fatalf("renewed %s", r.Raw)
		}
		wantOK(t, fx.get(t, "VerifyCredentials", up(xr.Result.Token)))
		wantErr(t, fx.post(t, "RenewToken", up(xr.Result.Token)), 400, "INVALID_REQUEST", "")
		// The token is the identifier's only.
		wantErr(t, fx.get(t, "VerifyCredentials", js(url.Values{"apsws.time": {now()}, "apsws.authMode": {"token"}, "apsws.id": {deviceID}, "apsdb.authToken": {r.tok()}})), 400, "INVALID_SIGNATURE", "")

		// Complex mode (the default), hex and base64, owner for a device
		// with runAs.
		for _, b64 := range []bool{false, true} {
			q := url.Values{"apsws.time": {now()}, "apsdb.runAs": {deviceID}, "apsws.responseType": {"json"}, "apsdb.tokenExpires": {"120"}}
			q.Set("apsws.authSig", complexSig("POST", fx.base+"GenerateToken", q, ownerSecret, b64))
			a := wantOK(t, fx.post(t, "GenerateToken", q))
			if a.JSON.Response.Result["apsdb.tokenExpires"] != "120" || a.JSON.Response.Result["apsdb.tokenLifetime"] != "7200" {
				t.Fatalf("owner runAs token %s", a.Raw)
			}
		}
		// The owner, for a user with runAs; then renews and deletes that
		// token on the user's behalf.
		a = wantOK(t, fx.post(t, "GenerateToken", js(fx.ownerSimple("GenerateToken", url.Values{"apsdb.runAs": {userLogin}, "apsdb.bindReferrer": {"false"}}))))
		r = wantOK(t, fx.post(t, "RenewToken", js(fx.ownerSimple("RenewToken", url.Values{"apsdb.runAs": {userLogin}, "apsdb.authToken": {a.tok()}}))))
		wantErr(t, fx.post(t, "RenewToken", js(fx.ownerSimple("RenewToken", url.Values{"apsdb.runAs": {deviceID}, "apsdb.authToken": {r.tok()}}))), 400, "INVALID_SIGNATURE", "")
		wantOK(t, fx.post(t, "DeleteToken", js(fx.ownerSimple("DeleteToken", url.Values{"apsdb.runAs": {userLogin}, "apsdb.authToken": {r.tok()}}))))
		wantErr(t, fx.get(t, "VerifyCredentials", up(r.tok())), 400, "INVALID_SIGNATURE", "")
		// A user cannot renew with a signature, nor with runAs.
		wantErr(t, fx.post(t, "RenewToken", js(fx.userSimple("RenewToken", userLogin, userPass, url.Values{"apsdb.authToken": {a.tok()}}))), 400, "INVALID_REQUEST", "")
		wantErr(t, fx.post(t, "RenewToken", func() url.Values { v := up(a.tok()); v.Set("apsdb.runAs", deviceID); return v }()), 400, "INVALID_PARAMETER", "Invalid parameter apsdb.runAs")

		// Complex mode, user, GET with the parameters in the query.
		q := url.Values{"apsws.time": {now()}, "apsws.id": {userLogin}, "apsws.responseType": {"json"}, "apsdb.bindReferrer": {"false"}}
		q.Set("apsws.authSig", complexSig("GET", fx.base+"GenerateToken", q, strings.ToUpper(md5hex(userPass)), false))
		a = wantOK(t, fx.get(t, "GenerateToken", q))
		if a.JSON.Response.Result["apsdb.tokenExpires"] != "1800" || a.JSON.Response.Result["apsdb.tokenLifetime"] != "7200" {
			t.Fatalf("user defaults %s", a.Raw)
		}
		// A complex signature over other parameters fails.
		q = url.Values{"apsws.time": {now()}, "apsws.id": {deviceID}, "apsws.responseType": {"json"}}
		q.Set("apsws.authSig", complexSig("GET", fx.base+"GenerateToken", q, strings.ToUpper(md5hex(devicePass)), false))
		q.Set("apsdb.tokenExpires", "10")
		wantErr(t, fx.get(t, "GenerateToken", q), 400, "INVALID_SIGNATURE", "")
	})
}
