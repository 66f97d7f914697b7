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

// TestSignedTokenRequests: devices and users mint their own tokens with
// signed requests; owners mint for them with run_as.
func TestSignedTokenRequests(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants/shop/roles", a, map[string]any{"name": "kiosk", "scopes": []string{"orders:read"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices", a, map[string]any{"id": "kiosk-1", "type": "kiosk", "roles": []string{"kiosk"}}), 201)
		devSecret := want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/signing-secret", a, nil), 200).str("signing_secret")
		alice := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=alice@example.com", a, nil), 200).items()[0]["id"].(string)
		userSecret := want(t, s.call(t, "POST", "/v1/tenants/shop/users/"+alice+"/signing-secret", a, nil), 200).str("signing_secret")
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", a, map[string]any{"id": "owner", "scopes": []string{"tokend:admin"}}), 201)
		ownerSecret := want(t, s.call(t, "POST", "/v1/tenants/shop/clients/owner/signing-secret", a, nil), 200).str("signing_secret")
		if !strings.HasPrefix(devSecret, "tkd_ss_") {
			t.Fatalf("signing secret %q", devSecret)
		}

		const path = "/t/shop/tokens/generate"
		send2 := func(p url.Values, hdr map[string]string) response {
			req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(p.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return send(t, req)
		}
		signed := func(secret, principal string, extra url.Values, ts time.Time) url.Values {
			p := url.Values{"principal": {principal}, "ts": {strconv.FormatInt(ts.Unix(), 10)}}
			for k, v := range extra {
				p[k] = v
			}
			p.Set("sig", signing.Sign(secret, "POST", path, p))
			return p
		}

		p := signed(devSecret, "device:kiosk-1", url.Values{"expires_in": {"600"}, "lifetime": {"3600"}}, time.Now())
		r := want(t, send2(p, nil), 200)
		c := payload(t, r.str("access_token"))
		if c["sub"] != "kiosk-1" || c["kind"] != "device" || c["act"] != nil || c["exp"].(float64)-c["iat"].(float64) != 600 {
			t.Fatalf("self-minted device token %v", c)
		}
		if !o.active(t, r.str("access_token")) {
			t.Fatal("signed-request token not active")
		}
		if r := send2(p, nil); r.Status != 401 || !strings.Contains(r.str("error_description"), "already used") {
			t.Fatalf("replay: %d %s", r.Status, r.Raw)
		}
		// The same signature in other letter cases is the same signature.
		for _, recase := range []func(string) string{strings.ToUpper, func(s string) string {
			i := strings.IndexAny(s, "abcdef") // one letter only
			return s[:i] + strings.ToUpper(s[i:i+1]) + s[i+1:]
		}} {
			again := url.Values{}
			for k, v := range p {
				again[k] = v
			}
			again.Set("sig", recase(p.Get("sig")))
			if again.Get("sig") == p.Get("sig") {
				t.Fatalf("signature %q has no letter to re-case", p.Get("sig"))
			}
			if r := send2(again, nil); r.Status != 401 || !strings.Contains(r.str("error_description"), "already used") {
				t.Fatalf("replay with the signature re-cased: %d %s", r.Status, r.Raw)
			}
		}

		bad := signed(devSecret, "device:kiosk-1", nil, time.Now())
		bad.Set("sig", strings.Repeat("0", 64))
		late := signed(devSecret, "device:kiosk-1", nil, time.Now().Add(-6*time.Minute))
		ghost := signed(devSecret, "device:ghost", nil, time.Now())
		tampered := signed(devSecret, "device:kiosk-1", url.Values{"expires_in": {"60"}}, time.Now())
		tampered.Set("expires_in", "86400")
		for name, v := range map[string]url.Values{"bad signature": bad, "outside the window": late, "unknown device": ghost, "tampered": tampered} {
			if r := send2(v, nil); r.Status != 401 || r.str("error") != "invalid_client" {
				t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		for _, tc := range []struct {
			extra url.Values
			field string
		}{
			{url.Values{"expires_in": {"soon"}}, "expires_in"},
			{url.Values{"lifetime": {"-1"}}, "lifetime"},
			{url.Values{"expires_in": {"3600"}, "lifetime": {"600"}}, "expires_in"},
		} {
			if r := send2(signed(devSecret, "device:kiosk-1", tc.extra, time.Now()), nil); r.Status != 422 || r.str("field") != tc.field {
				t.Fatalf("%v: %d %s", tc.extra, r.Status, r.Raw)
			}
		}
		if r := send2(signed(devSecret, "device:kiosk-1", url.Values{"run_as": {"user:" + alice}}, time.Now()), nil); r.Status != 400 {
			t.Fatalf("a device using run_as: %d %s", r.Status, r.Raw)
		}

		// A user, bound to its referrer, as a cookie.
		u := want(t, send2(signed(userSecret, "user:"+alice, url.Values{"bind_referer": {"true"}, "cookie": {"true"}}, time.Now()),
			map[string]string{"Referer": "https://app.example.com/x"}), 200)
		ck := u.Header.Get("Set-Cookie")
		if u.str("access_token") != "" || !strings.Contains(ck, "tokend_session=") {
			t.Fatalf("user cookie delivery: %q %s", ck, u.Raw)
		}
		utok := strings.TrimPrefix(strings.Split(ck, ";")[0], "tokend_session=")
		if pl := payload(t, utok); pl["sub"] != alice || jsonString(pl["origins"]) != `["https://app.example.com"]` {
			t.Fatalf("user token %v", pl)
		}

		// The owner mints for the device; the token records the owner.
		ow := want(t, send2(signed(ownerSecret, "client:owner", url.Values{"run_as": {"device:kiosk-1"}}, time.Now()), nil), 200)
		act, _ := payload(t, ow.str("access_token"))["act"].(map[string]any)
		if act == nil || act["sub"] != "shop/client:owner" {
			t.Fatalf("runAs token act %v", act)
		}
		if r := send2(signed(ownerSecret, "client:owner", nil, time.Now()), nil); r.Status != 400 {
			t.Fatalf("an owner minting for itself: %d %s", r.Status, r.Raw)
		}
		// Rotating the secret retires the old one.
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/signing-secret", a, nil), 200)
		if r := send2(signed(devSecret, "device:kiosk-1", nil, time.Now()), nil); r.Status != 401 {
			t.Fatalf("old signing secret after rotation: %d", r.Status)
		}
	})
}
