package bigcommerce_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// dev starts a server in dev mode on databaseURL with the dev fixtures,
// as tokend serve --dev --bigcommerce-domain mybigcommerce.test does.
func dev(t *testing.T, databaseURL string, mutate ...func(*config.Config)) (*apptest.Server, app.DevBigCommerce) {
	t.Helper()
	s := apptest.StartWith(t, databaseURL, apptest.Options{Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), Config: func(c *config.Config) {
		c.Dev = true
		c.BigCommerceDomain = app.DevBigCommerceDomain
		for _, m := range mutate {
			m(c)
		}
	}})
	creds, _, err := s.App.DevSetup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bc, ok := creds.Compat["bigcommerce"].(app.DevBigCommerce)
	if !ok {
		t.Fatalf("no bigcommerce fixtures: %#v", creds.Compat["bigcommerce"])
	}
	return s, bc
}

var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`[0-9a-f]{64}_[0-9]{10}`), `<customer-access-token>`},
	{regexp.MustCompile(`"expires_at":[0-9]{10}`), `"expires_at":<expires_at>`},
}

func normalize(b []byte) []byte {
	for _, v := range volatile {
		b = v.re.ReplaceAll(b, []byte(v.repl))
	}
	return golden.Normalize(b)
}

type exchange struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// str follows a path of object keys to a string.
func (e exchange) str(path ...string) string {
	var v any = e.Body
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

type client struct {
	secret string // replaced by <password> in golden files
	t      *testing.T
	s      *apptest.Server
	assert func(testing.TB, string, []byte)
}

// do sends a request (hdr: name, value pairs; "Host" sets the host);
// with name set, request and response are pinned to testdata/name.golden.
func (c client) do(name, method, path, body string, hdr ...string) exchange {
	c.t.Helper()
	req, err := http.NewRequest(method, c.s.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	got, err := golden.Render(resp)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	if name != "" {
		var rec bytes.Buffer
		rec.WriteString(method + " " + path + "\n")
		for i := 0; i+1 < len(hdr); i += 2 {
			v := hdr[i+1]
			if strings.EqualFold(hdr[i], "X-Auth-Token") {
				v = "<api-account-token>"
			}
			rec.WriteString(hdr[i] + ": " + v + "\n")
		}
		if body != "" {
			rec.WriteString("\n" + body + "\n")
		}
		rec.WriteString("\n--- response\n\n")
		rec.Write(got)
		rec.WriteString("\n")
		out := normalize(rec.Bytes())
		if c.secret != "" {
			out = bytes.ReplaceAll(out, []byte(c.secret), []byte("<password>"))
		}
		c.t.Run(name, func(t *testing.T) { c.assert(t, name, out) })
	}
	e := exchange{Status: resp.StatusCode, Header: resp.Header}
	_, raw, _ := bytes.Cut(got, []byte("\n\n"))
	e.Raw = raw
	_ = json.Unmarshal(raw, &e.Body)
	return e
}

func (c client) want(e exchange, status int) exchange {
	c.t.Helper()
	if e.Status != status {
		c.t.Fatalf("status %d, want %d: %s", e.Status, status, e.Raw)
	}
	return e
}

// jwtParts decodes a JWT's header and payload, unverified.
func jwtParts(t *testing.T, tok string) (map[string]any, map[string]any, string) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	hb, _ := base64.RawURLEncoding.DecodeString(p[0])
	pb, _ := base64.RawURLEncoding.DecodeString(p[1])
	var h, c map[string]any
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(pb, &c) != nil {
		t.Fatalf("undecodable JWT %q", tok)
	}
	return h, c, string(hb)
}

// The OpenAPI file's create example (storefront_tokens.v3.yml, createToken).
const openAPIExample = `{
  "allowed_cors_origins": [
    "https://www.yourstorefront.com/"
  ],
  "channel_id": 1,
  "expires_at": 1885635176,
  "dev_mode": false
}`

// The seed's private-token example, its comments dropped (JSON has none)
// and its channels those of the dev store.
const seedPrivateExample = `{
  "channel_ids": [1],
  "expires_at": 1602288000
}`

func TestSeedFlows(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, bc := dev(t, "")
		flows(t, client{t: t, s: s, assert: golden.Assert, secret: bc.Password}, bc)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		s, bc := dev(t, pgtest.NewDatabase(t))
		flows(t, client{t: t, s: s, assert: golden.Compare, secret: bc.Password}, bc)
	})
}

