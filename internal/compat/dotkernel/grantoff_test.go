package dotkernel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/golden"
)

// TestPasswordGrantOff (RFC 9700 §2.4): a host whose tenant has not
// enabled the surface gets no token endpoint at all, and a tenant that
// enabled the surface but not the password grant refuses it.
func TestPasswordGrantOff(t *testing.T) {
	t.Parallel()
	var s *apptest.Server
	s = apptest.StartWith(t, "", apptest.Options{Config: func(c *config.Config) {
		c.Dev = true
		// Requests sent to "localhost" serve the demo tenant, which has
		// the password grant but not the surface.
		c.SurfaceHosts = "localhost=demo"
	}})
	if _, _, err := s.App.DevSetup(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := client{t: t, s: s, assert: golden.Assert}
	other := *s
	other.URL = strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
	oc := client{t: t, s: &other, assert: golden.Assert}
	oc.want(oc.do("not_enabled_generate_token", "POST", "/security/generate-token", adminLogin), 404)
	oc.want(oc.do("", "GET", "/admin/my-account", ""), 404)

	c.want(c.do("", "POST", "/security/generate-token", adminLogin), 200)
	c.s.Call(t, "PATCH", "/v1/tenants/dotkernel", c.s.Admin, map[string]any{"policy": map[string]any{
		"signing_alg": "RS256", "access_ttl": 86400, "max_access_ttl": 86400, "profile": "league"}}, 200)
	deadline := time.Now().Add(10 * time.Second)
	for {
		e := c.do("", "POST", "/security/generate-token", adminLogin)
		if e.Status != 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the password grant stays on after the tenant turned it off")
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.want(c.do("password_grant_off", "POST", "/security/generate-token", adminLogin), 400)
}

// TestExpiredAccessToken: an expired access token makes its bearer a
// guest (403), as in Dotkernel, once the verifier's clock-skew leeway
// (30 s) has passed too.
func TestExpiredAccessToken(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the token to expire")
	}
	t.Parallel()
	s := dev(t, "")
	c := client{t: t, s: s, assert: golden.Assert}
	s.Call(t, "PATCH", "/v1/tenants/dotkernel/clients/admin", s.Admin, map[string]any{"policy": map[string]any{
		"password_grant": true, "login_group": "admins", "access_ttl": 1}}, 200)
	var at string
	deadline := time.Now().Add(10 * time.Second)
	for {
		e := c.want(c.do("", "POST", "/security/generate-token", adminLogin), 200)
		if e.Body["expires_in"] == float64(1) {
			at = e.str("access_token")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client's access_ttl does not apply: %s", e.Raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.want(c.do("", "GET", "/admin/my-account", "", "Authorization", "Bearer "+at), 200)
	time.Sleep(32 * time.Second)
	c.want(c.do("forbidden_expired_token", "GET", "/admin/my-account", "", "Authorization", "Bearer "+at), 403)
}
