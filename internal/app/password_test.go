package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

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

// TestImportedPasswordHash: a user imported with a bcrypt hash from
// another system (PHP's password_hash here) logs in with the password it
// stands for; that login replaces it with an argon2id hash, audited, and
// the password keeps working. Bad imports are refused and change nothing.
func TestImportedPasswordHash(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		const php = "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq" // "rasmuslerdorf"
		login := func(pw string) int {
			return o.form(t, "token", "app", o.appSecret, url.Values{"grant_type": {"password"}, "username": {"rasmus@example.com"}, "password": {pw}}).Status
		}
		for _, tc := range []struct {
			name string
			body map[string]any
		}{
			{"both", map[string]any{"login": "rasmus@example.com", "password": "rasmuslerdorf", "password_hash": php}},
			{"not a hash", map[string]any{"login": "rasmus@example.com", "password_hash": "rasmuslerdorf"}},
			{"too costly", map[string]any{"login": "rasmus@example.com", "password_hash": "$2y$15$" + php[7:]}},
		} {
			if r := s.call(t, "POST", "/v1/tenants/shop/users", s.Admin, tc.body); r.Status != 422 || r.str("field") != "password_hash" {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
		}
		if n := len(want(t, s.call(t, "GET", "/v1/tenants/shop/users?login=rasmus@example.com", s.Admin, nil), 200).items()); n != 0 {
			t.Fatalf("refused imports created %d users", n)
		}
		u := want(t, s.call(t, "POST", "/v1/tenants/shop/users", s.Admin, map[string]any{"login": "rasmus@example.com", "password_hash": php, "roles": []string{"reader"}}), 201)
		if strings.Contains(string(u.Raw), "$2y$") || u.Body["has_password"] != true {
			t.Fatalf("created user: %s", u.Raw)
		}
		if st := login("wrong"); st != 400 {
			t.Errorf("wrong password against the imported hash: %d", st)
		}
		if st := login("rasmuslerdorf"); st != 200 {
			t.Fatalf("imported hash: %d", st)
		}
		got, err := s.App.Store().Users().GetByLogin(context.Background(), "shop", "rasmus@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
			t.Errorf("after the login the hash is %.10q, want argon2id", got.PasswordHash)
		}
		ev := want(t, s.call(t, "GET", "/v1/tenants/shop/audit?action=user.password_rehash", s.Admin, nil), 200).items()
		if len(ev) != 1 || ev[0]["subject"] != "user:"+got.ID {
			t.Errorf("rehash events: %v", ev)
		}
		if st := login("rasmuslerdorf"); st != 200 {
			t.Errorf("after the rehash: %d", st)
		}
		if st := login("wrong"); st != 400 {
			t.Errorf("wrong password after the rehash: %d", st)
		}
		// An update may import a hash too.
		want(t, s.call(t, "PATCH", "/v1/tenants/shop/users/"+got.ID, s.Admin, map[string]any{"password_hash": php}), 200)
		if st := login("rasmuslerdorf"); st != 200 {
			t.Errorf("hash imported by update: %d", st)
		}
	})
}

// TestImportedClientSecretHash: a client created with the bcrypt hash of
// its secret from another system (as league/oauth2-server applications
// keep them) authenticates with that secret; the import is refused with
// another credential, by update, or malformed.
func TestImportedClientSecretHash(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		h, err := bcrypt.GenerateFromPassword([]byte("frontend"), 10)
		if err != nil {
			t.Fatal(err)
		}
		php := "$2y$" + string(h[4:]) // PHP's prefix, same algorithm
		for name, body := range map[string]map[string]any{
			"with a secret":     {"id": "legacy", "secret": "frontend-1", "secret_hash": php},
			"public":            {"id": "legacy", "public": true, "secret_hash": php},
			"not a hash":        {"id": "legacy", "secret_hash": "frontend"},
			"bcrypt cost of 15": {"id": "legacy", "secret_hash": "$2y$15$" + php[7:]},
		} {
			if r := s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, body); r.Status != 422 || r.str("field") != "secret_hash" {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		r := want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "legacy", "secret_hash": php, "scopes": []string{"read"}}), 201)
		if r.str("client_secret") != "" || strings.Contains(string(r.Raw), "$2y$") {
			t.Fatalf("created client: %s", r.Raw)
		}
		if st := o.form(t, "token", "legacy", "frontend", url.Values{"grant_type": {"client_credentials"}}).Status; st != 200 {
			t.Errorf("the imported secret: %d", st)
		}
		if st := o.form(t, "token", "legacy", "frontenD", url.Values{"grant_type": {"client_credentials"}}).Status; st != 401 {
			t.Errorf("a wrong secret: %d", st)
		}
		if r := s.call(t, "PATCH", "/v1/tenants/shop/clients/legacy", s.Admin, map[string]any{"secret_hash": php}); r.Status != 422 || r.str("field") != "secret_hash" {
			t.Errorf("secret_hash by update: %d %s", r.Status, r.Raw)
		}
	})
}
