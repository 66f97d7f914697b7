package app_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// oauthTenant is a tenant with a service client, a password client that
// may refresh, a client allowed to introspect the tenant's tokens, a user
// with roles and groups, and a project.
type oauthTenant struct {
	s                              *server
	ten                            string
	svcSecret, appSecret, rsSecret string
}

const userPassword = "correct horse battery"

func setupOAuth(t *testing.T, s *server, ten string) oauthTenant {
	t.Helper()
	a := s.Admin
	want(t, s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": ten, "policy": map[string]any{"password_grant": true}}), 201)
	p := "/v1/tenants/" + ten
	want(t, s.call(t, "POST", p+"/projects", a, map[string]any{"id": "orders", "audience": "https://orders.example.com"}), 201)
	want(t, s.call(t, "POST", p+"/roles", a, map[string]any{"name": "reader", "scopes": []string{"read"}, "resources": []string{"orders/*"}}), 201)
	want(t, s.call(t, "POST", p+"/roles", a, map[string]any{"name": "writer", "scopes": []string{"write"}}), 201)
	want(t, s.call(t, "POST", p+"/groups", a, map[string]any{"name": "staff", "roles": []string{"writer"}}), 201)
	want(t, s.call(t, "POST", p+"/users", a, map[string]any{"login": "alice@example.com", "password": userPassword, "roles": []string{"reader"}, "groups": []string{"staff"}}), 201)
	svc := want(t, s.call(t, "POST", p+"/clients", a, map[string]any{"id": "svc", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read", "write"}, "audiences": []string{"https://orders.example.com"}}), 201).str("client_secret")
	app := want(t, s.call(t, "POST", p+"/clients", a, map[string]any{"id": "app", "grant_types": []string{"password", "refresh_token"},
		"scopes": []string{"read", "write", "admin"}, "policy": map[string]any{"password_grant": true}}), 201).str("client_secret")
	rs := want(t, s.call(t, "POST", p+"/clients", a, map[string]any{"id": "rs", "scopes": []string{"tokend:introspect"}}), 201).str("client_secret")
	return oauthTenant{s: s, ten: ten, svcSecret: svc, appSecret: app, rsSecret: rs}
}

func (o oauthTenant) tokenURL() string { return o.s.URL + "/t/" + o.ten + "/oauth2/token" }

// form posts a form to a tenant endpoint with HTTP Basic client auth.
func (o oauthTenant) form(t *testing.T, endpoint, id, secret string, v url.Values) response {
	t.Helper()
	return send(t, o.formRequest(t, endpoint, id, secret, v))
}

// formFrom is form sent from the loopback address ip.
func (o oauthTenant) formFrom(t *testing.T, ip, endpoint, id, secret string, v url.Values) response {
	t.Helper()
	return sendFrom(t, ip, o.formRequest(t, endpoint, id, secret, v))
}

func (o oauthTenant) formRequest(t *testing.T, endpoint, id, secret string, v url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", o.s.URL+"/t/"+o.ten+"/oauth2/"+endpoint, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return req
}

// introspect introspects tok as a client that may see it: a refresh token
// (only ever visible to its own client) as app, anything else as rs.
func (o oauthTenant) introspect(t *testing.T, tok string) response {
	t.Helper()
	id, secret := "rs", o.rsSecret
	if strings.HasPrefix(tok, "tkd_rt_") {
		id, secret = "app", o.appSecret
	}
	return want(t, o.form(t, "introspect", id, secret, url.Values{"token": {tok}}), 200)
}

func (o oauthTenant) active(t *testing.T, tok string) bool {
	t.Helper()
	r := o.introspect(t, tok)
	if r.Body["active"] != true {
		if strings.TrimSpace(string(r.Raw)) != `{"active":false}` {
			t.Fatalf("inactive introspection says more than active=false: %s", r.Raw)
		}
		return false
	}
	return true
}

func (o oauthTenant) login(t *testing.T) (access, refresh string) {
	t.Helper()
	r := want(t, o.form(t, "token", "app", o.appSecret, url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {userPassword}}), 200)
	return r.str("access_token"), r.str("refresh_token")
}

func (o oauthTenant) refresh(t *testing.T, rt string) response {
	t.Helper()
	return o.form(t, "token", "app", o.appSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func payload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOAuth2Clients runs golang.org/x/oauth2 unchanged against the token
// endpoint: client credentials (both client authentication methods), the
// password grant and refresh; go-oidc verifies the access tokens through
// discovery.
func TestOAuth2Clients(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		o := setupOAuth(t, start(t, b), "shop")
		ctx := context.Background()
		prov, err := oidc.NewProvider(ctx, o.s.URL+"/t/shop")
		if err != nil {
			t.Fatal(err)
		}
		verify := prov.VerifierContext(ctx, &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{"ES256"}})

		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cc := clientcredentials.Config{ClientID: "svc", ClientSecret: o.svcSecret, TokenURL: o.tokenURL(),
				Scopes: []string{"read"}, AuthStyle: style}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatalf("client credentials (auth style %d): %v", style, err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken != "" || time.Until(tok.Expiry) < 29*time.Minute {
				t.Fatalf("token %+v", tok)
			}
			if _, err := verify.Verify(ctx, tok.AccessToken); err != nil {
				t.Fatalf("go-oidc: %v", err)
			}
			c := payload(t, tok.AccessToken)
			for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} {
				if c[k] == nil {
					t.Fatalf("RFC 9068 claim %s missing: %v", k, c)
				}
			}
			if c["scope"] != "read" || c["aud"] != "https://orders.example.com" || c["sub"] != "svc" {
				t.Fatalf("claims %v", c)
			}
		}

		pw := oauth2.Config{ClientID: "app", ClientSecret: o.appSecret, Endpoint: oauth2.Endpoint{TokenURL: o.tokenURL()}}
		tok, err := pw.PasswordCredentialsToken(ctx, "Alice@Example.com", userPassword)
		if err != nil {
			t.Fatalf("password grant: %v", err)
		}
		if tok.RefreshToken == "" || !strings.HasPrefix(tok.RefreshToken, "tkd_rt_") {
			t.Fatalf("no refresh token: %+v", tok)
		}
		c := payload(t, tok.AccessToken)
		if c["scope"] != "read write" || c["sub_type"] != "user" || c["sid"] == nil ||
			!strings.Contains(jsonString(c["roles"]), "reader") || !strings.Contains(jsonString(c["roles"]), "writer") ||
			!strings.Contains(jsonString(c["groups"]), "staff") || !strings.Contains(jsonString(c["resources"]), "orders/*") {
			t.Fatalf("user token claims %v", c)
		}
		if _, err := verify.Verify(ctx, tok.AccessToken); err != nil {
			t.Fatalf("go-oidc on a user token: %v", err)
		}
		// An expired token makes the library refresh, rotating the refresh token.
		tok.Expiry = time.Now().Add(-time.Minute)
		fresh, err := pw.TokenSource(ctx, tok).Token()
		if err != nil {
			t.Fatalf("refresh through x/oauth2: %v", err)
		}
		if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
			t.Fatal("refresh did not rotate")
		}
		if payload(t, fresh.AccessToken)["sid"] != c["sid"] {
			t.Fatal("a refreshed token left its session")
		}
		// The library reports token endpoint errors with their RFC 6749 code.
		_, err = pw.PasswordCredentialsToken(ctx, "alice@example.com", "wrong password")
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("wrong password: %v", err)
		}
	})
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTokenEndpointErrors covers each RFC 6749 §5.2 error.
func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		o := setupOAuth(t, start(t, b), "shop")
		cc := url.Values{"grant_type": {"client_credentials"}}
		for _, tc := range []struct {
			name            string
			id, secret      string
			form            url.Values
			status          int
			code            string
			wwwAuthenticate bool
		}{
			{"no grant type", "svc", o.svcSecret, url.Values{}, 400, "invalid_request", false},
			{"repeated parameter", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials", "client_credentials"}}, 400, "invalid_request", false},
			{"unknown grant", "svc", o.svcSecret, url.Values{"grant_type": {"urn:x:magic"}}, 400, "unsupported_grant_type", false},
			{"wrong secret", "svc", "nope", cc, 401, "invalid_client", true},
			{"unknown client", "ghost", "nope", cc, 401, "invalid_client", true},
			{"no client", "", "", cc, 401, "invalid_client", true},
			{"grant not allowed", "app", o.appSecret, cc, 400, "unauthorized_client", false},
			{"scope not allowed", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, 400, "invalid_scope", false},
			{"unknown audience", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}, "audience": {"https://nope"}}, 400, "invalid_target", false},
			{"bad password", "app", o.appSecret, url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {"nope"}}, 400, "invalid_grant", false},
			{"unknown user", "app", o.appSecret, url.Values{"grant_type": {"password"}, "username": {"nobody@example.com"}, "password": {"nope"}}, 400, "invalid_grant", false},
			{"bad refresh token", "app", o.appSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tkd_rt_bogus"}}, 400, "invalid_grant", false},
			{"refresh token missing", "app", o.appSecret, url.Values{"grant_type": {"refresh_token"}}, 400, "invalid_request", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := o.form(t, "token", tc.id, tc.secret, tc.form)
				if r.Status != tc.status || r.str("error") != tc.code {
					t.Fatalf("%d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
				}
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Fatal("error response without Cache-Control: no-store")
				}
				if got := r.Header.Get("WWW-Authenticate") != ""; got != tc.wwwAuthenticate {
					t.Fatalf("WWW-Authenticate present = %v", got)
				}
			})
		}
		// The password grant is off unless both tenant and client enable it.
		want(t, s(o).call(t, "POST", "/v1/tenants/shop/clients", o.s.Admin, map[string]any{"id": "app2", "grant_types": []string{"password"}, "scopes": []string{"read"}}), 201)
		sec := want(t, s(o).call(t, "POST", "/v1/tenants/shop/clients/app2/secret", o.s.Admin, nil), 200).str("client_secret")
		r := o.form(t, "token", "app2", sec, url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {userPassword}})
		if r.Status != 400 || r.str("error") != "unauthorized_client" {
			t.Fatalf("password grant without client policy: %d %s", r.Status, r.Raw)
		}
	})
}