func flows(t *testing.T, c client, bc app.DevBigCommerce) {
	base := "/stores/" + bc.StoreHash + "/v3/storefront/"
	auth := []string{"X-Auth-Token", bc.AccessToken, "Accept", "application/json", "Content-Type", "application/json"}
	future := time.Now().Add(24 * time.Hour).Unix()
	exp := func(extra string) string {
		return `{"expires_at":` + itoa(future) + `,"channel_id":1` + extra + `}`
	}

	// REST: create each kind.
	sf := c.want(c.do("create_storefront_openapi_example", "POST", base+"api-token", openAPIExample, auth...), 200).str("data", "token")
	h, cl, hraw := jwtParts(t, sf)
	if hraw != `{"typ":"JWT","alg":"ES256"}` || h["kid"] != nil {
		t.Fatalf("storefront token header %s", hraw)
	}
	if cl["kind"] != "storefront" || cl["exp"] != float64(1885635176) {
		t.Fatalf("storefront claims %v", cl)
	}
	c.want(c.do("create_private_seed_example", "POST", base+"api-token-private", seedPrivateExample, auth...), 422)
	priv := c.want(c.do("create_private", "POST", base+"api-token-private", exp(`,"scopes":["Customer","Unauthenticated"]`), auth...), 200).str("data", "token")
	privNoCustomer := c.want(c.do("", "POST", base+"api-token-private", exp(`,"scopes":["B2B"]`), auth...), 200).str("data", "token")
	imp := c.want(c.do("create_impersonation", "POST", base+"api-token-customer-impersonation",
		`{"channel_ids":[1],"expires_at":`+itoa(future)+`}`, auth...), 200).str("data", "token")
	if _, pc, _ := jwtParts(t, priv); pc["scope"] != "Customer Unauthenticated" || pc["kind"] != "private" {
		t.Fatalf("private claims %v", pc)
	}

	// REST errors.
	c.want(c.do("error_401_no_token", "POST", base+"api-token", exp(""), "Accept", "application/json", "Content-Type", "application/json"), 401)
	c.want(c.do("error_401_bad_token", "POST", base+"api-token", exp(""), "X-Auth-Token", "tkd_at_nope", "Content-Type", "application/json"), 401)
	c.want(c.do("error_401_other_store", "POST", "/stores/zzz999/v3/storefront/api-token", exp(""), auth...), 401)
	c.want(c.do("error_401_storefront_token_as_account", "POST", base+"api-token", exp(""), "X-Auth-Token", sf, "Content-Type", "application/json"), 401)
	c.want(c.do("error_415_content_type", "POST", base+"api-token", exp(""), "X-Auth-Token", bc.AccessToken, "Content-Type", "text/plain"), 415)
	c.want(c.do("error_406_accept", "POST", base+"api-token", exp(""), "X-Auth-Token", bc.AccessToken, "Content-Type", "application/json", "Accept", "text/html"), 406)
	c.want(c.do("error_422_past_expiry", "POST", base+"api-token", `{"expires_at":1602288000,"channel_id":1}`, auth...), 422)
	c.want(c.do("error_422_both_channel_fields", "POST", base+"api-token", `{"expires_at":`+itoa(future)+`,"channel_id":1,"channel_ids":[1]}`, auth...), 422)
	c.want(c.do("error_422_no_channel", "POST", base+"api-token", `{"expires_at":`+itoa(future)+`}`, auth...), 422)
	c.want(c.do("error_422_unknown_channel", "POST", base+"api-token", `{"expires_at":`+itoa(future)+`,"channel_ids":[1,2]}`, auth...), 422)
	c.want(c.do("error_422_bad_origin", "POST", base+"api-token", exp(`,"allowed_cors_origins":["www.example.com"]`), auth...), 422)
	c.want(c.do("error_422_three_origins", "POST", base+"api-token", exp(`,"allowed_cors_origins":["https://a.example","https://b.example","https://c.example"]`), auth...), 422)
	c.want(c.do("error_422_unknown_scope", "POST", base+"api-token-private", exp(`,"scopes":["Admin"]`), auth...), 422)
	c.want(c.do("error_422_no_scopes", "POST", base+"api-token-private", exp(""), auth...), 422)
	c.want(c.do("error_422_missing_expiry_impersonation", "POST", base+"api-token-customer-impersonation", `{"channel_id":1}`, auth...), 422)
	c.want(c.do("error_422_not_json", "POST", base+"api-token", `{"expires_at":`, auth...), 422)
	c.want(c.do("error_422_unknown_field", "POST", base+"api-token", exp(`,"cors":["https://a.example"]`), auth...), 422)
	// An API account with store_storefront_api only may not impersonate.
	c.s.Call(t, "POST", "/v1/tenants/"+bc.Tenant+"/clients", c.s.Admin, map[string]any{"id": "narrow", "grant_types": []string{"client_credentials"},
		"scopes": []string{"store_storefront_api"}}, 201)
	narrow, _ := c.s.Call(t, "POST", "/v1/tenants/"+bc.Tenant+"/tokens", c.s.Admin, map[string]any{"client_id": "narrow", "format": "opaque"}, 201)["access_token"].(string)
	c.want(c.do("error_403_missing_scope", "POST", base+"api-token-customer-impersonation", `{"channel_id":1,"expires_at":`+itoa(future)+`}`,
		"X-Auth-Token", narrow, "Accept", "application/json", "Content-Type", "application/json"), 403)

	// GraphQL on the store's host, as BigCommerce's client addresses it.
	host := "store-" + bc.StoreHash + "-1." + app.DevBigCommerceDomain
	gql := func(name, tok, query string, hdr ...string) exchange {
		h := []string{"Host", host, "Content-Type", "application/json"}
		if tok != "" {
			h = append(h, "Authorization", "Bearer "+tok)
		}
		b, _ := json.Marshal(map[string]any{"query": query})
		return c.do(name, "POST", "/graphql", string(b), append(h, hdr...)...)
	}
	login := `mutation { login(email: "` + bc.Email + `", password: "` + bc.Password + `") { result customer { entityId email firstName lastName } customerAccessToken { value expiresAt } } }`
	r := c.want(gql("graphql_login_server", priv, login), 200)
	cat := r.Body["data"].(map[string]any)["login"].(map[string]any)["customerAccessToken"].(map[string]any)["value"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{64}_[0-9]{10}$`).MatchString(cat) {
		t.Fatalf("customer access token %q", cat)
	}
	second := c.want(gql("", priv, login), 200).Body["data"].(map[string]any)["login"].(map[string]any)["customerAccessToken"].(map[string]any)["value"].(string)
	c.want(gql("graphql_customer", priv, `query { customer { entityId email firstName lastName } }`, "X-Bc-Customer-Access-Token", cat), 200)
	c.want(gql("graphql_customer_guest", priv, `query { customer { entityId } }`), 200)
	// From a browser: the token is a cookie, never in the body.
	br := c.want(gql("graphql_login_browser_wrong_context", sf, login, "Origin", bc.AllowedOrigin), 200)
	if br.Header.Get("Access-Control-Allow-Origin") != bc.AllowedOrigin || br.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("CORS headers %v", br.Header)
	}
	ck := c.want(gql("graphql_login_browser", sf, `mutation { login(email: "`+bc.Email+`", password: "`+bc.Password+`") { result customer { entityId } } }`, "Origin", bc.AllowedOrigin), 200)
	var cookie string
	for _, v := range ck.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "SHOP_TOKEN=") && strings.Contains(v, "HttpOnly") && strings.Contains(v, "Secure") {
			cookie = strings.SplitN(strings.TrimPrefix(v, "SHOP_TOKEN="), ";", 2)[0]
		}
	}
	if cookie == "" {
		t.Fatalf("no HttpOnly session cookie: %v", ck.Header.Values("Set-Cookie"))
	}
	c.want(gql("graphql_customer_browser_cookie", sf, `{ customer { email } }`, "Origin", bc.AllowedOrigin, "Cookie", "SHOP_TOKEN="+cookie), 200)
	// Impersonation names the customer in X-Bc-Customer-Id.
	c.want(gql("graphql_customer_impersonation", imp, `query { customer { entityId email } }`, "X-Bc-Customer-Id", "1"), 200)
	c.want(gql("graphql_impersonation_no_customer", imp, `query { customer { entityId } }`), 403)
	c.want(gql("graphql_private_from_browser", priv, `{ __typename }`, "Origin", bc.AllowedOrigin), 403)
	c.want(gql("graphql_storefront_foreign_origin", sf, `{ __typename }`, "Origin", "https://evil.example"), 403)
	// Scopes of private tokens.
	c.want(gql("graphql_insufficient_scope", privNoCustomer, `query { customer { entityId } }`, "X-Bc-Customer-Access-Token", cat), 200)
	// GraphQL as any server: variables, aliases, fragments, operationName, __typename, unknown fields.
	vars, _ := json.Marshal(map[string]any{"query": `query A { __typename } query B($x: Boolean!) { me: customer @include(if: $x) { ...C } } fragment C on Customer { email }`,
		"operationName": "B", "variables": map[string]any{"x": true}})
	c.want(c.do("graphql_variables_fragments", "POST", "/graphql", string(vars), "Host", host, "Content-Type", "application/json",
		"Authorization", "Bearer "+priv, "X-Bc-Customer-Access-Token", cat), 200)
	c.want(gql("graphql_unknown_field", priv, `{ site { settings { storeName } } }`), 200)
	c.want(gql("graphql_typename", priv, `{ __typename }`), 200)
	c.want(gql("graphql_introspection_type", priv, `{ __type(name: "Customer") { kind name fields { name type { kind name ofType { name } } } } }`), 200)
	in := c.want(gql("", priv, `{ __schema { queryType { name } mutationType { name } types { name } } }`), 200)
	if !strings.Contains(string(in.Raw), `"mutationType":{"name":"Mutation"}`) {
		t.Fatalf("introspection: %s", in.Raw)
	}
	// Also at /stores/{hash}/graphql.
	c.want(c.do("graphql_by_path", "POST", "/stores/"+bc.StoreHash+"/graphql", `{"query":"{ __typename }"}`,
		"Content-Type", "application/json", "Authorization", "Bearer "+priv), 200)

	// Auth failures with BigCommerce's messages.
	c.want(gql("graphql_401_no_token", "", `{ __typename }`), 401)
	c.want(gql("graphql_401_not_jwt", "abc", `{ __typename }`), 401)
	c.want(gql("graphql_401_bad_signature", apptest.FlipLastBit(priv[:len(priv)-2])+"AA", `{ __typename }`), 401)
	c.want(gql("graphql_401_no_json", "eyJub3Q.eyJqc29u.c2ln", `{ __typename }`), 401)
	c.want(gql("graphql_401_unknown_format", "eyJhbGciOiJFUzI1NiJ9.eyJmb28iOjF9.c2ln", `{ __typename }`), 401)
	// A token of channel 2 on channel 1's host; a token of another tenant.
	c.s.Call(t, "PUT", "/v1/tenants/"+bc.Tenant+"/surfaces/bigcommerce", c.s.Admin, map[string]any{"store_hash": bc.StoreHash,
		"channels": []map[string]any{{"id": 1}, {"id": 2}}}, 200)
	ch2 := c.want(c.do("", "POST", base+"api-token-private", `{"expires_at":`+itoa(future)+`,"channel_id":2,"scopes":["Customer"]}`, auth...), 200).str("data", "token")
	c.want(gql("graphql_401_channel", ch2, `{ __typename }`), 401)
	other := c.s.Call(t, "POST", "/v1/tenants/demo/tokens", c.s.Admin, map[string]any{"client_id": "demo-service"}, 201)["access_token"].(string)
	c.want(gql("graphql_401_store", other, `{ __typename }`), 401)
	expired := c.want(c.do("", "POST", base+"api-token-private", `{"expires_at":`+itoa(time.Now().Add(2*time.Second).Unix())+`,"channel_id":1,"scopes":["Customer"]}`, auth...), 200).str("data", "token")

	// CORS preflight.
	c.want(c.do("graphql_preflight_allowed", "OPTIONS", "/graphql", "", "Host", host, "Origin", bc.AllowedOrigin,
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type"), 204)
	c.want(c.do("graphql_preflight_foreign", "OPTIONS", "/graphql", "", "Host", host, "Origin", "https://evil.example",
		"Access-Control-Request-Method", "POST"), 403)

	// The gateway check speaks BigCommerce for these tokens.
	chk := "/t/" + bc.Tenant + "/check"
	r = c.want(c.do("check_private_customer", "GET", chk, "", "Authorization", "Bearer "+priv, "X-Bc-Channel-Id", "1",
		"X-Bc-Customer-Access-Token", cat), 200)
	if r.Header.Get("X-Bc-Store-Hash") != bc.StoreHash || r.Header.Get("X-Bc-Customer-Id") != "1" || r.Header.Get("X-Bc-Token-Kind") != "private" {
		t.Fatalf("check headers %v", r.Header)
	}
	c.want(c.do("check_impersonation", "GET", chk, "", "Authorization", "Bearer "+imp, "X-Bc-Customer-Id", "1"), 200)
	c.want(c.do("check_storefront_origin", "GET", chk, "", "Authorization", "Bearer "+sf, "Origin", bc.AllowedOrigin), 200)
	c.want(c.do("check_401_no_token", "GET", chk, ""), 401)
	c.want(c.do("check_401_channel", "GET", chk+"?channel_id=1", "", "Authorization", "Bearer "+ch2), 401)
	c.want(c.do("check_403_private_from_browser", "GET", chk, "", "Authorization", "Bearer "+priv, "Sec-Fetch-Site", "cross-site"), 403)
	// The API account's own (opaque) token is the native check's.
	c.want(c.do("check_native_api_account", "GET", chk, "", "Authorization", "Bearer "+bc.AccessToken), 200)

	// Logout ends every session of the customer.
	c.want(gql("graphql_logout", priv, `mutation { logout { result } }`, "X-Bc-Customer-Access-Token", cat), 200)
	c.want(gql("graphql_customer_after_logout", priv, `{ customer { entityId } }`, "X-Bc-Customer-Access-Token", second,
		"X-Bc-Error-On-Invalid-Customer-Access-Token", "true"), 200)

	// A customer login JWT of the API account (HS256, its signing secret).
	secret := c.s.Call(t, "POST", "/v1/tenants/"+bc.Tenant+"/clients/"+bc.ClientID+"/signing-secret", c.s.Admin, nil, 200)["signing_secret"].(string)
	loginJWT := func(mut func(jwt.MapClaims)) string {
		cl := jwt.MapClaims{"iss": bc.ClientID, "iat": time.Now().Unix(), "jti": fmt.Sprint(time.Now().UnixNano()), "operation": "customer_login",
			"store_hash": bc.StoreHash, "customer_id": 1, "channel_id": 1, "redirect_to": "/cart.php"}
		if mut != nil {
			mut(cl)
		}
		v, err := jwt.NewWithClaims(jwt.SigningMethodHS256, cl).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	withJWT := `mutation L($jwt: String!) { loginWithCustomerLoginJwt(jwt: $jwt) { redirectTo customer { entityId email } customerAccessToken { value } } }`
	gqlVars := func(name, tok, query string, vars map[string]any) exchange {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return c.do(name, "POST", "/graphql", string(b), "Host", host, "Content-Type", "application/json", "Authorization", "Bearer "+tok)
	}
	once := loginJWT(nil)
	r = c.want(gqlVars("graphql_login_jwt", priv, withJWT, map[string]any{"jwt": once}), 200)
	if !strings.Contains(string(r.Raw), `"redirectTo":"/cart.php"`) || strings.Contains(string(r.Raw), `"errors"`) {
		t.Fatalf("login JWT: %s", r.Raw)
	}
	c.want(gqlVars("graphql_login_jwt_replayed", priv, withJWT, map[string]any{"jwt": once}), 200)
	for name, mut := range map[string]func(jwt.MapClaims){
		"old":         func(m jwt.MapClaims) { m["iat"] = time.Now().Add(-time.Minute).Unix() },
		"other store": func(m jwt.MapClaims) { m["store_hash"] = "zzz999" },
		"operation":   func(m jwt.MapClaims) { m["operation"] = "other" },
		"channel":     func(m jwt.MapClaims) { m["channel_id"] = 2 },
	} {
		if r := c.want(gqlVars("", priv, withJWT, map[string]any{"jwt": loginJWT(mut)}), 200); !strings.Contains(string(r.Raw), "Invalid customer login JWT") {
			t.Fatalf("login JWT %s accepted: %s", name, r.Raw)
		}
	}
	if r := c.want(gqlVars("", priv, withJWT, map[string]any{"jwt": apptest.FlipLastBit(loginJWT(nil))}), 200); !strings.Contains(string(r.Raw), "Invalid customer login JWT") {
		t.Fatalf("login JWT with a bad signature accepted: %s", r.Raw)
	}

	// Revoke, then the token is refused.
	c.want(c.do("revoke_no_header", "DELETE", base+"api-token", "", "X-Auth-Token", bc.AccessToken, "Accept", "application/json"), 422)
	c.want(c.do("revoke_bad_header", "DELETE", base+"api-token", "", "X-Auth-Token", bc.AccessToken, "Sf-Api-Token", "nope"), 422)
	c.want(c.do("revoke_impersonation_refused", "DELETE", base+"api-token", "", "X-Auth-Token", bc.AccessToken, "Sf-Api-Token", imp), 422)
	c.want(c.do("revoke", "DELETE", base+"api-token", "", "X-Auth-Token", bc.AccessToken, "Accept", "application/json", "Sf-Api-Token", priv), 200)
	c.want(gql("graphql_401_revoked", priv, `{ __typename }`), 401)
	c.want(c.do("check_401_revoked", "GET", chk, "", "Authorization", "Bearer "+priv), 401)
	// Past its expiry and the verifier's 30 s leeway for clock skew.
	time.Sleep(time.Until(time.Unix(mustExp(t, expired)+31, 0)))
	c.want(gql("graphql_401_expired", expired, `{ __typename }`), 401)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func mustExp(t *testing.T, tok string) int64 {
	_, c, _ := jwtParts(t, tok)
	return int64(c["exp"].(float64))
}
