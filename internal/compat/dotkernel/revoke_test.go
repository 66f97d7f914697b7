package dotkernel_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/verify"
)

// TestSubjectRevocationOffline: a token of this surface names the account
// by its login in "sub", as league does; revoking the account by its
// tokend id still reaches a resource server that verifies tokens offline
// with the verifier library (its deny list follows the revocation feed),
// as it reaches introspection.
func TestSubjectRevocationOffline(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func(testing.TB) string{"sqlite": func(testing.TB) string { return "" }, "postgres": pgtest.NewDatabase} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := dev(t, url(t))
			c := client{t: t, s: s}
			at := c.want(c.do("", "POST", "/security/generate-token", adminLogin), 200).str("access_token")
			ctx := context.Background()
			v, err := verify.New(ctx, verify.Options{Issuer: s.URL + "/t/dotkernel", Audience: "admin", Algorithms: []string{"RS256"},
				ClientID: "admin", ClientSecret: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			<-v.Synced()
			cl, err := v.Verify(ctx, at)
			if err != nil {
				t.Fatalf("fresh token: %v", err)
			}
			if cl.Subject != "admin" || cl.SubjectID == "" || cl.SubjectID == cl.Subject {
				t.Fatalf("sub %q, uid %q: want the login and the user id", cl.Subject, cl.SubjectID)
			}
			users := s.Call(t, "GET", "/v1/tenants/dotkernel/users?login=admin", s.Admin, nil, 200)["items"].([]any)
			id := users[0].(map[string]any)["id"].(string)
			if id != cl.SubjectID {
				t.Fatalf("uid %q, user id %q", cl.SubjectID, id)
			}
			s.Call(t, "POST", "/v1/tenants/dotkernel/revocations", s.Admin, map[string]any{"scope": "subject", "subject_type": "user", "key": id}, 201)
			deadline := time.Now().Add(5 * time.Second)
			for {
				if _, err := v.Verify(ctx, at); err != nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the verifier library still accepts the token 5 s after the account was revoked")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got := c.do("", "GET", "/admin/my-account", "", "Authorization", "Bearer "+at); got.Status != 403 {
				t.Errorf("my-account after the revocation: %d", got.Status)
			}
		})
	}
}
