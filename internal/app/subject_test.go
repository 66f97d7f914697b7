package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/verify"
)

// callErr is server.call for goroutines: it returns errors instead of
// failing the test.
func (s *server) callErr(method, path, token string, body any) (response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r, err
}

// concurrently runs n requests at once (each made by req(i)) and returns
// their answers in order; a transport error fails the test.
func concurrently(t *testing.T, n int, req func(i int) (response, error)) []response {
	t.Helper()
	out := make([]response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = req(i)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

// statuses counts answers by status.
func statuses(rs []response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}

// activeRows returns the ids of the ledger rows of a subject that are
// neither revoked (now or ahead) nor expired.
func activeRows(t *testing.T, s *server, ten, subjectType, subject string) []string {
	t.Helper()
	q := url.Values{"subject_type": {subjectType}, "subject": {subject}, "active": {"true"}, "limit": {"1000"}}
	var ids []string
	for _, it := range want(t, s.call(t, "GET", "/v1/tenants/"+ten+"/tokens?"+q.Encode(), s.Admin, nil), 200).items() {
		ids = append(ids, it["id"].(string))
	}
	return ids
}

// live reports whether the gateway check of tenant ten accepts tok.
func (s *server) live(t *testing.T, ten, tok string) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/t/"+ten+"/check", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	switch r := send(t, req); r.Status {
	case 200:
		return true
	case 401:
		return false
	default:
		t.Fatalf("check: %d %s", r.Status, r.Raw)
		return false
	}
}

// renewErr renews tok at the seed-004 renewal endpoint.
func (s *server) renewErr(ten, tok string) (response, error) {
	return s.callErr("POST", "/t/"+ten+"/tokens/renew", tok, nil)
}

// TestSubjectNamespaces: device "kiosk-1" and client "kiosk-1" are two
// subjects. Rotating the device's tokens, the device's token limit, and a
// subject revocation of the device (admin API, revocation feed, verifier
// library, gateway) leave the client's tokens alone, and the reverse.
func TestSubjectNamespaces(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		a := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants/shop/projects", a, map[string]any{"id": "api", "audience": "api"}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/shop/roles", a, map[string]any{"name": "kiosk", "scopes": []string{"orders:read"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices", a, map[string]any{"id": "kiosk-1", "type": "kiosk", "roles": []string{"kiosk"}}), 201)
		sec := want(t, s.call(t, "POST", "/v1/tenants/shop/clients", a, map[string]any{"id": "kiosk-1",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"read"}, "audiences": []string{"api"}}), 201).str("client_secret")
		clientToken := func() string {
			return want(t, o.form(t, "token", "kiosk-1", sec, url.Values{"grant_type": {"client_credentials"}}), 200).str("access_token")
		}
		deviceToken := func(body map[string]any) string {
			body["audience"] = "api"
			return want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, body), 201).str("access_token")
		}
		v, err := verify.New(context.Background(), verify.Options{Issuer: s.URL + "/t/shop", Audience: "api", Algorithms: []string{"ES256"},
			ClientID: "svc", ClientSecret: o.svcSecret})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		<-v.Synced()
		// library waits (bounded) until the verifier library, following
		// the feed, calls tok revoked or not as wanted.
		library := func(tok string, wantRevoked bool) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, err := v.Verify(context.Background(), tok)
				if (err != nil) == wantRevoked {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("verifier library: revoked=%v after 5 s, want %v (%v)", err != nil, wantRevoked, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}

		cl := clientToken()
		dev := deviceToken(map[string]any{})
		if c := payload(t, cl); c["sub"] != "kiosk-1" || c["sub_type"] != "client" {
			t.Fatalf("client token claims %v", c)
		}

		// Rotating the device's tokens revokes the device's, not the client's.
		rotated := deviceToken(map[string]any{"rotate": true})
		if s.live(t, "shop", dev) || !s.live(t, "shop", rotated) {
			t.Fatal("rotation did not revoke exactly the device's earlier token")
		}
		if !s.live(t, "shop", cl) {
			t.Fatal("rotating device kiosk-1 revoked client kiosk-1's token")
		}
		library(dev, true)
		library(cl, false)

		// The device's token limit counts the device's tokens only.
		want(t, s.call(t, "PATCH", "/v1/tenants/shop", a, map[string]any{"policy": map[string]any{"password_grant": true, "token_limit": 2}}), 200)
		cl2, cl3 := clientToken(), clientToken() // client kiosk-1 holds 3 active tokens
		second := deviceToken(map[string]any{})
		if r := s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, map[string]any{}); r.Status != 409 ||
			!strings.Contains(r.str("error_description"), "device 'kiosk-1' has 2 active tokens") {
			t.Fatalf("third device token with token_limit 2: %d %s", r.Status, r.Raw)
		}

		// A subject revocation names the type; without one it is refused.
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"no type", map[string]any{"scope": "subject", "key": "kiosk-1"}, "subject_type"},
			{"unknown type", map[string]any{"scope": "subject", "subject_type": "robot", "key": "kiosk-1"}, "subject_type"},
			{"type of another scope", map[string]any{"scope": "client", "subject_type": "device", "key": "kiosk-1"}, "subject_type"},
		} {
			if r := s.call(t, "POST", "/v1/tenants/shop/revocations", a, tc.body); r.Status != 422 || r.str("field") != tc.field {
				t.Fatalf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
		}
		rev := want(t, s.call(t, "POST", "/v1/tenants/shop/revocations", a,
			map[string]any{"scope": "subject", "subject_type": "device", "key": "kiosk-1"}), 201)
		if rev.str("subject_type") != "device" || rev.str("key") != "kiosk-1" {
			t.Fatalf("revocation %s", rev.Raw)
		}
		for _, tok := range []string{rotated, second} {
			if s.live(t, "shop", tok) {
				t.Fatal("a device token survived the device's subject revocation")
			}
			library(tok, true)
		}
		for _, tok := range []string{cl, cl2, cl3} {
			if !s.live(t, "shop", tok) {
				t.Fatal("revoking device kiosk-1 revoked client kiosk-1's token")
			}
			library(tok, false)
		}
		if n := len(activeRows(t, s, "shop", "client", "kiosk-1")); n != 3 {
			t.Fatalf("client kiosk-1 has %d active ledger rows, want 3", n)
		}
		items := want(t, o.feed(t, "after=0"), 200).items()
		if last := items[len(items)-1]; last["scope"] != "subject" || last["subject_type"] != "device" || last["key"] != "kiosk-1" {
			t.Fatalf("feed entry %v", last)
		}

		// And the reverse: the client's revocation leaves the device alone.
		fresh := deviceToken(map[string]any{})
		want(t, s.call(t, "POST", "/v1/tenants/shop/revocations", a, map[string]any{"scope": "subject", "subject_type": "client", "key": "kiosk-1"}), 201)
		if s.live(t, "shop", cl) || !s.live(t, "shop", fresh) {
			t.Fatal("a client subject revocation did not revoke exactly the client's tokens")
		}
		library(cl2, true)
		library(fresh, false)
	})
}

