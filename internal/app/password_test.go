package app_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/tokend/tokend/internal/principal"
)

// TestPasswordNormalization: passwords are prepared with RFC 8265
// OpaqueString (NFC) before hashing and comparing, and passwords stored
// before that keep working with the bytes they were set with.
func TestPasswordNormalization(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		const composed, decomposed = "caf\u00e9-au-lait", "cafe\u0301-au-lait"
		login := func(user, pw string) int {
			return o.form(t, "token", "app", o.appSecret, url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}}).Status
		}
		want(t, s.call(t, "POST", "/v1/tenants/shop/users", s.Admin, map[string]any{"login": "comp@example.com", "password": composed, "roles": []string{"reader"}}), 201)
		want(t, s.call(t, "POST", "/v1/tenants/shop/users", s.Admin, map[string]any{"login": "decomp@example.com", "password": decomposed, "roles": []string{"reader"}}), 201)
		for _, user := range []string{"comp@example.com", "decomp@example.com"} {
			for _, pw := range []string{composed, decomposed} {
				if st := login(user, pw); st != 200 {
					t.Errorf("%s with %+q: %d", user, pw, st)
				}
			}
			if st := login(user, "cafe-au-lait"); st != 400 {
				t.Errorf("%s with another password: %d", user, st)
			}
		}
		// A password set later is prepared the same way.
		id := want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=comp@example.com", s.Admin, nil), 200).items()[0]["id"].(string)
		want(t, s.call(t, "PATCH", "/v1/tenants/shop/users/"+id, s.Admin, map[string]any{"password": "na\u0308ive-passphrase"}), 200)
		if st := login("comp@example.com", "n\u00e4ive-passphrase"); st != 200 {
			t.Errorf("changed password, composed: %d", st)
		}
		// A control character is no password.
		if r := s.call(t, "POST", "/v1/tenants/shop/users", s.Admin, map[string]any{"login": "ctl@example.com", "password": "abc\x07defghij"}); r.Status != 422 || r.str("field") != "password" {
			t.Errorf("control character: %d %s", r.Status, r.Raw)
		}

		// A hash made before passwords were prepared, of the decomposed
		// bytes: the same bytes still log in.
		want(t, s.call(t, "POST", "/v1/tenants/shop/users", s.Admin, map[string]any{"login": "legacy@example.com", "roles": []string{"reader"}}), 201)
		ctx := context.Background()
		st := s.App.Store()
		u, err := st.Users().GetByLogin(ctx, "shop", "legacy@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash, err = principal.HashPassword(ctx, decomposed); err != nil {
			t.Fatal(err)
		}
		if err := st.Users().Update(ctx, u); err != nil {
			t.Fatal(err)
		}
		if code := login("legacy@example.com", decomposed); code != 200 {
			t.Errorf("legacy hash, same bytes: %d", code)
		}
		if code := login("legacy@example.com", "cafe-au-lait"); code != 400 {
			t.Errorf("legacy hash, another password: %d", code)
		}
	})
}
