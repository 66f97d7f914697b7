package verify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/verify"
)

// tokend is a real server on loopback with a tenant "shop" and a service
// client "svc".
type tokend struct {
	*apptest.Server
	url, admin, svcSecret string
}

func startTokend(t *testing.T) *tokend {
	t.Helper()
	s, secret := apptest.StartShop(t)
	return &tokend{Server: s, url: s.URL, admin: s.Admin, svcSecret: secret}
}

// call sends an admin API request with the bootstrap key.
func (s *tokend) call(t *testing.T, method, path string, body any, status int) map[string]any {
	t.Helper()
	return s.Call(t, method, path, s.admin, body, status)
}

func (s *tokend) token(t *testing.T, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	req, _ := http.NewRequest("POST", s.url+"/t/shop/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", s.svcSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	tok, _ := m["access_token"].(string)
	if tok == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	return tok
}

func jti(t *testing.T, tok string) string {
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m["jti"].(string)
}

// TestVerifierAgainstTokend runs the library against a real server: JWKS
// through discovery, audience and algorithm checks, key rotation, the
// revocation feed, opaque tokens by introspection, and the middleware.
func TestVerifierAgainstTokend(t *testing.T) {
	t.Parallel()
	s := startTokend(t)
	ctx := context.Background()
	v, err := verify.New(ctx, verify.Options{Issuer: s.url + "/t/shop", Audience: "api", Algorithms: []string{"ES256"},
		ClientID: "svc", ClientSecret: s.svcSecret, RefreshEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	<-v.Synced()

	tok := s.token(t, "read")
	c, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "svc" || c.Scope != "read" {
		t.Fatalf("claims %+v", c)
	}

	// Another audience or algorithm list refuses the same token.
	other, err := verify.New(ctx, verify.Options{Issuer: s.url + "/t/shop", Audience: "billing", Algorithms: []string{"ES256"},
		ClientID: "svc", ClientSecret: s.svcSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Verify(ctx, tok); err == nil || !strings.Contains(err.Error(), "invalid_token: audience mismatch") {
		t.Fatalf("a token for another audience: %v", err)
	}
	eddsaOnly, err := verify.New(ctx, verify.Options{Issuer: s.url + "/t/shop", Audience: "api", Algorithms: []string{"EdDSA"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eddsaOnly.Close()
	if _, err := eddsaOnly.Verify(ctx, tok); err == nil {
		t.Fatal("an ES256 token verified with an EdDSA-only allow-list")
	}

	// A rotated key is fetched on its first unknown kid.
	s.call(t, "POST", "/v1/tenants/shop/keys/rotate", map[string]any{}, 201)
	if _, err := v.Verify(ctx, s.token(t, "read")); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("token of the retired key: %v", err)
	}

	// Revocations arrive through the feed, without a call per request.
	s.call(t, "POST", "/v1/tenants/shop/tokens/"+jti(t, tok)+"/revoke", nil, 200)
	later := s.token(t, "read")
	waitRefused(t, v, tok)
	s.call(t, "POST", "/v1/tenants/shop/revocations", map[string]any{"scope": "client", "key": "svc"}, 201)
	waitRefused(t, v, later)
	fresh := s.token(t, "read write")
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("a token issued after the cutoff: %v", err)
	}

	// Opaque tokens are checked by introspection.
	op := s.call(t, "POST", "/v1/tenants/shop/tokens", map[string]any{"client_id": "svc", "scope": "read", "audience": "api", "format": "opaque"}, 201)["access_token"].(string)
	if c, err := v.Verify(ctx, op); err != nil || c.Subject != "svc" {
		t.Fatalf("opaque token: %v %+v", err, c)
	}
	if _, err := other.Verify(ctx, op); err == nil || !strings.Contains(err.Error(), "invalid_token: audience mismatch") {
		t.Fatalf("an opaque token for another audience: %v", err)
	}

	// The middleware: claims in the context, RFC 6750 answers.
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.FromContext(r.Context())
		_, _ = io.WriteString(w, c.Subject)
	}), "write")
	for _, tc := range []struct {
		name, auth string
		status     int
		challenge  string
	}{
		{"allowed", "Bearer " + fresh, 200, ""},
		{"no token", "", 401, "Bearer"},
		{"revoked", "Bearer " + tok, 401, `error="invalid_token"`},
		{"missing scope", "Bearer " + s.token(t, "read"), 403, `error="insufficient_scope"`},
		{"garbage", "Bearer x.y.z", 401, `error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			ch := w.Header().Get("WWW-Authenticate")
			if w.Code != tc.status || !strings.Contains(ch, tc.challenge) || (tc.challenge == "Bearer" && ch != "Bearer") {
				t.Fatalf("%d %q %s", w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
			}
			if tc.status == 200 && w.Body.String() != "svc" {
				t.Fatalf("handler saw %q", w.Body)
			}
		})
	}
}

// waitRefused waits (bounded) until the verifier refuses tok.
func waitRefused(t *testing.T, v *verify.Verifier, tok string) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		_, err := v.Verify(context.Background(), tok)
		var e *verify.Error
		if errors.As(err, &e) && e.Code == "invalid_token" {
			t.Logf("revocation seen by the library after %v", time.Since(start))
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the library never saw the revocation")
}

func TestNewRequiresSecurityParameters(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]verify.Options{
		"no audience":   {Issuer: "http://127.0.0.1:1/t/x", Algorithms: []string{"ES256"}},
		"no algorithms": {Issuer: "http://127.0.0.1:1/t/x", Audience: "api"},
		"alg none":      {Issuer: "http://127.0.0.1:1/t/x", Audience: "api", Algorithms: []string{"none"}},
		"HS256":         {Issuer: "http://127.0.0.1:1/t/x", Audience: "api", Algorithms: []string{"HS256"}},
		"no issuer":     {Audience: "api", Algorithms: []string{"ES256"}},
	} {
		if _, err := verify.New(context.Background(), o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestVerifierKindRules: the library applies each kind's rules to tokens
// minted by a real server, as the gateway check does.
func TestVerifierKindRules(t *testing.T) {
	t.Parallel()
	s := startTokend(t)
	ctx := context.Background()
	sec := s.call(t, "POST", "/v1/tenants/shop/clients", map[string]any{"id": "shopapp", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "tokend:mint:storefront", "tokend:mint:private"}, "audiences": []string{"api"}}, 201)["client_secret"].(string)
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", s.url+"/t/shop/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("shopapp", sec)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	bearer := m["access_token"].(string)
	mint := func(body map[string]any) string {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", s.url+"/t/shop/tokens", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		tok, _ := out["token"].(string)
		if resp.StatusCode != 201 || tok == "" {
			t.Fatalf("mint %v: %d %v", body, resp.StatusCode, out)
		}
		return tok
	}
	exp := time.Now().Add(time.Hour).Unix()
	storefront := mint(map[string]any{"kind": "storefront", "expires_at": exp, "allowed_cors_origins": []string{"https://shop.example.com"}})
	private := mint(map[string]any{"kind": "private", "expires_at": exp})

	v, err := verify.New(ctx, verify.Options{Issuer: s.url + "/t/shop", Audience: "api", Algorithms: []string{"ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	for _, tc := range []struct {
		name, tok, hdr, val string
		status              int
	}{
		{"storefront from its origin", storefront, "Origin", "https://shop.example.com", 204},
		{"storefront from another origin", storefront, "Origin", "https://evil.example.com", 403},
		{"storefront without origin", storefront, "", "", 403},
		{"private server to server", private, "", "", 204},
		{"private from a browser", private, "Sec-Fetch-Site", "cross-site", 403},
		{"storefront with two origins", storefront, "Origin", "https://shop.example.com\nhttps://evil.example.com", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api", nil)
			req.Header.Set("Authorization", "Bearer "+tc.tok)
			if tc.hdr != "" {
				for _, v := range strings.Split(tc.val, "\n") { // one header line each
					req.Header.Add(tc.hdr, v)
				}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
}