// TestRevocationInsideRenewalGrace: a renewed token works for its grace,
// unless revoked meanwhile: a revocation of it by id, or a cutoff,
// takes effect at once, in the ledger too.
func TestRevocationInsideRenewalGrace(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		setupOAuth(t, s, "shop")
		a := s.Admin
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices", a, map[string]any{"id": "kiosk-1", "type": "kiosk"}), 201)
		renew := func(tok string) string {
			r, err := s.renewErr("shop", tok)
			if err != nil {
				t.Fatal(err)
			}
			return want(t, r, 200).str("access_token")
		}
		old := want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, map[string]any{"expires_in": 600, "lifetime": 3600}), 201)
		next := renew(old.str("access_token"))
		if !s.live(t, "shop", old.str("access_token")) {
			t.Fatal("the renewed token stopped at once; it has a grace")
		}

		// Revoked by id within the grace: at once.
		before := time.Now()
		row := want(t, s.call(t, "POST", "/v1/tenants/shop/tokens/"+old.str("id")+"/revoke", a, nil), 200)
		if s.live(t, "shop", old.str("access_token")) {
			t.Fatal("a token revoked within its renewal grace still works")
		}
		if at, err := time.Parse(time.RFC3339Nano, row.str("revoked_at")); err != nil || at.After(time.Now()) || at.Before(before.Add(-time.Second)) {
			t.Fatalf("revoked_at %q (%v), want the revocation's time", row.str("revoked_at"), err)
		}
		if !s.live(t, "shop", next) {
			t.Fatal("revoking the old token revoked its successor")
		}
		if r, _ := s.renewErr("shop", old.str("access_token")); r.Status != 401 && r.Status != 400 {
			t.Fatalf("renewing a revoked token: %d %s", r.Status, r.Raw)
		}

		// A cutoff within the grace: at once, and the ledger says so.
		nextID := payload(t, next)["jti"].(string)
		newest := renew(next)
		cut := want(t, s.call(t, "POST", "/v1/tenants/shop/revocations", a, map[string]any{"scope": "subject", "subject_type": "device", "key": "kiosk-1"}), 201)
		for _, tok := range []string{next, newest} {
			if s.live(t, "shop", tok) {
				t.Fatal("a token of the subject survived the cutoff")
			}
		}
		if got := want(t, s.call(t, "GET", "/v1/tenants/shop/tokens/"+nextID, a, nil), 200).str("revoked_at"); got != cut.str("cutoff") {
			t.Fatalf("ledger revoked_at %q of a token in its grace, want the cutoff %q", got, cut.str("cutoff"))
		}
	})
}

