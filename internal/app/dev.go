package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// DevTenant is the tenant the dev fixtures create.
const DevTenant = "demo"

// DevCredentials is the content of <data>/dev-credentials.json.
type DevCredentials struct {
	AdminToken string      `json:"admin_token"`
	Endpoint   string      `json:"endpoint"`
	Tenant     string      `json:"tenant"`
	Issuer     string      `json:"issuer"`
	Clients    []DevClient `json:"clients"`
	Users      []DevUser   `json:"users"`
	Devices    []DevDevice `json:"devices"`
	// Compat holds, per compatible surface, what its seed's examples need
	// (tenant, ids, credentials, secrets).
	Compat map[string]any `json:"compat,omitempty"`
	// CompatBanner holds, per compatible surface, the lines the dev banner
	// prints for it.
	CompatBanner map[string]string `json:"compat_banner,omitempty"`
}

// devSurface creates one compatible surface's dev fixtures (enabling the
// surface for its tenant) and records them in c.Compat and c.CompatBanner
// under the surface's name. Each surface registers its own in an init of
// its dev_<surface>.go.
type devSurface func(ctx context.Context, a *App, by directory.Actor, c *DevCredentials) error

// devSurfaces maps a surface name to its dev fixtures.
var devSurfaces = map[string]devSurface{}

// devSurfaceTenants maps a surface name to the tenant its dev fixtures
// create for it, when not DevTenant.
var devSurfaceTenants = map[string]string{}

// DevClient is a client the fixtures created.
type DevClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Note         string   `json:"note"`
}

// DevUser is a user the fixtures created.
type DevUser struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
}

// DevDevice is a device the fixtures created.
type DevDevice struct {
	DeviceID     string `json:"device_id"`
	DeviceSecret string `json:"device_secret"`
	Type         string `json:"type"`
}

// DevCredentialsFile is the name of the credentials file in the data dir.
const DevCredentialsFile = "dev-credentials.json"

// DevSetup loads the dev fixtures: on first start it creates the system
// admin, the demo tenant and its clients, users and devices, and writes
// every credential to <data>/dev-credentials.json (mode 0600); later starts
// reuse that file.
func (a *App) DevSetup(ctx context.Context) (DevCredentials, string, error) {
	path := filepath.Join(a.cfg.DataDir, DevCredentialsFile)
	if b, err := os.ReadFile(path); err == nil {
		var c DevCredentials
		if err := json.Unmarshal(b, &c); err == nil && c.AdminToken != "" {
			if _, err := a.verifier.Verify(ctx, c.AdminToken); err == nil {
				changed, err := a.devTrust(ctx, &c)
				if err != nil || !changed {
					return c, path, err
				}
				return c, path, writeDevCredentials(path, c)
			}
		}
	}
	c := DevCredentials{Endpoint: a.cfg.PublicURL, Tenant: DevTenant, Issuer: tenant.Issuer(a.cfg.PublicURL, DevTenant)}
	boot, err := a.Bootstrap(ctx)
	switch {
	case errors.Is(err, ErrBootstrapped):
		tok, err := a.adminKey(ctx)
		if err != nil {
			return c, "", err
		}
		c.AdminToken = tok.Value
	case err != nil:
		return c, "", err
	default:
		c.AdminToken = boot.Token
	}
	if err := a.devFixtures(ctx, &c); err != nil {
		return c, "", err
	}
	if _, err := a.devTrust(ctx, &c); err != nil {
		return c, "", err
	}
	return c, path, writeDevCredentials(path, c)
}

