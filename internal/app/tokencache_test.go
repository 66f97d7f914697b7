package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
)

// startReplica runs a second server on s's database (same master key and
// public URL, its own caches and change follower), as another replica
// behind the same load balancer; it is not bootstrapped again.
func startReplica(t *testing.T, s *server) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Cfg
	cfg.Addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		ln.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("replica serve: %v", err)
		}
		a.Close()
	})
	return &server{URL: "http://" + ln.Addr().String(), Admin: s.Admin, App: a, Cfg: cfg}
}

// tokenRoles returns the roles claim of a tenant token.
func tokenRoles(t *testing.T, tok string) []string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Roles
}

// eventually retries f until it reports true, for at most 10 s (the
// change follower polls every 250 ms; a replica that missed the change
// log would still see it after the cache's 2 s lifetime, so this checks
// that the change arrives, not how fast).
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen by the other replica within 10 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTokenPathCache: the token paths read users, roles, groups and
// projects through a cache (authn.Directory) and named tokens' ledger
// rows through ledgerSeen; on SQLite and PostgreSQL with two replicas of
// one database, a change made through one replica's admin API is seen by
// its next token at once (the write invalidates locally) and by the
// other replica's once its change follower reads the change log: a
// user's roles changed, a token revoked, a user disabled, a project
// deleted.
func TestTokenPathCache(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		a := start(t, b)
		setupTenantAuth(t, a, "acme", map[string]any{"sdk": map[string]any{"project_id": "api"}})
		sec := want(t, a.call(t, "POST", "/v1/tenants/acme/clients", a.Admin, map[string]any{"id": "sdk", "grant_types": []string{"client_credentials"}}), 201).str("client_secret")
		r := startReplica(t, a)
		const email = "user@acme.test"
		gen := func(s *server) response { return s.generateToken(t, "user", "acme", "sdk", email, &sec) }
		roles := func(s *server) []string { return tokenRoles(t, want(t, gen(s), 200).str("access_token")) }

		// Both replicas have the user, the group and the role cached.
		for _, s := range []*server{a, r} {
			if got := roles(s); !slices.Equal(got, []string{"editor"}) {
				t.Fatalf("roles before the change: %v", got)
			}
		}
		users := want(t, a.call(t, "GET", "/v1/tenants/acme/users", a.Admin, nil), 200).items()
		var id string
		for _, u := range users {
			if u["login"] == email {
				id, _ = u["id"].(string)
			}
		}
		if id == "" {
			t.Fatalf("no user %s in %v", email, users)
		}

		// The user's roles change: admin instead of the group's editor.
		want(t, a.call(t, "PATCH", "/v1/tenants/acme/users/"+id, a.Admin, map[string]any{"roles": []string{"admin"}, "groups": []string{}}), 200)
		if got := roles(a); !slices.Equal(got, []string{"admin"}) {
			t.Fatalf("roles on the writing replica right after the change: %v", got)
		}
		eventually(t, "the roles change", func() bool { return slices.Equal(roles(r), []string{"admin"}) })

		// A token verified once (its ledger row read) and then revoked.
		tok := want(t, gen(a), 200).str("access_token")
		for _, s := range []*server{a, r} {
			want(t, s.call(t, "GET", "/auth/user/verifyToken", tok, nil), 200)
		}
		var jti string
		{
			b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
			var c struct{ Jti string }
			_ = json.Unmarshal(b, &c)
			jti = c.Jti
		}
		want(t, a.call(t, "POST", "/v1/tenants/acme/tokens/"+jti+"/revoke", a.Admin, nil), 200)
		want(t, a.call(t, "GET", "/auth/user/verifyToken", tok, nil), 401)
		eventually(t, "the revocation", func() bool {
			return r.call(t, "GET", "/auth/user/verifyToken", tok, nil).Status == 401
		})

		// A live token of the user, seen by both; then the user disabled:
		// no new token, and the seen token refused.
		live := want(t, gen(a), 200).str("access_token")
		for _, s := range []*server{a, r} {
			want(t, s.call(t, "GET", "/auth/user/verifyToken", live, nil), 200)
		}
		want(t, a.call(t, "PATCH", "/v1/tenants/acme/users/"+id, a.Admin, map[string]any{"disabled": true}), 200)
		want(t, gen(a), 401)
		want(t, a.call(t, "GET", "/auth/user/verifyToken", live, nil), 401)
		eventually(t, "the user disabled", func() bool {
			return gen(r).Status == 401 && r.call(t, "GET", "/auth/user/verifyToken", live, nil).Status == 401
		})
		want(t, a.call(t, "PATCH", "/v1/tenants/acme/users/"+id, a.Admin, map[string]any{"disabled": false}), 200)
		want(t, gen(a), 200)
		eventually(t, "the user enabled", func() bool { return gen(r).Status == 200 })

		// The project deleted: "client not found".
		want(t, a.call(t, "DELETE", "/v1/tenants/acme/projects/api", a.Admin, nil), 204)
		if g := gen(a); g.Status != 404 || g.str("error") != "client not found" {
			t.Fatalf("generateToken right after the project's deletion: %d %s", g.Status, g.Raw)
		}
		eventually(t, "the project deleted", func() bool { return gen(r).Status == 404 })
	})
}