func s(o oauthTenant) *server { return o.s }

// TestRefreshRotation covers rotation, the grace retry of a lost response,
// theft within the grace, reuse detection and concurrent refreshes.
func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		o := setupOAuth(t, start(t, b), "shop")

		t.Run("lost response retry then reuse", func(t *testing.T) {
			// The response was lost: the client retries r0 within the grace
			// period and is given the same successor again.
			at0, r0, r1, retry := o.refreshTwice(t)
			at1 := retry.str("access_token")
			if !o.active(t, r1) || !o.active(t, at1) {
				t.Fatal("the retry's tokens are not active")
			}
			// A refresh's access token is in the ledger, committed with the
			// rotation.
			row := want(t, o.s.call(t, "GET", "/v1/tenants/shop/tokens/"+payload(t, at1)["jti"].(string), o.s.Admin, nil), 200)
			if row.str("kind") != "access" || row.str("session_id") == "" {
				t.Fatalf("ledger row of the refresh's access token: %s", row.Raw)
			}
			r2 := want(t, o.refresh(t, r1), 200).str("refresh_token")
			// r1 has been used: r0 is no retry any more but theft, and the
			// whole family goes.
			o.wantReuse(t, r0, map[string]string{"first access": at0, "retry's access": at1, "newest refresh": r2})
			if r := o.refresh(t, r2); r.Status != 400 {
				t.Fatalf("refresh with a revoked family: %d", r.Status)
			}
		})

		// RFC 9700 §4.14.2: a thief replaying the spent token within the
		// grace gets the same successor as the client, never a second one,
		// and whichever of the two uses it second revokes the family.
		t.Run("theft within the grace", func(t *testing.T) {
			at0, _, r1, stolen := o.refreshTwice(t)
			first := want(t, o.refresh(t, r1), 200)
			r2 := first.str("refresh_token")
			if r2 == r1 || r2 == "" {
				t.Fatalf("the first use of the successor got refresh token %q", r2)
			}
			o.wantReuse(t, r1, map[string]string{"login's access": at0, "replay's access": stolen.str("access_token"),
				"first user's access": first.str("access_token"), "first user's refresh": r2})
		})

		t.Run("concurrent", func(t *testing.T) {
			_, rt := o.login(t)
			const n = 50
			var wg sync.WaitGroup
			status, got, errs := make([]int, n), make([]string, n), make([]error, n)
			for i := range n {
				wg.Go(func() { status[i], got[i], errs[i] = o.tryRefresh(rt) })
			}
			wg.Wait()
			distinct := map[string]bool{}
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("refresh %d: %v", i, errs[i])
				}
				if status[i] != 200 {
					t.Errorf("refresh %d: status %d, want 200 (a retry within the grace)", i, status[i])
					continue
				}
				distinct[got[i]] = true
			}
			if len(distinct) != 1 {
				t.Fatalf("%d distinct successors among the 200s of %d concurrent refreshes, want 1", len(distinct), n)
			}
			for r := range distinct {
				if !o.active(t, r) {
					t.Fatal("the one successor is not active")
				}
				want(t, o.refresh(t, r), 200)
			}
			if o.active(t, rt) {
				t.Fatal("the spent refresh token is still active")
			}
		})

		t.Run("a refused refresh spends nothing", func(t *testing.T) {
			_, rt := o.login(t)
			for name, extra := range map[string]url.Values{
				"scope beyond the grant": {"scope": {"admin:everything"}},
				"unknown audience":       {"audience": {"https://nowhere.example"}},
			} {
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
				for k, v := range extra {
					form[k] = v
				}
				if r := o.form(t, "token", "app", o.appSecret, form); r.Status != 400 {
					t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
				}
			}
			if !o.active(t, rt) {
				t.Fatal("a refused refresh spent the refresh token")
			}
			want(t, o.refresh(t, rt), 200)
		})

		t.Run("another client", func(t *testing.T) {
			_, rt := o.login(t)
			r := o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if r.Status != 400 {
				t.Fatalf("refresh by another client: %d %s", r.Status, r.Raw)
			}
		})
	})
}

