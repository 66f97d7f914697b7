package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/signing"
)

// TestUserAuthorityEveryWay: a token for the same user carries the same
// authority claims (roles, groups, resources: the user's roles and groups
// expanded once) whichever way tokend issues it.
func TestUserAuthorityEveryWay(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		alice := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=alice@example.com", a, nil), 200).items()[0]["id"].(string)
		userSecret := want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+alice+"/signing-secret", a, nil), 200).str("signing_secret")
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", a, map[string]any{"id": "owner", "scopes": []string{"tokend:admin"}}), 201)
		ownerSecret := want(t, s.call(t, "POST", "/v1/tenants/shop/clients/owner/signing-secret", a, nil), 200).str("signing_secret")

		const signedPath = "/t/shop/tokens/generate"
		signedMint := func(secret, principal string, extra url.Values) string {
			p := url.Values{"principal": {principal}, "ts": {strconv.FormatInt(time.Now().Unix(), 10)}}
			for k, v := range extra {
				p[k] = v
			}
			p.Set("sig", signing.Sign(secret, "POST", signedPath, p))
			req, _ := http.NewRequest("POST", s.URL+signedPath, strings.NewReader(p.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return want(t, send(t, req), 200).str("access_token")
		}
		renew := func(tok string) string {
			req, _ := http.NewRequest("POST", s.URL+"/t/shop/tokens/renew", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return want(t, send(t, req), 200).str("access_token")
		}
		adminMint := func() response {
			return want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+alice+"/tokens", a, map[string]any{"lifetime": 3600}), 201)
		}

		ways := map[string]func() string{
			"password grant": func() string { tok, _ := o.login(t); return tok },
			"refresh": func() string {
				_, rt := o.login(t)
				return want(t, o.refresh(t, rt), 200).str("access_token")
			},
			"admin API mint":              func() string { return adminMint().str("access_token") },
			"signed request by the user":  func() string { return signedMint(userSecret, "user:"+alice, nil) },
			"signed request run_as":       func() string { return signedMint(ownerSecret, "client:owner", url.Values{"run_as": {"user:" + alice}}) },
			"renewal of a password token": func() string { tok, _ := o.login(t); return renew(tok) },
			"renewal of a minted token":   func() string { return renew(adminMint().str("access_token")) },
			"admin renewal of a minted one": func() string {
				id := adminMint().str("id")
				return want(t, s.call(t, "POST", "/v1/tenants/shop/tokens/"+id+"/renew", a, nil), 200).str("access_token")
			},
		}
		// setupOAuth gives alice the role reader (scope read, resource
		// orders/*) and the group staff (role writer).
		const wantAuthority = `roles=["reader","writer"] groups=["staff"] resources=["orders/*"]`
		for name, way := range ways {
			c := payload(t, way())
			if c["sub"] != alice {
				t.Fatalf("%s: sub %v", name, c["sub"])
			}
			got := "roles=" + jsonString(c["roles"]) + " groups=" + jsonString(c["groups"]) + " resources=" + jsonString(c["resources"])
			if got != wantAuthority {
				t.Errorf("%s: %s, want %s", name, got, wantAuthority)
			}
		}
	})
}
