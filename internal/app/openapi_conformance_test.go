package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/openapi"
)

// conformance sends requests to a real server and validates each request
// and its answer against the native document with kin-openapi's
// openapi3filter (the native one, or a surface's): the operation must exist, the parameters and body
// match it, and the answer's status, content type and body be one it
// documents.
type conformance struct {
	t      *testing.T
	s      *apptest.Server
	doc    *openapi3.T
	router routers.Router
	seen   map[string]bool
	// invalid says the next request breaks the document on purpose: its
	// validation must fail, its answer still match.
	invalid bool
}

func newConformance(t *testing.T, s *apptest.Server, b []byte) *conformance {
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	// The document names no server: requests match it by path alone.
	doc.Servers = openapi3.Servers{{URL: s.URL}}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &conformance{t: t, s: s, doc: doc, router: r, seen: map[string]bool{}}
}

// do sends a request (a JSON body when body is not a url.Values form nor
// nil), validates both sides and returns the status and decoded body.
func (c *conformance) do(method, path, bearer string, body any, hdr ...string) (int, map[string]any) {
	c.t.Helper()
	var raw []byte
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		raw, ctype = []byte(b.Encode()), "application/x-www-form-urlencoded"
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
		ctype = "application/json"
	}
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.s.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s: not in the document: %v", method, path, err)
	}
	c.seen[strings.ToUpper(method)+" "+route.Path] = true
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case c.invalid && err == nil:
		c.t.Errorf("%s %s: a request the document refuses passed its validation", method, path)
	case !c.invalid && err != nil:
		c.t.Errorf("%s %s: request does not match the document: %v", method, path, err)
	}
	c.invalid = false
	if raw != nil {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
	} else {
		req.Body = http.NoBody
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Options: opts}
	out.SetBodyBytes(got)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s: answer %d does not match the document: %v\n%s", method, path, res.StatusCode, err, got)
	}
	var m map[string]any
	_ = json.Unmarshal(got, &m)
	c.t.Logf("%s %s: %d", method, path, res.StatusCode)
	return res.StatusCode, m
}

func (c *conformance) want(status int, method, path, bearer string, body any, hdr ...string) map[string]any {
	c.t.Helper()
	got, m := c.do(method, path, bearer, body, hdr...)
	if got != status {
		c.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, status, m)
	}
	return m
}

func init() {
	// The audit export answers NDJSON; the document's schema is that of
	// each line. Every line must be JSON; the first one is validated.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(r io.Reader, h http.Header, s *openapi3.SchemaRef, fn openapi3filter.EncodingFn) (any, error) {
		dec := json.NewDecoder(r)
		var first any
		for n := 0; ; n++ {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				return first, nil
			} else if err != nil {
				return nil, err
			}
			if n == 0 {
				first = v
			}
		}
	})
	// The JWKS answers application/jwk-set+json: JSON.
	openapi3filter.RegisterBodyDecoder("application/jwk-set+json", func(r io.Reader, h http.Header, s *openapi3.SchemaRef, fn openapi3filter.EncodingFn) (any, error) {
		var v any
		err := json.NewDecoder(r).Decode(&v)
		return v, err
	})
}

// bad is want for a request that breaks the document on purpose.
func (c *conformance) bad(status int, method, path, bearer string, body any, hdr ...string) map[string]any {
	c.t.Helper()
	c.invalid = true
	return c.want(status, method, path, bearer, body, hdr...)
}