// refreshTwice logs in, refreshes the login's refresh token r0 and then
// presents r0 again within the grace; it checks that both answers carry the
// same successor r1 and returns the login's access token, r0, r1 and the
// second answer.
func (o oauthTenant) refreshTwice(t *testing.T) (at0, r0, r1 string, again response) {
	t.Helper()
	at0, r0 = o.login(t)
	r1 = want(t, o.refresh(t, r0), 200).str("refresh_token")
	again = want(t, o.refresh(t, r0), 200)
	if got := again.str("refresh_token"); got != r1 {
		t.Fatalf("presenting the spent token again within the grace got refresh token %q, want its successor %q", got, r1)
	}
	return at0, r0, r1, again
}

// wantReuse presents the superseded refresh token rt and checks that it is
// refused as a reuse, that the family's tokens are then all inactive and
// that a token.reuse event was audited.
func (o oauthTenant) wantReuse(t *testing.T, rt string, family map[string]string) {
	t.Helper()
	before := len(want(t, o.s.call(t, "GET", "/v1/tenants/"+o.ten+"/audit?action=token.reuse", o.s.Admin, nil), 200).items())
	r := o.refresh(t, rt)
	if r.Status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("reuse: %d %s", r.Status, r.Raw)
	}
	for name, tok := range family {
		if o.active(t, tok) {
			t.Errorf("%s token survived reuse detection", name)
		}
	}
	if n := len(want(t, o.s.call(t, "GET", "/v1/tenants/"+o.ten+"/audit?action=token.reuse", o.s.Admin, nil), 200).items()); n != before+1 {
		t.Errorf("%d token.reuse audit events after the reuse, want %d", n, before+1)
	}
}

