package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
)

// DotkernelTenant is the tenant the Dotkernel API surface serves in dev
// mode: its own, because Dotkernel's tokens are RS256, live a day and
// carry roles named as the demo tenant's are but meaning other things.
const DotkernelTenant = "dotkernel"

func init() {
	devSurfaces["dotkernel"] = devDotkernel
	devSurfaceTenants["dotkernel"] = DotkernelTenant
}

// devDotkernel creates Dotkernel API's fixtures (data/doctrine/fixtures
// of dotkernel/api): the oauth clients admin/admin and frontend/frontend
// with scope api, the admin account admin/dotkernel (roles superuser and
// admin) in the admin table and the user account
// test@dotkernel.com/dotkernel (roles user and guest) in the user table.
// The two tables are two groups; each client logs in only its group's
// users (store.Policy.LoginGroup).
func devDotkernel(ctx context.Context, a *App, by directory.Actor, c *DevCredentials) error {
	d := a.dir
	if _, err := d.Tenant(ctx, DotkernelTenant); err == nil {
		if err := d.DeleteTenant(ctx, by, DotkernelTenant); err != nil {
			return err
		}
	}
	ptr := func(s string) *string { return &s }
	list := func(s ...string) *[]string { return &s }
	id := DotkernelTenant
	pol := store.Policy{PasswordGrant: true, SigningAlg: "RS256", AccessTTL: 86400, MaxAccessTTL: 86400,
		RefreshTTL: 30 * 86400, Profile: store.ProfileLeague}
	if _, err := d.CreateTenant(ctx, by, directory.TenantSpec{ID: &id, DisplayName: ptr("Dotkernel API"), Policy: &pol}); err != nil {
		return err
	}
	for _, r := range []string{"superuser", "admin", "user", "guest"} {
		if _, err := d.CreateRole(ctx, by, id, directory.RoleSpec{Name: ptr(r), Scopes: list("api")}); err != nil {
			return err
		}
	}
	for _, g := range []string{"admins", "users"} {
		if _, err := d.CreateGroup(ctx, by, id, directory.GroupSpec{Name: ptr(g), Description: ptr("Dotkernel's " + g[:len(g)-1] + " table")}); err != nil {
			return err
		}
	}
	type account struct {
		login, name, password, group string
		roles                        []string
	}
	accounts := []account{
		{"admin", "DotKernel Admin", "dotkernel", "admins", []string{"superuser", "admin"}},
		{"test@dotkernel.com", "Test Account", "dotkernel", "users", []string{"user", "guest"}},
	}
	for _, u := range accounts {
		if _, err := d.CreateUser(ctx, by, id, directory.UserSpec{Login: &u.login, DisplayName: &u.name, Password: &u.password,
			Roles: &u.roles, Groups: list(u.group)}); err != nil {
			return err
		}
	}
	for _, cl := range []struct{ id, group string }{{"admin", "admins"}, {"frontend", "users"}} {
		got, _, err := d.CreateClient(ctx, by, id, directory.ClientSpec{ID: ptr(cl.id), DisplayName: ptr("Dotkernel " + cl.id + " client"),
			GrantTypes: list("password", "refresh_token"), Scopes: list("api"), Kinds: list("access"),
			Policy: &store.Policy{PasswordGrant: true, LoginGroup: cl.group}})
		if err != nil {
			return err
		}
		// Dotkernel's client secrets equal their ids, shorter than the
		// directory lets a chosen secret be: set as an imported legacy
		// secret would be, hashed with argon2id.
		got.SecretHash, got.SecretAlg, err = principal.HashSecret(ctx, cl.id)
		if err != nil {
			return err
		}
		if err := a.st.Clients().Update(ctx, got); err != nil {
			return err
		}
	}
	settings, _ := json.Marshal(map[string]string{"admin_client": "admin", "user_client": "frontend"})
	if _, err := d.PutSurface(ctx, by, id, "dotkernel", settings); err != nil {
		return err
	}
	if c.Compat == nil {
		c.Compat = map[string]any{}
	}
	if c.CompatBanner == nil {
		c.CompatBanner = map[string]string{}
	}
	c.Compat["dotkernel"] = map[string]any{
		"tenant": id,
		"clients": []map[string]string{
			{"client_id": "admin", "client_secret": "admin", "scope": "api", "logs_in": "admin table (group admins)"},
			{"client_id": "frontend", "client_secret": "frontend", "scope": "api", "logs_in": "user table (group users)"},
		},
		"accounts": []map[string]any{
			{"identity": "admin", "password": "dotkernel", "roles": accounts[0].roles, "table": "admin"},
			{"identity": "test@dotkernel.com", "password": "dotkernel", "roles": accounts[1].roles, "table": "user"},
		},
	}
	c.CompatBanner["dotkernel"] = fmt.Sprintf("  POST %[1]s/security/generate-token  {\"grant_type\":\"password\",\"client_id\":\"admin\",\"client_secret\":\"admin\",\"scope\":\"api\",\"username\":\"admin\",\"password\":\"dotkernel\"}\n"+
		"  user: client frontend/frontend, test@dotkernel.com / dotkernel; then GET %[1]s/admin/my-account or /user/my-account with the Bearer token\n"+
		"  (tenant %[2]s; the seed's \"dotadmin\" is Dotkernel's documentation slip: its fixtures use dotkernel)", a.cfg.PublicURL, id)
	return nil
}
