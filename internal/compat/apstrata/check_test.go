package apstrata_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUseAtCheck: a resource server behind /t/{tenant}/check, and RFC
// 7662 introspection, accept apstrata's token forms, with the referrer
// binding enforced; a bearer token seen over plain HTTP is revoked.
func TestUseAtCheck(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, fx *fixture) {
		check := func(q string, hdr ...string) (int, string) {
			t.Helper()
			req := mustReq(t, "GET", fx.s.URL+"/t/acct/check"+q)
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("X-Tokend-Subject")
		}
		bearer := func(key, id, tok string) string {
			return "Bearer " + base64.StdEncoding.EncodeToString([]byte(key+":"+id+":"+tok))
		}
		dev := wantOK(t, fx.get(t, "GenerateToken", js(fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{"apsdb.tokenExpires": {"600"}})))).tok()
		if st, sub := check("", "Authorization", bearer(fx.key, deviceID, dev)); st != 200 || sub != deviceID {
			t.Fatalf("bearer form: %d %q", st, sub)
		}
		q := "?" + url.Values{"apsws.authMode": {"token"}, "apsdb.authToken": {dev}, "apsws.id": {deviceID}}.Encode()
		if st, sub := check(q); st != 200 || sub != deviceID {
			t.Fatalf("parameter form: %d %q", st, sub)
		}
		if st, _ := check("", "X-Original-Uri", "/api/x"+q); st != 200 {
			t.Fatalf("parameters in the forwarded URI: %d", st)
		}
		for name, h := range map[string]string{
			"another identifier": bearer(fx.key, userLogin, dev),
			"another key":        bearer("OTHERKEY", deviceID, dev),
			"not a token":        bearer(fx.key, deviceID, strings.Repeat("A", 32)),
		} {
			if st, _ := check("", "Authorization", h); st != 401 {
				t.Errorf("%s: %d", name, st)
			}
		}
		// Introspection sees the hex token.
		rs := fx.s.Call(t, "POST", "/v1/tenants/acct/clients", fx.s.Admin, map[string]any{"id": "rs", "grant_types": []string{"client_credentials"}, "scopes": []string{"tokend:introspect"}}, 201)
		req, _ := http.NewRequest("POST", fx.s.URL+"/t/acct/oauth2/introspect", strings.NewReader(url.Values{"token": {dev}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("rs", rs["client_secret"].(string))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var in map[string]any
		_ = json.Unmarshal(raw, &in)
		if in["active"] != true || in["sub"] != deviceID {
			t.Fatalf("introspection: %d %s", resp.StatusCode, raw)
		}

		// A user token bound to its referrer.
		usr := wantOK(t, fx.get(t, "GenerateToken", js(fx.userSimple("GenerateToken", userLogin, userPass, url.Values{})), "Referer", "https://app.example.com/")).tok()
		if st, _ := check("", "Authorization", bearer(fx.key, userLogin, usr), "Referer", "https://app.example.com/x"); st != 200 {
			t.Fatalf("bound user token from its referrer: %d", st)
		}
		if st, _ := check("", "Authorization", bearer(fx.key, userLogin, usr), "Referer", "https://evil.example.net/"); st != 401 {
			t.Fatalf("bound user token from another referrer: %d", st)
		}

		// Over plain HTTP (as the proxy reports) the bearer token is revoked.
		if st, _ := check("", "Authorization", bearer(fx.key, deviceID, dev), "X-Forwarded-Proto", "http"); st != 401 {
			t.Fatalf("bearer over plain http: %d", st)
		}
		if st, _ := check(q); st != 401 {
			t.Fatalf("token still usable after plain http: %d", st)
		}
	})
}