// tryRefresh is refresh for goroutines other than the test's: it returns
// the status, the refresh token of a 200 and any transport error.
func (o oauthTenant) tryRefresh(rt string) (int, string, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, err := http.NewRequest("POST", o.tokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", url.QueryEscape(o.appSecret))
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.RefreshToken, nil
}

// TestIntrospectionAndRevocation covers RFC 7662 and RFC 7009.
func TestIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		srv := start(t, b)
		o := setupOAuth(t, srv, "shop")
		other := setupOAuth(t, srv, "other")
		cc := url.Values{"grant_type": {"client_credentials"}}
		mint := func() string {
			return want(t, o.form(t, "token", "svc", o.svcSecret, cc), 200).str("access_token")
		}
		tok := mint()
		r := o.introspect(t, tok)
		if r.Body["active"] != true || r.str("client_id") != "svc" || r.str("sub") != "svc" || r.str("token_type") != "Bearer" ||
			r.Body["exp"] == nil || r.str("iss") != srv.URL+"/t/shop" {
			t.Fatalf("introspection %s", r.Raw)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("introspection is cacheable")
		}
		foreign := want(t, other.form(t, "token", "svc", other.svcSecret, cc), 200).str("access_token")
		parts := strings.Split(tok, ".")
		for name, raw := range map[string]string{
			"unknown opaque":  "tkd_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA000000",
			"malformed":       "not-a-token",
			"foreign tenant":  foreign,
			"bad signature":   parts[0] + "." + parts[1] + ".AAAA",
			"admin of system": srv.Admin,
		} {
			if o.active(t, raw) {
				t.Fatalf("%s token introspects active", name)
			}
		}
		// Client authentication is required.
		if r := o.form(t, "introspect", "svc", "wrong", url.Values{"token": {tok}}); r.Status != 401 || r.str("error") != "invalid_client" {
			t.Fatalf("introspection with a bad secret: %d %s", r.Status, r.Raw)
		}
		if r := o.form(t, "introspect", "svc", o.svcSecret, url.Values{}); r.Status != 400 {
			t.Fatalf("introspection without token: %d", r.Status)
		}

		// Revocation: unknown → 200; an access token → only that one.
		want(t, o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {"tkd_at_unknown"}}), 200)
		keep := mint()
		want(t, o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {tok}}), 200)
		if o.active(t, tok) || !o.active(t, keep) {
			t.Fatal("revoking an access token revoked the wrong tokens")
		}
		// Another client may not revoke svc's token.
		if r := o.form(t, "revoke", "app", o.appSecret, url.Values{"token": {keep}}); r.Status != 400 || !o.active(t, keep) {
			t.Fatalf("revocation by another client: %d %s", r.Status, r.Raw)
		}
		// A refresh token takes its family with it.
		at, rt := o.login(t)
		if rr := o.introspect(t, rt); rr.str("token_type") != "refresh_token" || rr.str("username") == "" {
			t.Fatalf("refresh introspection %s", rr.Raw)
		}
		want(t, o.form(t, "revoke", "app", o.appSecret, url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}), 200)
		if o.active(t, rt) || o.active(t, at) {
			t.Fatal("revoking a refresh token left its family alive")
		}
		// Bearer use of a revoked token fails too.
		admin := want(t, o.s.call(t, "POST", "/v1/tenants/shop/clients", o.s.Admin, map[string]any{"id": "ops", "grant_types": []string{"client_credentials"}, "scopes": []string{"tokend:admin"}}), 201).str("client_secret")
		adminTok := want(t, o.form(t, "token", "ops", admin, cc), 200).str("access_token")
		want(t, o.s.call(t, "GET", "/v1/whoami", adminTok, nil), 200)
		want(t, o.form(t, "revoke", "ops", admin, url.Values{"token": {adminTok}}), 200)
		want(t, o.s.call(t, "GET", "/v1/whoami", adminTok, nil), 401)
	})
}

