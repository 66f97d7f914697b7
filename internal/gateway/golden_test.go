package gateway_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/token"
)

// TestGolden pins the responses of the gateway check and the revocation
// feed, errors included, to testdata/*.golden. The golden files are
// written from SQLite; the same cases on PostgreSQL must produce the same
// bytes.
func TestGolden(t *testing.T) {
	apptest.GoldenBackends(t, goldenCases)
}

const password = "correct horse battery"

// fixture is tenant "shop" with a service, an app whose user logs in, and
// a client that mints the bound kinds; and tenant "other".
type fixture struct{ *apptest.Wire }

// issued are the tokens the cases check.
type issued struct {
	svc, user, refresh, svcOther string
}

func setup(t *testing.T, s *apptest.Server, assert func(testing.TB, string, []byte)) (*fixture, issued) {
	f := &fixture{apptest.NewWire(t, s, assert)}
	f.Admin("POST", "/v1/tenants", map[string]any{"id": "shop", "policy": map[string]any{"password_grant": true}}, 201)
	f.Admin("POST", "/v1/tenants", map[string]any{"id": "other"}, 201)
	p := "/v1/tenants/shop"
	f.Admin("POST", p+"/projects", map[string]any{"id": "orders", "audience": "https://orders.example.com"}, 201)
	f.Admin("POST", p+"/roles", map[string]any{"name": "reader", "scopes": []string{"read"}, "resources": []string{"orders/*"}}, 201)
	f.Admin("POST", p+"/roles", map[string]any{"name": "writer", "scopes": []string{"write"}}, 201)
	f.Admin("POST", p+"/groups", map[string]any{"name": "staff", "roles": []string{"writer"}}, 201)
	f.Admin("POST", p+"/users", map[string]any{"login": "alice@example.com", "password": password, "roles": []string{"reader"}, "groups": []string{"staff"}}, 201)
	f.Client("shop", map[string]any{"id": "svc", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "write"}, "audiences": []string{"https://orders.example.com"}})
	f.Client("shop", map[string]any{"id": "app", "grant_types": []string{"password", "refresh_token"},
		"scopes": []string{"read", "write"}, "policy": map[string]any{"password_grant": true}})
	f.Client("shop", map[string]any{"id": "kinds", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "tokend:mint:storefront", "tokend:mint:private", "tokend:mint:impersonation"}})
	f.Client("other", map[string]any{"id": "svc", "grant_types": []string{"client_credentials"}, "scopes": []string{"read"}})

	cc := url.Values{"grant_type": {"client_credentials"}}
	var tk issued
	tk.svc = apptest.Str(f.Token("shop", "shop/svc", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}), "access_token")
	pw := f.Token("shop", "shop/app", url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {password}})
	tk.user = apptest.Str(pw, "access_token")
	ref := f.Token("shop", "shop/app", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {apptest.Str(pw, "refresh_token")}})
	tk.refresh = apptest.Str(ref, "refresh_token")
	tk.svcOther = apptest.Str(f.Token("other", "other/svc", cc), "access_token")
	return f, tk
}

func goldenCases(t *testing.T, s *apptest.Server, assert func(testing.TB, string, []byte)) {
	f, tk := setup(t, s, assert)
	check(f, tk)
	revoked(f, tk)
	feed(f)
}

// revoked: a token revoked at the revocation endpoint is refused at once.
func revoked(f *fixture, tk issued) {
	resp, err := http.DefaultClient.Do(f.Form("shop", "revoke", "shop/svc", url.Values{"token": {tk.svc}}))
	if err != nil {
		f.T.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		f.T.Fatalf("revoke: %d", resp.StatusCode)
	}
	f.Golden("check.error.revoked", f.Req("GET", "/t/shop/check", "", "Authorization", "Bearer "+tk.svc))
}

