package gateway

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
)

// TestParseLegacy: seed 004's token forms are found in the bearer token
// (base64 of key:id:token), the query, and the URI a proxy forwards, their
// parameter names however percent-encoded; other bearer tokens and
// queries are not taken for them.
func TestParseLegacy(t *testing.T) {
	legacy := base64.StdEncoding.EncodeToString([]byte("acct-key:dev-1:tok123"))
	cases := []struct {
		name, target string
		headers      map[string]string
		want         legacyForm
		ok           bool
	}{
		{"bearer", "/t/x/check", map[string]string{"Authorization": "Bearer " + legacy},
			legacyForm{key: "acct-key", ident: "dev-1", token: "tok123", bearer: true}, true},
		{"bearer, lower-case scheme", "/t/x/check", map[string]string{"Authorization": "bearer  " + legacy + " "},
			legacyForm{key: "acct-key", ident: "dev-1", token: "tok123", bearer: true}, true},
		{"jwt", "/t/x/check", map[string]string{"Authorization": "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}, legacyForm{}, false},
		{"opaque", "/t/x/check", map[string]string{"Authorization": "Bearer tkd_at_abc-def_ghi"}, legacyForm{}, false},
		{"two parts", "/t/x/check", map[string]string{"Authorization": "Bearer " + base64.StdEncoding.EncodeToString([]byte("a:b"))}, legacyForm{}, false},
		{"query", "/t/x/check?apsws.authMode=token&apsdb.authToken=tok9&apsws.id=u1", nil,
			legacyForm{ident: "u1", token: "tok9"}, true},
		{"query, encoded name", "/t/x/check?apsws%2EauthMode=token&apsdb.authToken=tok9&apsws.id=u1", nil,
			legacyForm{ident: "u1", token: "tok9"}, true},
		{"query, other mode", "/t/x/check?apsws.authMode=simple&apsdb.authToken=tok9", nil, legacyForm{}, false},
		{"query, none", "/t/x/check?scope=read", nil, legacyForm{}, false},
		{"forwarded uri", "/t/x/check", map[string]string{"X-Forwarded-Uri": "/api?apsws.authMode=token&apsdb.authToken=t2&apsws.id=u2"},
			legacyForm{ident: "u2", token: "t2"}, true},
		{"original uri, encoded", "/t/x/check", map[string]string{"X-Original-Uri": "/api?apsws.auth%4Dode=token&apsdb.authToken=t3"},
			legacyForm{token: "t3"}, true},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", c.target, nil)
		for k, v := range c.headers {
			r.Header.Set(k, v)
		}
		got, ok := parseLegacy(r)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