// TestRevokeAllCutoff: a cutoff revokes every matching token issued before
// it and none issued after it, even within the same second.
func TestRevokeAllCutoff(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		o := setupOAuth(t, start(t, b), "shop")
		cc := url.Values{"grant_type": {"client_credentials"}}
		mint := func() string { return want(t, o.form(t, "token", "svc", o.svcSecret, cc), 200).str("access_token") }
		for _, tc := range []struct {
			scope, subjectType, key string
			login                   bool
		}{
			{"client", "", "svc", false},
			{"subject", "client", "svc", false},
			{"tenant", "", "", false},
			{"session", "", "", true},
		} {
			t.Run(tc.scope, func(t *testing.T) {
				before, key := mint(), tc.key
				if tc.login {
					before, _ = o.login(t)
					key = payload(t, before)["sid"].(string)
				}
				issued := time.Unix(int64(payload(t, before)["iat"].(float64)), 0)
				body := map[string]any{"scope": tc.scope, "key": key}
				if tc.subjectType != "" {
					body["subject_type"] = tc.subjectType
				}
				rev := want(t, o.s.call(t, "POST", "/v1/tenants/shop/revocations", o.s.Admin, body), 201)
				after := mint()
				if tc.login {
					after, _ = o.login(t)
				}
				if o.active(t, before) {
					t.Fatal("a token issued before the cutoff is active")
				}
				if !o.active(t, after) {
					t.Fatal("a token issued after the cutoff was revoked")
				}
				if time.Unix(int64(payload(t, after)["iat"].(float64)), 0).Equal(issued) {
					t.Logf("before and after were issued in the same second (%s)", rev.str("cutoff"))
				}
			})
		}
		r := o.s.call(t, "POST", "/v1/tenants/shop/revocations", o.s.Admin, map[string]any{"scope": "planet", "key": "x"})
		if r.Status != 422 || r.str("field") != "scope" {
			t.Fatalf("bad scope: %d %s", r.Status, r.Raw)
		}
		if r := o.s.call(t, "POST", "/v1/tenants/shop/revocations", o.s.Admin, map[string]any{"scope": "subject", "subject_type": "client"}); r.Status != 422 {
			t.Fatalf("subject without key: %d %s", r.Status, r.Raw)
		}
	})
}