// TestSubjectSerialization: token limits, rotation and renewal are
// decided one at a time per subject, whatever the concurrency: with
// token_limit 3, 12 concurrent mints leave exactly 3 active; 10
// concurrent rotations leave exactly 1; concurrent renewals (several per
// token) and mints never leave more than 3.
func TestSubjectSerialization(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		setupOAuth(t, s, "shop")
		a := s.Admin
		want(t, s.call(t, "PATCH", "/v1/tenants/shop", a, map[string]any{"policy": map[string]any{"password_grant": true, "token_limit": 3}}), 200)
		want(t, s.call(t, "POST", "/v1/tenants/shop/devices", a, map[string]any{"id": "kiosk-1", "type": "kiosk"}), 201)
		mint := func(body map[string]any) func(int) (response, error) {
			return func(int) (response, error) {
				return s.callErr("POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, body)
			}
		}
		lasting := map[string]any{"expires_in": 600, "lifetime": 3600}

		rs := concurrently(t, 12, mint(lasting))
		if st := statuses(rs); st[201] != 3 || st[409] != 9 {
			t.Fatalf("12 concurrent mints with token_limit 3: statuses %v", st)
		}
		if n := len(activeRows(t, s, "shop", "device", "kiosk-1")); n != 3 {
			t.Fatalf("%d active device tokens after 12 concurrent mints, want 3", n)
		}

		rs = concurrently(t, 10, mint(map[string]any{"rotate": true, "expires_in": 600, "lifetime": 3600}))
		if st := statuses(rs); st[201] != 10 {
			t.Fatalf("10 concurrent rotations: statuses %v", st)
		}
		live := 0
		for _, r := range rs {
			if s.live(t, "shop", r.str("access_token")) {
				live++
			}
		}
		if n := len(activeRows(t, s, "shop", "device", "kiosk-1")); n != 1 || live != 1 {
			t.Fatalf("after 10 concurrent rotations: %d active ledger rows, %d tokens active; want 1 and 1", n, live)
		}

		// Back at the limit, then 4 concurrent renewals of each token and
		// 3 mints besides: one renewal per token, no mint.
		var held []string
		for _, r := range rs {
			if s.live(t, "shop", r.str("access_token")) {
				held = append(held, r.str("access_token"))
			}
		}
		for range 2 {
			held = append(held, want(t, s.call(t, "POST", "/v1/tenants/shop/devices/kiosk-1/tokens", a, lasting), 201).str("access_token"))
		}
		rs = concurrently(t, 15, func(i int) (response, error) {
			if i >= 12 {
				return mint(lasting)(i)
			}
			return s.renewErr("shop", held[i%3])
		})
		renewed, refused, minted := 0, 0, 0
		var successors []string
		for i, r := range rs {
			switch {
			case i >= 12 && r.Status == 201:
				minted++
			case i >= 12 && r.Status != 409:
				t.Fatalf("mint beside the renewals: %d %s", r.Status, r.Raw)
			case i < 12 && r.Status == 200:
				renewed++
				successors = append(successors, r.str("access_token"))
			case i < 12 && r.Status == 400 && strings.Contains(r.str("error_description"), "already renewed"):
				refused++
			case i < 12:
				t.Fatalf("renewal: %d %s", r.Status, r.Raw)
			}
		}
		if renewed != 3 || refused != 9 || minted != 0 {
			t.Fatalf("12 concurrent renewals of 3 tokens and 3 mints at the limit: %d renewed, %d refused, %d minted; want 3, 9, 0", renewed, refused, minted)
		}
		if n := len(activeRows(t, s, "shop", "device", "kiosk-1")); n != 3 {
			t.Fatalf("%d active ledger rows after the renewals, want 3", n)
		}
		time.Sleep(5200 * time.Millisecond) // the renewal grace
		live = 0
		for _, tok := range append(held, successors...) {
			if s.live(t, "shop", tok) {
				live++
			}
		}
		if live != 3 {
			t.Fatalf("%d tokens active after the renewal grace, want 3", live)
		}

		// Kind tokens of a client count against the limit the same way.
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", a, map[string]any{"id": "shopapp", "public": true}), 201)
		exp := time.Now().Add(time.Hour).Unix()
		rs = concurrently(t, 8, func(int) (response, error) {
			return s.callErr("POST", "/v1/tenants/shop/clients/shopapp/tokens", a, map[string]any{"kind": "private", "expires_at": exp})
		})
		if st := statuses(rs); st[201] != 3 || st[409] != 5 {
			t.Fatalf("8 concurrent private tokens with token_limit 3: statuses %v", st)
		}
		if n := len(activeRows(t, s, "shop", "client", "shopapp")); n != 3 {
			t.Fatalf("%d active client tokens, want 3", n)
		}
	})
}