func writeDevCredentials(path string, c DevCredentials) error {
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (a *App) devFixtures(ctx context.Context, c *DevCredentials) error {
	by := directory.Actor{Tenant: claims.SystemTenant, Subject: "dev-fixtures"}
	d := a.dir
	if _, err := d.Tenant(ctx, DevTenant); err == nil {
		if err := d.DeleteTenant(ctx, by, DevTenant); err != nil {
			return err
		}
	}
	id, name := DevTenant, "Demo tenant"
	pol := store.Policy{PasswordGrant: true}
	if _, err := d.CreateTenant(ctx, by, directory.TenantSpec{ID: &id, DisplayName: &name, Policy: &pol}); err != nil {
		return err
	}
	ptr := func(s string) *string { return &s }
	list := func(s ...string) *[]string { return &s }
	for _, r := range []directory.RoleSpec{
		{Name: ptr("guest"), Description: ptr("may read public data"), Scopes: list("read:public")},
		{Name: ptr("user"), Description: ptr("may read and write their data"), Scopes: list("read", "write"), Resources: list("api")},
		{Name: ptr("admin"), Description: ptr("administers the demo API"), Scopes: list("read", "write", "admin"), Resources: list("api")},
	} {
		if _, err := d.CreateRole(ctx, by, DevTenant, r); err != nil {
			return err
		}
	}
	if _, err := d.CreateGroup(ctx, by, DevTenant, directory.GroupSpec{Name: ptr("staff"), Roles: list("admin")}); err != nil {
		return err
	}
	if _, err := d.CreateProject(ctx, by, DevTenant, directory.ProjectSpec{ID: ptr("api"), DisplayName: ptr("Demo API"), Audience: ptr("api")}); err != nil {
		return err
	}
	clients := []struct {
		spec directory.ClientSpec
		note string
	}{
		{directory.ClientSpec{ID: ptr("demo-service"), DisplayName: ptr("Back-end service"), GrantTypes: list("client_credentials"),
			Scopes: list("read", "write"), Audiences: list("api"), Kinds: list("access", "private")}, "server-to-server: client_credentials"},
		{directory.ClientSpec{ID: ptr("demo-app"), DisplayName: ptr("First-party app"), GrantTypes: list("password", "refresh_token"),
			Scopes: list("read", "write", "admin", "read:public"), Audiences: list("api"), Kinds: list("access"),
			Policy: &store.Policy{PasswordGrant: true}}, "password and refresh_token grants (enabled for the demo tenant only)"},
		{directory.ClientSpec{ID: ptr("demo-admin"), DisplayName: ptr("Demo tenant admin"), GrantTypes: list("client_credentials"),
			Scopes: list(claims.ScopeAdmin), Kinds: list("access", "device", "storefront", "private", "impersonation", "customer")},
			"tenant admin of demo: client_credentials with scope tokend:admin"},
	}
	for _, cl := range clients {
		got, secret, err := d.CreateClient(ctx, by, DevTenant, cl.spec)
		if err != nil {
			return err
		}
		c.Clients = append(c.Clients, DevClient{ClientID: got.ID, ClientSecret: secret, GrantTypes: got.GrantTypes, Scopes: got.Scopes, Note: cl.note})
	}
	users := []struct {
		login string
		roles []string
	}{
		{"alice@example.com", []string{"user"}},
		{"bob@example.com", []string{"guest"}},
		{"carol@example.com", []string{"admin"}},
	}
	for _, u := range users {
		pw := token.NewID()[:20]
		got, err := d.CreateUser(ctx, by, DevTenant, directory.UserSpec{Login: &u.login, Password: &pw, Roles: &u.roles})
		if err != nil {
			return err
		}
		c.Users = append(c.Users, DevUser{ID: got.ID, Username: got.Login, Password: pw, Roles: got.Roles})
	}
	for _, dv := range []struct{ id, typ string }{{"kiosk-1", "kiosk"}, {"store-1", "store"}, {"sensor-1", "device"}} {
		got, secret, err := d.CreateDevice(ctx, by, DevTenant, directory.DeviceSpec{ID: &dv.id, Type: &dv.typ})
		if err != nil {
			return err
		}
		c.Devices = append(c.Devices, DevDevice{DeviceID: got.ID, DeviceSecret: secret, Type: got.Type})
	}
	names := make([]string, 0, len(devSurfaces))
	for n := range devSurfaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := devSurfaces[n](ctx, a, by, c); err != nil {
			return fmt.Errorf("%s fixtures: %w", n, err)
		}
	}
	return nil
}