// TestPasswordThrottle: failures back off per account, the same whether
// the account exists or not.
func TestPasswordThrottle(t *testing.T) {
	t.Parallel()
	o := setupOAuth(t, start(t, backends[0]), "shop")
	for _, user := range []string{"alice@example.com", "nobody@example.com"} {
		bad := url.Values{"grant_type": {"password"}, "username": {user}, "password": {"wrong"}}
		for i := range 5 {
			if r := o.form(t, "token", "app", o.appSecret, bad); r.Status != 400 || r.str("error") != "invalid_grant" {
				t.Fatalf("%s failure %d: %d %s", user, i+1, r.Status, r.Raw)
			}
		}
		// The sixth failure blocks the account; the next attempt, even with
		// the right password, is refused without checking it.
		o.form(t, "token", "app", o.appSecret, bad)
		good := url.Values{"grant_type": {"password"}, "username": {user}, "password": {userPassword}}
		if r := o.form(t, "token", "app", o.appSecret, good); r.Status != 429 {
			t.Fatalf("%s: attempt while blocked: %d %s", user, r.Status, r.Raw)
		}
	}
}

// TestRevocationNotStoredIs503: when the database cannot take the
// revocation, the answer is 503, never 200.
func TestRevocationNotStoredIs503(t *testing.T) {
	t.Parallel()
	srv := start(t, backends[0])
	o := setupOAuth(t, srv, "shop")
	tok := want(t, o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
	want(t, o.form(t, "introspect", "svc", o.svcSecret, url.Values{"token": {tok}}), 200) // the client is now cached
	if err := srv.App.Store().Close(); err != nil {
		t.Fatal(err)
	}
	r := o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {tok}})
	if r.Status != 503 || r.str("error") != "temporarily_unavailable" {
		t.Fatalf("revocation with the database gone: %d %s", r.Status, r.Raw)
	}
}

// feed reads the revocation feed as client svc.
func (o oauthTenant) feed(t *testing.T, query string) response {
	t.Helper()
	req, err := http.NewRequest("GET", o.s.URL+"/t/"+o.ten+"/revocations?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("svc", o.svcSecret)
	return send(t, req)
}

// TestRevocationFeed: ordered, resumable, tenant-scoped, long-polled.
func TestRevocationFeed(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		srv := start(t, b)
		o := setupOAuth(t, srv, "shop")
		other := setupOAuth(t, srv, "other")
		cc := url.Values{"grant_type": {"client_credentials"}}
		var jtis []string
		for range 3 {
			tok := want(t, o.form(t, "token", "svc", o.svcSecret, cc), 200).str("access_token")
			jtis = append(jtis, payload(t, tok)["jti"].(string))
			want(t, o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {tok}}), 200)
		}
		want(t, other.s.call(t, "POST", "/v1/tenants/other/revocations", srv.Admin, map[string]any{"scope": "client", "key": "svc"}), 201)
		want(t, srv.call(t, "POST", "/v1/tenants/shop/revocations", srv.Admin, map[string]any{"scope": "subject", "subject_type": "user", "key": "alice"}), 201)

		page := want(t, o.feed(t, "after=0&limit=2"), 200)
		items := page.items()
		if len(items) != 2 || items[0]["scope"] != "token" || items[0]["key"] != jtis[0] || items[1]["key"] != jtis[1] ||
			items[0]["tenant"] != "shop" || items[0]["cutoff"] == nil {
			t.Fatalf("first page %s", page.Raw)
		}
		rest := want(t, o.feed(t, "after="+page.str("next")), 200).items()
		if len(rest) != 2 || rest[0]["key"] != jtis[2] || rest[1]["scope"] != "subject" || rest[1]["subject_type"] != "user" {
			t.Fatalf("second page %v", rest)
		}
		last := want(t, o.feed(t, "after=0"), 200).str("next")
		if empty := want(t, o.feed(t, "after="+last), 200); len(empty.items()) != 0 || empty.str("next") != last {
			t.Fatalf("caught-up page %s", empty.Raw)
		}

		// Long poll: an empty wait is answered as soon as a revocation lands.
		done := make(chan response, 1)
		go func() { done <- o.feed(t, "after="+last+"&wait=8") }()
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		want(t, srv.call(t, "POST", "/v1/tenants/shop/revocations", srv.Admin, map[string]any{"scope": "client", "key": "app"}), 201)
		select {
		case r := <-done:
			if it := want(t, r, 200).items(); len(it) != 1 || it[0]["key"] != "app" {
				t.Fatalf("long poll answer %s", r.Raw)
			}
			t.Logf("long poll answered %v after the revocation", time.Since(start))
		case <-time.After(8 * time.Second):
			t.Fatal("long poll not woken by a revocation")
		}

		req, _ := http.NewRequest("GET", srv.URL+"/t/shop/revocations", nil)
		if r := send(t, req); r.Status != 401 || r.str("error") != "invalid_client" {
			t.Fatalf("unauthenticated feed: %d %s", r.Status, r.Raw)
		}
		for _, q := range []string{"after=-1", "limit=0", "wait=99", "after=x"} {
			if r := o.feed(t, q); r.Status != 400 {
				t.Fatalf("%s: %d %s", q, r.Status, r.Raw)
			}
		}
	})
}

