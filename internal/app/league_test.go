package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tokend/tokend/verify"
)

// TestLeagueProfileAndLoginGroups: a tenant whose policy has profile
// "league" gets league-shaped tokens from the native token endpoint
// (header {"typ":"JWT","alg":"RS256"}, aud the client, sub the login,
// 80-hex jti, scopes, def50200 refresh tokens), and they are seen by
// introspection, the gateway check (with ?role=) and the verifier
// library; a client with a login group logs in only that group's users,
// and refuses the others as a wrong password.
func TestLeagueProfileAndLoginGroups(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		a := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": "lg", "policy": map[string]any{
			"password_grant": true, "signing_alg": "RS256", "profile": "league", "access_ttl": 3600}}), 201)
		p := "/v1/tenants/lg"
		want(t, s.call(t, "POST", p+"/roles", a, map[string]any{"name": "admin", "scopes": []string{"api"}}), 201)
		want(t, s.call(t, "POST", p+"/roles", a, map[string]any{"name": "user", "scopes": []string{"api"}}), 201)
		want(t, s.call(t, "POST", p+"/groups", a, map[string]any{"name": "admins"}), 201)
		want(t, s.call(t, "POST", p+"/groups", a, map[string]any{"name": "users"}), 201)
		want(t, s.call(t, "POST", p+"/users", a, map[string]any{"login": "root", "password": userPassword, "roles": []string{"admin"}, "groups": []string{"admins"}}), 201)
		want(t, s.call(t, "POST", p+"/users", a, map[string]any{"login": "bob@example.com", "password": userPassword, "roles": []string{"user"}, "groups": []string{"users"}}), 201)
		client := func(id, group string) string {
			return want(t, s.call(t, "POST", p+"/clients", a, map[string]any{"id": id, "grant_types": []string{"password", "refresh_token"},
				"scopes": []string{"api"}, "policy": map[string]any{"password_grant": true, "login_group": group}}), 201).str("client_secret")
		}
		adm, fe := client("adm", "admins"), client("fe", "users")
		rs := want(t, s.call(t, "POST", p+"/clients", a, map[string]any{"id": "rs", "scopes": []string{"tokend:introspect"}}), 201).str("client_secret")
		o := oauthTenant{s: s, ten: "lg"}
		login := func(id, secret, user string) response {
			return o.form(t, "token", id, secret, url.Values{"grant_type": {"password"}, "username": {user}, "password": {userPassword}, "scope": {"api"}})
		}

		r := want(t, login("adm", adm, "root"), 200)
		at, rt := r.str("access_token"), r.str("refresh_token")
		if !strings.HasPrefix(at, "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.") {
			t.Fatalf("header of %s", at)
		}
		if !regexp.MustCompile(`^def50200[0-9a-f]{72}$`).MatchString(rt) {
			t.Fatalf("refresh token %q", rt)
		}
		seg, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[1])
		var c map[string]any
		if err := json.Unmarshal(seg, &c); err != nil {
			t.Fatal(err)
		}
		if c["aud"] != "adm" || c["sub"] != "root" || !regexp.MustCompile(`^[0-9a-f]{80}$`).MatchString(c["jti"].(string)) ||
			c["nbf"] != c["iat"] || c["kind"] != "access" || c["iss"] != s.URL+"/t/lg" {
			t.Fatalf("claims %v", c)
		}
		if sc, _ := json.Marshal(c["scopes"]); string(sc) != `["api"]` {
			t.Fatalf("scopes %s", sc)
		}

		// Cross-group logins fail as a wrong password does.
		for _, tc := range [][2]string{{"adm", "bob@example.com"}, {"fe", "root"}} {
			secret := adm
			if tc[0] == "fe" {
				secret = fe
			}
			r := login(tc[0], secret, tc[1])
			if r.Status != 400 || r.str("error") != "invalid_grant" || r.str("error_description") != "invalid username or password" {
				t.Errorf("%s logs in %s: %d %s", tc[0], tc[1], r.Status, r.Raw)
			}
		}
		want(t, login("fe", fe, "bob@example.com"), 200)

		// Introspection, the gateway check with roles, the verifier library.
		in := want(t, o.form(t, "introspect", "rs", rs, url.Values{"token": {at}}), 200)
		if in.Body["active"] != true {
			t.Fatalf("introspection: %s", in.Raw)
		}
		check := func(role string) int {
			req, _ := http.NewRequest("GET", s.URL+"/t/lg/check?role="+role, nil)
			req.Header.Set("Authorization", "Bearer "+at)
			return send(t, req).Status
		}
		if check("admin") != 200 || check("user") != 403 {
			t.Errorf("gateway check: admin %d, user %d", check("admin"), check("user"))
		}
		v, err := verify.New(context.Background(), verify.Options{Issuer: s.URL + "/t/lg", Audience: "adm", Algorithms: []string{"RS256"}})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if cl, err := v.Verify(context.Background(), at); err != nil || !cl.HasRole("admin") {
			t.Fatalf("verifier library: %+v, %v", cl, err)
		}

		// Refresh keeps the shape and rotates; replay revokes the family.
		r2 := want(t, o.form(t, "token", "adm", adm, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}), 200)
		rt2 := r2.str("refresh_token")
		if !strings.HasPrefix(rt2, "def50200") || rt2 == rt || !strings.HasPrefix(r2.str("access_token"), "eyJ0eXAiOiJKV1Qi") {
			t.Fatalf("refresh: %s", r2.Raw)
		}
		rt3 := want(t, o.form(t, "token", "adm", adm, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}}), 200).str("refresh_token")
		if r := o.form(t, "token", "adm", adm, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); r.Status != 400 {
			t.Fatalf("replay: %d %s", r.Status, r.Raw)
		}
		if r := o.form(t, "token", "adm", adm, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt3}}); r.Status != 400 {
			t.Fatalf("family survives a replay: %d %s", r.Status, r.Raw)
		}
	})
}