// TestOpenAPIConformance drives the main native operations, successes
// and errors, on a real server and validates every request and answer
// against the document's schemas.
func TestOpenAPIConformance(t *testing.T) {
	s := apptest.Start(t, "")
	c := newConformance(t, s, openapi.Native)
	adm := s.Admin
	c.want(200, "GET", "/healthz", "", nil)
	c.want(200, "GET", "/readyz", "", nil)
	c.want(200, "GET", "/openapi.json", "", nil)
	c.want(200, "GET", "/v1/whoami", adm, nil)
	c.want(401, "GET", "/v1/whoami", "", nil)
	c.want(201, "POST", "/v1/tenants", adm, map[string]any{"id": "acme", "display_name": "Acme", "policy": map[string]any{"password_grant": true}})
	c.want(409, "POST", "/v1/tenants", adm, map[string]any{"id": "acme"})
	c.bad(400, "POST", "/v1/tenants", adm, map[string]any{"id": "other", "colour": "blue"})
	c.want(200, "GET", "/v1/tenants", adm, nil)
	c.want(200, "GET", "/v1/tenants/acme", adm, nil)
	c.want(404, "GET", "/v1/tenants/nosuch", adm, nil)
	c.want(200, "PATCH", "/v1/tenants/acme", adm, map[string]any{"display_name": "Acme Inc"})
	c.want(201, "POST", "/v1/tenants/acme/projects", adm, map[string]any{"id": "api"})
	c.want(200, "GET", "/v1/tenants/acme/projects", adm, nil)
	c.want(201, "POST", "/v1/tenants/acme/roles", adm, map[string]any{"name": "reader", "scopes": []string{"read"}})
	c.want(201, "POST", "/v1/tenants/acme/groups", adm, map[string]any{"name": "staff", "roles": []string{"reader"}})
	c.want(200, "GET", "/v1/tenants/acme/groups/staff", adm, nil)
	cl := c.want(201, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "svc", "grant_types": []string{"client_credentials", "password", "refresh_token"},
		"scopes": []string{"read"}, "audiences": []string{"api"}, "policy": map[string]any{"password_grant": true}})
	secret, _ := cl["client_secret"].(string)
	c.want(200, "GET", "/v1/tenants/acme/clients/svc", adm, nil)
	c.want(200, "PATCH", "/v1/tenants/acme/clients/svc", adm, map[string]any{"display_name": "Service"})
	c.want(200, "GET", "/v1/tenants/acme/clients", adm, nil)
	u := c.want(201, "POST", "/v1/tenants/acme/users", adm, map[string]any{"login": "alice", "password": "correct horse battery", "roles": []string{"reader"}})
	uid, _ := u["id"].(string)
	c.want(422, "POST", "/v1/tenants/acme/users", adm, map[string]any{"login": "bob", "roles": []string{"nope"}})
	c.want(200, "GET", "/v1/tenants/acme/users?login=alice", adm, nil)
	c.want(201, "POST", "/v1/tenants/acme/devices", adm, map[string]any{"id": "kiosk", "type": "kiosk", "metadata": map[string]string{"site": "a"}})
	c.want(200, "GET", "/v1/tenants/acme/devices/kiosk", adm, nil)
	c.want(200, "POST", "/v1/tenants/acme/devices/kiosk/secret", adm, nil)
	c.want(200, "POST", "/v1/tenants/acme/devices/kiosk/signing-secret", adm, nil)
	c.want(201, "POST", "/v1/tenants/acme/devices/kiosk/tokens", adm, map[string]any{"expires_in": 600})
	ut := c.want(201, "POST", "/v1/tenants/acme/users/"+uid+"/tokens", adm, map[string]any{"expires_in": 600, "lifetime": 3600})
	c.want(201, "POST", "/v1/tenants/acme/tokens", adm, map[string]any{"client_id": "svc", "scope": "read"})
	c.want(200, "GET", "/v1/tenants/acme/tokens?active=true", adm, nil)
	c.bad(400, "GET", "/v1/tenants/acme/tokens?active=maybe", adm, nil)
	if id, _ := ut["id"].(string); id != "" {
		c.want(200, "GET", "/v1/tenants/acme/tokens/"+id, adm, nil)
	}
	c.want(200, "GET", "/v1/tenants/acme/keys", adm, nil)
	c.want(201, "POST", "/v1/tenants/acme/keys/rotate", adm, nil)
	c.want(201, "POST", "/v1/tenants/acme/revocations", adm, map[string]any{"scope": "subject", "subject_type": "device", "key": "kiosk"})
	c.want(200, "GET", "/v1/tenants/acme/audit?limit=5", adm, nil)
	c.want(200, "GET", "/v1/tenants/acme/audit/verify", adm, nil)
	c.want(200, "GET", "/v1/tenants/acme/audit/export", adm, nil)
	c.want(400, "GET", "/v1/tenants/acme/audit/export?limit=5", adm, nil)
	c.want(200, "GET", "/v1/tenants/acme/surfaces", adm, nil)
	c.want(200, "GET", "/v1/tenants/acme/trusted-issuers", adm, nil)

	c.want(200, "GET", "/t/acme/.well-known/openid-configuration", "", nil)
	c.want(200, "GET", "/.well-known/oauth-authorization-server/t/acme", "", nil)
	c.want(404, "GET", "/t/nosuch/.well-known/openid-configuration", "", nil)
	c.want(200, "GET", "/t/acme/jwks.json", "", nil)
	c.want(200, "HEAD", "/t/acme/jwks.json", "", nil)
	c.want(200, "HEAD", "/t/acme/.well-known/openid-configuration", "", nil)
	c.want(200, "HEAD", "/.well-known/oauth-authorization-server/t/acme", "", nil)
	c.want(204, "OPTIONS", "/t/acme/.well-known/openid-configuration", "", nil, "Origin", "https://any.example", "Access-Control-Request-Method", "GET")
	c.want(204, "OPTIONS", "/t/acme/jwks.json", "", nil, "Origin", "https://any.example", "Access-Control-Request-Method", "GET")
	c.want(204, "OPTIONS", "/.well-known/oauth-authorization-server/t/acme", "", nil, "Origin", "https://any.example", "Access-Control-Request-Method", "GET")
	c.want(200, "PATCH", "/v1/tenants/acme", adm, map[string]any{"policy": map[string]any{"password_grant": true, "cors_origins": []string{"https://shop.example"}}})
	for _, p := range []string{"/t/acme/oauth2/token", "/t/acme/oauth2/revoke", "/t/acme/tokens/renew", "/t/acme/customers/login", "/t/acme/customers/logout"} {
		c.want(204, "OPTIONS", p, "", nil, "Origin", "https://shop.example", "Access-Control-Request-Method", "POST")
		c.want(403, "OPTIONS", p, "", nil, "Origin", "https://elsewhere.example", "Access-Control-Request-Method", "POST")
		c.want(204, "OPTIONS", p, "", nil)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {secret}, "scope": {"read"}}
	tok := c.want(200, "POST", "/t/acme/oauth2/token", "", form)
	access, _ := tok["access_token"].(string)
	c.want(401, "POST", "/t/acme/oauth2/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {"wrong"}})
	c.bad(400, "POST", "/t/acme/oauth2/token", "", url.Values{"grant_type": {"nosuch"}, "client_id": {"svc"}, "client_secret": {secret}})
	pw := c.want(200, "POST", "/t/acme/oauth2/token", "", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"correct horse battery"},
		"client_id": {"svc"}, "client_secret": {secret}})
	if rt, _ := pw["refresh_token"].(string); rt != "" {
		c.want(200, "POST", "/t/acme/oauth2/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"svc"}, "client_secret": {secret}})
	}
	c.want(200, "POST", "/t/acme/oauth2/introspect", "", url.Values{"token": {access}, "client_id": {"svc"}, "client_secret": {secret}})
	c.want(200, "POST", "/t/acme/oauth2/introspect", "", url.Values{"token": {"nonsense"}, "client_id": {"svc"}, "client_secret": {secret}})
	c.want(200, "GET", "/t/acme/check?scope=read", access, nil)
	c.want(200, "POST", "/t/acme/check", access, nil)
	c.want(401, "GET", "/t/acme/check", "", nil)
	c.want(403, "GET", "/t/acme/check?scope=write", access, nil)
	feed, _ := http.NewRequest("GET", "/", nil)
	feed.SetBasicAuth("svc", secret)
	c.want(200, "GET", "/t/acme/revocations?after=0&limit=10", "", nil, "Authorization", feed.Header.Get("Authorization"))
	c.want(401, "GET", "/t/acme/revocations", "", nil)
	if a, _ := ut["access_token"].(string); a != "" {
		c.want(200, "POST", "/t/acme/tokens/renew", a, nil)
	}
	c.want(401, "POST", "/t/acme/tokens/renew", "", nil)
	c.want(200, "POST", "/t/acme/oauth2/revoke", "", url.Values{"token": {access}, "client_id": {"svc"}, "client_secret": {secret}})
	// The rest of the admin API; where the outcome depends on the
	// fixtures (do), the answer must still be one the document names.
	c.want(200, "GET", "/metrics", "", nil)
	c.want(200, "GET", "/v1/tenants/acme/devices", adm, nil)
	c.want(200, "PATCH", "/v1/tenants/acme/devices/kiosk", adm, map[string]any{"display_name": "Kiosk"})
	c.want(200, "GET", "/v1/tenants/acme/roles", adm, nil)
	c.want(200, "GET", "/v1/tenants/acme/roles/reader", adm, nil)
	c.want(200, "PATCH", "/v1/tenants/acme/roles/reader", adm, map[string]any{"description": "Reads"})
	c.want(200, "GET", "/v1/tenants/acme/groups", adm, nil)
	c.want(200, "PATCH", "/v1/tenants/acme/groups/staff", adm, map[string]any{"description": "Staff"})
	c.want(200, "GET", "/v1/tenants/acme/projects/api", adm, nil)
	c.want(200, "PATCH", "/v1/tenants/acme/projects/api", adm, map[string]any{"display_name": "API"})
	c.want(200, "GET", "/v1/tenants/acme/users/"+uid, adm, nil)
	c.want(200, "PATCH", "/v1/tenants/acme/users/"+uid, adm, map[string]any{"display_name": "Alice"})
	c.want(200, "POST", "/v1/tenants/acme/users/"+uid+"/signing-secret", adm, nil)
	c.want(200, "POST", "/v1/tenants/acme/clients/svc/signing-secret", adm, nil)
	c.do("PUT", "/v1/tenants/acme/devices/kiosk/legacy-secret", adm, map[string]any{"password": "legacy pass"})
	c.do("PUT", "/v1/tenants/acme/users/"+uid+"/legacy-secret", adm, map[string]any{"password_md5": "0123456789abcdef0123456789abcdef"})
	c.do("PUT", "/v1/tenants/acme/clients/svc/legacy-secret", adm, map[string]any{"secret": "legacy secret"})
	c.do("POST", "/v1/tenants/acme/devices/kiosk/jti", adm, map[string]any{"jti": "0123456789abcdef0123456789abcdef"})
	c.do("POST", "/v1/tenants/acme/keys/legacy", adm, map[string]any{"secret": strings.Repeat("k", 32)})
	c.do("POST", "/v1/tenants/acme/keys/named", adm, map[string]any{"name": "sdk-agent", "secret": strings.Repeat("n", 32)})
	c.do("POST", "/v1/tenants/acme/clients/svc/tokens", adm, map[string]any{"kind": "private", "channel_ids": []int{1}, "expires_at": 4102444800})
	mc := c.want(201, "POST", "/v1/tenants/acme/clients", adm, map[string]any{"id": "minter", "grant_types": []string{"client_credentials"},
		"scopes": []string{"tokend:mint:private", "tokend:mint:storefront"}})
	msecret, _ := mc["client_secret"].(string)
	mt := c.want(200, "POST", "/t/acme/oauth2/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"minter"}, "client_secret": {msecret},
		"scope": {"tokend:mint:private tokend:mint:storefront"}})
	maccess, _ := mt["access_token"].(string)
	c.want(201, "POST", "/t/acme/tokens", maccess, map[string]any{"kind": "private", "channel_ids": []int{1}, "expires_at": time.Now().Add(time.Hour).Unix(), "scopes": []string{"Customer"}})
	c.want(200, "POST", "/t/acme/oauth2/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"minter"}, "client_secret": {msecret},
		"token_kind": {"storefront"}, "channel_ids": {"1"}, "expires_at": {strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)}, "allowed_cors_origins": {"https://shop.example"}})
	c.do("POST", "/t/acme/tokens", access, map[string]any{"kind": "storefront", "channel_ids": []int{1}, "expires_at": 4102444800, "allowed_cors_origins": []string{"https://shop.example"}})
	c.do("POST", "/t/acme/tokens/generate", "", url.Values{"principal": {"device:kiosk"}, "ts": {"1"}, "sig": {"00"}})
	c.do("POST", "/t/acme/customers/login", "", map[string]any{"email": "nobody@example.com", "password": "wrong"})
	c.want(401, "POST", "/t/acme/customers/logout", "", nil)
	ut2 := c.want(201, "POST", "/v1/tenants/acme/users/"+uid+"/tokens", adm, map[string]any{"expires_in": 600, "lifetime": 3600})
	if id, _ := ut2["id"].(string); id != "" {
		c.want(200, "POST", "/v1/tenants/acme/tokens/"+id+"/renew", adm, nil)
		c.want(200, "POST", "/v1/tenants/acme/tokens/"+id+"/revoke", adm, nil)
	}
	iss := map[string]any{"id": "idp", "issuer": "https://idp.example", "audiences": []string{"tokend"}, "algorithms": []string{"RS256"}}
	c.do("POST", "/v1/tenants/acme/trusted-issuers", adm, iss)
	c.do("GET", "/v1/tenants/acme/trusted-issuers/idp", adm, nil)
	c.do("PUT", "/v1/tenants/acme/trusted-issuers/idp", adm, iss)
	c.do("DELETE", "/v1/tenants/acme/trusted-issuers/idp", adm, nil)
	c.do("PUT", "/v1/tenants/acme/surfaces/storetoken", adm, map[string]any{})
	c.do("GET", "/v1/tenants/acme/surfaces/storetoken", adm, nil)
	c.do("DELETE", "/v1/tenants/acme/surfaces/storetoken", adm, nil)
	c.want(200, "POST", "/v1/tenants/acme/clients/svc/secret", adm, nil)
	c.want(204, "DELETE", "/v1/tenants/acme/devices/kiosk", adm, nil)
	c.want(204, "DELETE", "/v1/tenants/acme/users/"+uid, adm, nil)
	c.want(204, "DELETE", "/v1/tenants/acme/groups/staff", adm, nil)
	c.want(204, "DELETE", "/v1/tenants/acme/roles/reader", adm, nil)
	c.want(204, "DELETE", "/v1/tenants/acme/projects/api", adm, nil)
	c.want(204, "DELETE", "/v1/tenants/acme/clients/svc", adm, nil)
	c.want(201, "POST", "/v1/tenants", adm, map[string]any{"id": "gone"})
	c.want(204, "DELETE", "/v1/tenants/gone", adm, nil)
	c.report()
}

// report logs the document's operations the test did not exercise.
func (c *conformance) report() {
	var left []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			if !c.seen[method+" "+path] {
				left = append(left, method+" "+path)
			}
		}
	}
	sort.Strings(left)
	c.t.Logf("%d operations exercised; not exercised: %s", len(c.seen), strings.Join(left, ", "))
}
