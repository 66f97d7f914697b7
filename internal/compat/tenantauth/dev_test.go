package tenantauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// TestDev: with the dev fixtures (tokend serve --dev), the seed's
// requests work as documented with the ids of compat.tenantauth: both
// generateToken routes with secret_id, the no-secret client, and
// verifyToken; the tokens verify with the recorded legacy secrets.
func TestDev(t *testing.T) {
	for name, db := range map[string]func(*testing.T) string{"sqlite": func(*testing.T) string { return "" }, "postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) }} {
		t.Run(name, func(t *testing.T) {
			s := apptest.StartWith(t, db(t), apptest.Options{Config: func(c *config.Config) { c.Dev = true }})
			creds, _, err := s.App.DevSetup(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(creds.Compat["tenantauth"])
			var c app.DevTenantAuth
			if err := json.Unmarshal(raw, &c); err != nil || c.SecretID == "" || c.SDKSecret == "" {
				t.Fatalf("compat.tenantauth: %s", raw)
			}
			f := &fixture{t: t, s: s}
			for _, tc := range []struct {
				route, email, client string
				secret               *string
				key                  string
			}{
				{"user", c.UserEmail, c.ClientID, &c.SecretID, c.SDKSecret},
				{"admin", c.AdminEmail, c.ClientID, &c.SecretID, c.SDKSecret},
				{"user", c.UserEmail, c.OpenClient, nil, c.DefSecret},
			} {
				m := map[string]any{"client_id": tc.client, "email_id": tc.email, "project_id": c.ProjectID, "tenant_id": c.Tenant}
				if tc.secret != nil {
					m["secret_id"] = *tc.secret
				}
				code, b := f.quiet(http.MethodPost, "/auth/"+tc.route+"/generateToken", "", req(m))
				if code != 200 {
					t.Fatalf("%s %s: %d %s", tc.route, tc.client, code, b)
				}
				tok := tokenOf(t, b)
				decoded(t, tok, tc.key)
				code, b = f.quiet(http.MethodGet, "/auth/"+tc.route+"/verifyToken", "Bearer "+tok, "")
				if code != 200 || !strings.Contains(string(b), `"valid":true`) {
					t.Fatalf("verify: %d %s", code, b)
				}
				if tc.route == "user" && !strings.Contains(string(b), `"documents:write"`) {
					t.Fatalf("user authority: %s", b)
				}
			}
		})
	}
}
