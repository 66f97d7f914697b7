package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
	return &conformance{t: t, s: s, router: r, seen: map[string]bool{}}
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
	c.want(200, "GET", "/v1/tenants/acme/surfaces", adm, nil)
	c.want(200, "GET", "/v1/tenants/acme/trusted-issuers", adm, nil)

	c.want(200, "GET", "/t/acme/.well-known/openid-configuration", "", nil)
	c.want(200, "GET", "/.well-known/oauth-authorization-server/t/acme", "", nil)
	c.want(404, "GET", "/t/nosuch/.well-known/openid-configuration", "", nil)
	c.want(200, "GET", "/t/acme/jwks.json", "", nil)
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
	c.want(204, "DELETE", "/v1/tenants/acme/devices/kiosk", adm, nil)
	t.Logf("%d operations exercised", len(c.seen))
}