// TestGatewayCheck drives /t/{tenant}/check as nginx auth_request would.
func TestGatewayCheck(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		srv := start(t, b)
		o := setupOAuth(t, srv, "shop")
		other := setupOAuth(t, srv, "other")
		cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
		tok := want(t, o.form(t, "token", "svc", o.svcSecret, cc), 200).str("access_token")
		foreign := want(t, other.form(t, "token", "svc", other.svcSecret, cc), 200).str("access_token")
		_, refresh := o.login(t)
		revoked := want(t, o.form(t, "token", "svc", o.svcSecret, cc), 200).str("access_token")
		want(t, o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {revoked}}), 200)

		check := func(method, query string, hdr map[string]string) response {
			req, _ := http.NewRequest(method, srv.URL+"/t/shop/check"+query, nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return send(t, req)
		}
		r := want(t, check("GET", "", map[string]string{"Authorization": "Bearer " + tok, "X-Forwarded-Uri": "/orders"}), 200)
		if r.Header.Get("X-Tokend-Subject") != "svc" || r.Header.Get("X-Tokend-Tenant") != "shop" || r.Header.Get("X-Tokend-Scope") != "read" ||
			r.Header.Get("X-Tokend-Kind") != "access" || r.Header.Get("X-Tokend-Client") != "svc" {
			t.Fatalf("identity headers %v", r.Header)
		}
		want(t, check("POST", "?scope=read", map[string]string{"Authorization": "Bearer " + tok}), 200)
		want(t, check("GET", "", map[string]string{"Cookie": "tokend_session=" + tok}), 200)
		for _, tc := range []struct {
			name      string
			query     string
			hdr       map[string]string
			status    int
			challenge string
		}{
			{"no token", "", nil, 401, "Bearer"},
			{"revoked", "", map[string]string{"Authorization": "Bearer " + revoked}, 401, `error="invalid_token"`},
			{"other tenant", "", map[string]string{"Authorization": "Bearer " + foreign}, 401, `error="invalid_token"`},
			{"refresh token", "", map[string]string{"Authorization": "Bearer " + refresh}, 401, `error="invalid_token"`},
			{"missing scope", "?scope=write", map[string]string{"Authorization": "Bearer " + tok}, 403, `error="insufficient_scope"`},
			{"garbage", "", map[string]string{"Authorization": "Bearer nope"}, 401, `error="invalid_token"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := check("GET", tc.query, tc.hdr)
				ch := r.Header.Get("WWW-Authenticate")
				if r.Status != tc.status || !strings.Contains(ch, tc.challenge) || r.str("error_description") == "" {
					t.Fatalf("%d %q %s", r.Status, ch, r.Raw)
				}
			})
		}
	})
}

// TestTokenMetrics: issuances, revocations and failed authentications
// show in /metrics.
func TestTokenMetrics(t *testing.T) {
	t.Parallel()
	s := start(t, backends[0])
	o := setupOAuth(t, s, "shop")
	tok := want(t, o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
	o.form(t, "token", "svc", "wrong", url.Values{"grant_type": {"client_credentials"}})
	want(t, o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {tok}}), 200)
	m := string(want(t, s.call(t, "GET", "/metrics", "", nil), 200).Raw)
	for _, line := range []string{
		`tokend_tokens_issued_total{kind="access"}`,
		`tokend_events_total{action="token.revoke",outcome="success"} 1`,
		`tokend_events_total{action="auth.client",outcome="failure"} 1`,
		`tokend_denylist_entries 1`,
		`go_sql_max_open_connections{db_name="tokend"} 1`,
	} {
		if !strings.Contains(m, line) {
			t.Errorf("metrics lack %s", line)
		}
	}
	// A login's access and refresh tokens share one commit.
	commits := func() int {
		m := string(want(t, s.call(t, "GET", "/metrics", "", nil), 200).Raw)
		got := regexp.MustCompile(`tokend_ledger_commit_requests_count ([0-9]+)`).FindStringSubmatch(m)
		if got == nil {
			t.Fatal("no ledger commits in /metrics")
		}
		n, _ := strconv.Atoi(got[1])
		return n
	}
	c0 := commits()
	// Only committed issuances count: a refresh refused as a reuse signs
	// an access token, but never hands it out or records it.
	_, r0 := o.login(t)
	if c := commits(); c != c0+1 {
		t.Errorf("a login took %d commits, want 1", c-c0)
	}
	r1 := want(t, o.refresh(t, r0), 200).str("refresh_token")
	want(t, o.refresh(t, r1), 200) // r0 is now superseded by a used token
	issued := func() int {
		m := string(want(t, s.call(t, "GET", "/metrics", "", nil), 200).Raw)
		got := regexp.MustCompile(`tokend_tokens_issued_total\{kind="access"\} ([0-9]+)`).FindStringSubmatch(m)
		if got == nil {
			t.Fatal("no issued access tokens in /metrics")
		}
		n, _ := strconv.Atoi(got[1])
		return n
	}
	before := issued()
	if r := o.refresh(t, r0); r.Status != 400 {
		t.Fatalf("reuse: %d %s", r.Status, r.Raw)
	}
	if after := issued(); after != before {
		t.Errorf("issued access tokens went from %d to %d on a refused refresh", before, after)
	}
	if before != 4 {
		t.Errorf("%d issued access tokens, want 4 (client credentials, login, two refreshes)", before)
	}
	// The issuance and the failed authentication were group-committed.
	for _, re := range []string{`tokend_ledger_commit_seconds_count\{outcome="ok"\} ([0-9]+)`, `tokend_ledger_commit_requests_sum ([0-9]+)`} {
		got := regexp.MustCompile(re).FindStringSubmatch(m)
		if got == nil {
			t.Errorf("metrics lack %s", re)
		} else if n, _ := strconv.Atoi(got[1]); n < 2 {
			t.Errorf("%s: %d, want at least 2", re, n)
		}
	}
}

// TestRevocationEvents: the feed as server-sent events, resumable with
// Last-Event-ID; open streams end when the server shuts down.
func TestRevocationEvents(t *testing.T) {
	t.Parallel()
	s := start(t, backends[0])
	o := setupOAuth(t, s, "shop")
	revoke := func() {
		tok := want(t, o.form(t, "token", "svc", o.svcSecret, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
		want(t, o.form(t, "revoke", "svc", o.svcSecret, url.Values{"token": {tok}}), 200)
	}
	revoke()
	open := func(lastID string) (*bufio.Reader, func()) {
		req, _ := http.NewRequest("GET", s.URL+"/t/shop/revocations", nil)
		req.SetBasicAuth("svc", o.svcSecret)
		req.Header.Set("Accept", "text/event-stream")
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return bufio.NewReader(resp.Body), func() { resp.Body.Close() }
	}
	// next reads one event: its id and data.
	next := func(rd *bufio.Reader) (string, string) {
		var id, data string
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended: %v", err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			case line == "" && data != "":
				return id, data
			}
		}
	}
	rd, closeStream := open("")
	id1, data1 := next(rd)
	if !strings.Contains(data1, `"scope":"token"`) {
		t.Fatalf("first event %s", data1)
	}
	done := make(chan string, 1)
	go func() { id, _ := next(rd); done <- id }()
	revoke()
	var id2 string
	select {
	case id2 = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no event for a new revocation")
	}
	closeStream()
	if id2 <= id1 && len(id2) <= len(id1) {
		t.Fatalf("event ids %s then %s", id1, id2)
	}
	// Resuming after the first event starts at the second.
	rd2, _ := open(id1)
	if id, _ := next(rd2); id != id2 {
		t.Fatalf("resumed at %s, want %s", id, id2)
	}
	// The stream stays open; the server's shutdown (test cleanup) ends it.
}
