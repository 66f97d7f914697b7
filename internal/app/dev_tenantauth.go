package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/secrets"
)

// Seed 002's fixture ids.
const (
	DevTenantAuthProject = "authsec-project"
	DevTenantAuthClient  = "authsec-client"
	DevTenantAuthOpen    = "authsec-open-client"
	DevTenantAuthAdmin   = "admin@authsec.example"
	DevTenantAuthUser    = "user@authsec.example"
)

// DevTenantAuth is what seed 002's examples need, under
// compat.tenantauth in dev-credentials.json.
type DevTenantAuth struct {
	Tenant    string `json:"tenant"`
	ProjectID string `json:"project_id"`
	ClientID  string `json:"client_id"`
	SecretID  string `json:"secret_id"`
	// SecretIn says where the client's secret_id is kept: "tokend", or
	// the Vault KV v2 secret it was written to with --vault-addr.
	SecretIn   string `json:"secret_in"`
	OpenClient string `json:"open_client_id"`
	AdminEmail string `json:"admin_email"`
	UserEmail  string `json:"user_email"`
	// DefSecret and SDKSecret are the tenant's HMAC secrets of default and
	// sdk-agent tokens (the legacy JWT_DEF_SECRET and JWT_SDK_SECRET), to
	// verify tokens as the legacy services do.
	DefSecret string `json:"jwt_def_secret"`
	SDKSecret string `json:"jwt_sdk_secret"`
}

func init() { devSurfaces[binding.TenantAuthName] = devTenantAuth }

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// devTenantAuth enables the tenantauth surface for the demo tenant: a
// project, a client with its secret_id in tokend's store, a client
// registered as needing none, an admin and a user with roles, a group
// and scoped permissions, and fresh HMAC secrets per token type.
func devTenantAuth(ctx context.Context, a *App, by directory.Actor, c *DevCredentials) error {
	d := a.dir
	pid, aud := DevTenantAuthProject, "authsec-api"
	if _, err := d.CreateProject(ctx, by, DevTenant, directory.ProjectSpec{ID: &pid, Audience: &aud}); err != nil {
		return err
	}
	for _, r := range []struct {
		name              string
		scopes, resources []string
	}{
		{"admin", []string{"tenant:admin"}, nil},
		{"editor", []string{"documents:read", "documents:write"}, []string{"documents"}},
		{"viewer", []string{"reports:read"}, []string{"reports"}},
	} {
		name, sc, res := r.name, r.scopes, r.resources
		if _, err := d.CreateRole(ctx, by, DevTenant, directory.RoleSpec{Name: &name, Scopes: &sc, Resources: &res}); err != nil && fault.CodeOf(err) != fault.CodeConflict {
			return err
		}
	}
	gname, groles := "writers", []string{"editor"}
	if _, err := d.CreateGroup(ctx, by, DevTenant, directory.GroupSpec{Name: &gname, Roles: &groles}); err != nil {
		return err
	}
	adminLogin, adminRoles := DevTenantAuthAdmin, []string{"admin"}
	if _, err := d.CreateUser(ctx, by, DevTenant, directory.UserSpec{Login: &adminLogin, Roles: &adminRoles}); err != nil {
		return err
	}
	userLogin, userRoles, userGroups := DevTenantAuthUser, []string{"viewer"}, []string{"writers"}
	if _, err := d.CreateUser(ctx, by, DevTenant, directory.UserSpec{Login: &userLogin, Roles: &userRoles, Groups: &userGroups}); err != nil {
		return err
	}
	secretID, err := randomHex(16)
	if err != nil {
		return err
	}
	cid, gts := DevTenantAuthClient, []string{"client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"}
	spec := directory.ClientSpec{ID: &cid, GrantTypes: &gts, Secret: &secretID}
	secretIn := "tokend"
	if a.vault != nil {
		// With --vault-addr the secret_id lives where seed 002 keeps it.
		ref := secrets.Ref{Backend: secrets.BackendVault, Mount: "kv", Path: "secret/{tenant}/{project}/{client}", Field: "secret_id", Project: pid}
		put := ref
		put.Client = cid
		if err := a.vault.Put(ctx, DevTenant, put, secretID); err != nil {
			a.log.WarnContext(ctx, "dev fixtures: the tenantauth client's secret_id stays in tokend's store, as writing it to Vault failed",
				"error", err, "hint", "vault secrets enable -path=kv kv-v2, with a token or AppRole that may write kv/data/secret/*")
		} else {
			spec.Secret, spec.SecretRef, secretIn = nil, &ref, "vault:kv/secret/"+DevTenant+"/"+pid+"/"+cid
		}
	}
	if _, _, err := d.CreateClient(ctx, by, DevTenant, spec); err != nil {
		return err
	}
	oid, public := DevTenantAuthOpen, true
	if _, _, err := d.CreateClient(ctx, by, DevTenant, directory.ClientSpec{ID: &oid, Public: &public}); err != nil {
		return err
	}
	set, _ := json.Marshal(binding.TenantAuth{Clients: map[string]binding.TenantAuthClient{
		cid: {ProjectID: pid}, oid: {ProjectID: pid, NoSecret: true},
	}})
	if _, err := d.PutSurface(ctx, by, DevTenant, binding.TenantAuthName, set); err != nil {
		return err
	}
	secrets := map[string]string{}
	for _, name := range []string{"default", "sdk-agent", "oidc"} {
		s, err := randomHex(32)
		if err != nil {
			return err
		}
		if err := a.keys.ImportNamed(ctx, DevTenant, name, []byte(s)); err != nil {
			return err
		}
		secrets[name] = s
	}
	if c.Compat == nil {
		c.Compat = map[string]any{}
	}
	if c.CompatBanner == nil {
		c.CompatBanner = map[string]string{}
	}
	c.Compat[binding.TenantAuthName] = DevTenantAuth{Tenant: DevTenant, ProjectID: pid, ClientID: cid, SecretID: secretID, SecretIn: secretIn,
		OpenClient: oid, AdminEmail: adminLogin, UserEmail: userLogin, DefSecret: secrets["default"], SDKSecret: secrets["sdk-agent"]}
	c.CompatBanner[binding.TenantAuthName] = fmt.Sprintf(
		"  curl -X POST %s/auth/user/generateToken -H 'Content-Type: application/json' \\\n"+
			"    -d '{\"client_id\":\"%s\",\"email_id\":\"%s\",\"project_id\":\"%s\",\"secret_id\":\"%s\",\"tenant_id\":\"%s\"}'\n"+
			"  (admin route: /auth/admin/generateToken with email_id %s; without secret_id: client_id %s;\n"+
			"  POST /auth/user/oidcToken with that token as the bearer and {\"oidc_token\":…} of the --dev-trust-issuer provider)",
		a.cfg.PublicURL, cid, userLogin, pid, secretID, DevTenant, adminLogin, oid)
	return nil
}
