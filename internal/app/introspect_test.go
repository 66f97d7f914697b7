package app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestIntrospectionIsPerCaller: a client sees a token only if it is the
// token's client, an intended audience of it, or holds an introspection
// right; refresh tokens only their own client sees. Every other answer is
// exactly {"active":false}, as for an unknown token (RFC 7662 §2.2, §4).
func TestIntrospectionIsPerCaller(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		p := "/v1/tenants/shop"
		client := func(id string, body map[string]any) string {
			t.Helper()
			body["id"] = id
			return want(t, s.call(t, "POST", p+"/clients", s.Admin, body), 201).str("client_secret")
		}
		cc := []string{"client_credentials"}
		secrets := map[string]string{"svc": o.svcSecret, "app": o.appSecret, "rs": o.rsSecret,
			// Another caller of the orders API: shares svc's audience, not its tokens.
			"peer": client("peer", map[string]any{"grant_types": cc, "scopes": []string{"read"}, "audiences": []string{"https://orders.example.com"}}),
			// The orders API's resource server, by its audience right.
			"orders-rs": client("orders-rs", map[string]any{"scopes": []string{"tokend:introspect:https://orders.example.com"}}),
			// A resource server whose client id is an audience.
			"billing": client("billing", map[string]any{}),
			"caller":  client("caller", map[string]any{"grant_types": cc, "audiences": []string{"billing"}}),
			"ops":     client("ops", map[string]any{"scopes": []string{"tokend:admin"}}),
			"auditor": client("auditor", map[string]any{}),
		}
		want(t, s.call(t, "POST", p+"/projects", s.Admin, map[string]any{"id": "billing"}), 201)

		ccForm := url.Values{"grant_type": {"client_credentials"}}
		at, rt := o.login(t)
		toks := map[string]string{
			"svc jwt": want(t, o.form(t, "token", "svc", o.svcSecret, ccForm), 200).str("access_token"),
			"svc opaque": want(t, s.call(t, "POST", p+"/tokens", s.Admin,
				map[string]any{"client_id": "svc", "audience": "https://orders.example.com", "format": "opaque"}), 201).str("access_token"),
			"billing jwt": want(t, o.form(t, "token", "caller", secrets["caller"], ccForm), 200).str("access_token"),
			"user access": at,
			"refresh":     rt,
		}
		if !strings.HasPrefix(toks["svc opaque"], "tkd_") || !strings.HasPrefix(rt, "tkd_rt_") {
			t.Fatalf("want opaque tokens, got %q and %q", toks["svc opaque"], rt)
		}
		ask := func(caller, tok string) (bool, response) {
			t.Helper()
			r := want(t, o.form(t, "introspect", caller, secrets[caller], url.Values{"token": {tok}}), 200)
			if r.Body["active"] == true {
				return true, r
			}
			if strings.TrimSpace(string(r.Raw)) != `{"active":false}` {
				t.Fatalf("%s: an inactive answer says more than active=false: %s", caller, r.Raw)
			}
			return false, r
		}
		sees := map[string][]string{
			"svc":       {"svc jwt", "svc opaque"},
			"app":       {"user access", "refresh"},
			"peer":      nil,
			"orders-rs": {"svc jwt", "svc opaque"},
			"billing":   {"billing jwt"},
			"caller":    {"billing jwt"},
			"rs":        {"svc jwt", "svc opaque", "billing jwt", "user access"},
			"ops":       {"svc jwt", "svc opaque", "billing jwt", "user access"},
			"auditor":   nil,
		}
		for caller, visible := range sees {
			for name, tok := range toks {
				wantActive := false
				for _, v := range visible {
					wantActive = wantActive || v == name
				}
				if got, r := ask(caller, tok); got != wantActive {
					t.Errorf("%s introspecting %s: active %v, want %v: %s", caller, name, got, wantActive, r.Raw)
				}
			}
		}
		// An active answer to an audience carries the claims.
		if _, r := ask("orders-rs", toks["svc jwt"]); r.str("client_id") != "svc" || r.str("sub") != "svc" {
			t.Fatalf("orders-rs introspecting svc's token: %s", r.Raw)
		}

		// The right is granted and withdrawn through the admin API.
		eventually := func(what string, active bool) {
			t.Helper()
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if got, _ := ask("auditor", toks["svc jwt"]); got == active {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("auditor: %s not in effect after 5 s", what)
				}
			}
		}
		want(t, s.call(t, "PATCH", p+"/clients/auditor", s.Admin, map[string]any{"scopes": []string{"tokend:introspect"}}), 200)
		eventually("granting tokend:introspect", true)
		if got, _ := ask("auditor", rt); got {
			t.Fatal("tokend:introspect shows another client's refresh token")
		}
		want(t, s.call(t, "PATCH", p+"/clients/auditor", s.Admin, map[string]any{"scopes": []string{}}), 200)
		eventually("withdrawing tokend:introspect", false)
	})
}
