package apstrata_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOrdinaryTokens: a token minted through the surface is an ordinary
// token: its audit event names the surface, it is listed and revocable
// by id, and the metrics count it with the surface label. Bad input to
// the admin import of credentials is refused with the field named.
func TestOrdinaryTokens(t *testing.T) {
	t.Parallel()
	fx := setup(t, "")
	a := wantOK(t, fx.get(t, "GenerateToken", js(fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{"apsdb.tokenExpires": {"60"}}))))
	au := fx.s.Call(t, "GET", "/v1/tenants/acct/audit", fx.s.Admin, nil, 200)
	found := ""
	for _, it := range au["items"].([]any) {
		e := it.(map[string]any)
		if d, _ := e["detail"].(map[string]any); d != nil && d["surface"] == "apstrata" && e["action"] == "token.mint" {
			found, _ = d["jti"].(string)
		}
	}
	if found == "" {
		t.Fatalf("no audit event names the surface: %v", au)
	}
	fx.s.Call(t, "GET", "/v1/tenants/acct/tokens/"+found, fx.s.Admin, nil, 200)
	fx.s.Call(t, "POST", "/v1/tenants/acct/tokens/"+found+"/revoke", fx.s.Admin, nil, 200)
	tp := js(url.Values{"apsws.time": {now()}, "apsws.authMode": {"token"}, "apsws.id": {deviceID}, "apsdb.authToken": {a.tok()}})
	wantErr(t, fx.get(t, "VerifyCredentials", tp), 400, "INVALID_SIGNATURE", "")

	resp, err := http.Get(fx.s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `tokend_surface_tokens_issued_total{kind="device",surface="apstrata"} 1`) {
		t.Fatal("metrics do not count the surface's token")
	}

	for _, tc := range []struct {
		path string
		body map[string]any
	}{
		{"devices/" + deviceID, map[string]any{"password": "a", "password_md5": md5hex("a")}},
		{"devices/" + deviceID, map[string]any{"password_md5": "not-hex"}},
		{"devices/" + deviceID, map[string]any{"secret": "s"}},
		{"clients/owner", map[string]any{"password": "p"}},
	} {
		fx.s.Call(t, "PUT", fmt.Sprintf("/v1/tenants/acct/%s/legacy-secret", tc.path), fx.s.Admin, tc.body, 422)
	}
	// Still the old credential.
	wantOK(t, fx.get(t, "VerifyCredentials", js(fx.userSimple("VerifyCredentials", deviceID, devicePass, url.Values{}))))
}