func check(f *fixture, tk issued) {
	get := func(tok string, hdr ...string) *http.Request {
		if tok != "" {
			hdr = append(hdr, "Authorization", "Bearer "+tok)
		}
		return f.Req("GET", "/t/shop/check", "", hdr...)
	}
	f.Golden("check.active", get(tk.svc))
	f.Golden("check.active_user", get(tk.user))
	f.Golden("check.active_cookie", get("", "Cookie", "tokend_session="+tk.svc))
	f.Golden("check.error.no_bearer", get(""))
	f.Golden("check.error.basic_authorization", get("", "Authorization", "Basic c3ZjOng="))
	f.Golden("check.error.malformed_token", get("nope"))
	f.Golden("check.error.unknown_opaque", get(token.NewOpaque(token.TagAccess)))
	f.Golden("check.error.refresh_token", get(tk.refresh))
	other := apptest.Str(f.Token("shop", "shop/svc", url.Values{"grant_type": {"client_credentials"}}), "access_token")
	forged := tk.svc[:strings.LastIndexByte(tk.svc, '.')] + other[strings.LastIndexByte(other, '.'):]
	f.Golden("check.error.bad_signature", get(forged))
	f.Golden("check.error.other_tenant", get(tk.svcOther))
	f.Golden("check.error.insufficient_scope", f.Req("GET", "/t/shop/check?scope=write", "", "Authorization", "Bearer "+tk.svc))

	exp := time.Now().Add(time.Hour).Unix()
	mint := func(kind string, extra map[string]any) string {
		body := map[string]any{"kind": kind, "expires_at": exp}
		for k, v := range extra {
			body[k] = v
		}
		return apptest.Str(f.Admin("POST", "/v1/tenants/shop/clients/kinds/tokens", body, 201), "token")
	}
	sf := mint("storefront", map[string]any{"allowed_cors_origins": []string{"https://shop.example.com"}})
	f.Golden("check.error.storefront_no_origin", get(sf))
	f.Golden("check.error.storefront_other_origin", get(sf, "Origin", "https://evil.example.com"))
	f.Golden("check.error.storefront_malformed_origin", get(sf, "Origin", "not-an-origin"))
	f.Golden("check.error.storefront_origin_list", get(sf, "Origin", "https://shop.example.com https://evil.example.com"))
	f.Golden("check.error.private_from_browser", get(mint("private", nil), "Sec-Fetch-Site", "cross-site"))
	imp := mint("impersonation", nil)
	f.Golden("check.error.impersonation_no_customer", get(imp))
	f.Golden("check.error.impersonation_unknown_customer", get(imp, "X-Tokend-Customer-Id", "ghost"))
}

func feed(f *fixture) {
	get := func(tenant, query string, hdr ...string) *http.Request {
		r := f.Req("GET", "/t/"+tenant+"/revocations"+query, "", hdr...)
		r.SetBasicAuth("svc", f.Secret["shop/svc"])
		return r
	}
	// Past every entry: the page is empty and the cursor stays.
	f.Golden("feed.empty_page", get("shop", "?after=1000000000"))
	f.Golden("feed.error.no_client_authentication", f.Req("GET", "/t/shop/revocations", ""))
	wrong := f.Req("GET", "/t/shop/revocations", "")
	wrong.SetBasicAuth("svc", "nope")
	f.Golden("feed.error.wrong_secret", wrong)
	bad := f.Req("GET", "/t/shop/revocations", "")
	bad.SetBasicAuth("svc%zz", "x")
	f.Golden("feed.error.malformed_credentials", bad)
	f.Golden("feed.error.unknown_tenant", get("nope", ""))
	f.Golden("feed.error.after", get("shop", "?after=-1"))
	f.Golden("feed.error.limit", get("shop", "?limit=0"))
	f.Golden("feed.error.wait", get("shop", "?wait=3600"))
	f.Golden("feed.error.last_event_id", get("shop", "", "Accept", "text/event-stream", "Last-Event-ID", "x"))
	f.Golden("feed.error.post", f.Req("POST", "/t/shop/revocations", "a=b"))
}
