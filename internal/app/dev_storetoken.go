package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/token"
)

// DevStoreID is the store of seed 000's curl example.
const DevStoreID = "123e4567-e89b-12d3-a456-426614174000"

// DevStoreAdmin is the login of the store-token admin of the fixtures.
const DevStoreAdmin = "store-admin@example.com"

// DevStoreToken is what seed 000's examples need, under
// compat.storetoken in dev-credentials.json.
type DevStoreToken struct {
	Tenant        string `json:"tenant"`
	StoreID       string `json:"store_id"`
	AdminEmail    string `json:"admin_email"`
	AdminPassword string `json:"admin_password"`
	AdminUserID   string `json:"admin_user_id"`
	// Secret is the tenant's HMAC secret (as Rails' secret_key_base: the
	// hex string itself is the key), to verify tokens as the legacy
	// application does.
	Secret string `json:"secret"`
}

func init() { devSurfaces[binding.StoreTokenName] = devStoreToken }

// devStoreToken enables the store-token surface for the demo tenant with
// a fresh HMAC secret, an admin user and the seed's store.
func devStoreToken(ctx context.Context, a *App, by directory.Actor, c *DevCredentials) error {
	d := a.dir
	if _, err := d.PutSurface(ctx, by, DevTenant, binding.StoreTokenName, json.RawMessage(`{}`)); err != nil {
		return err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	secret := hex.EncodeToString(b[:])
	if err := a.keys.ImportLegacy(ctx, DevTenant, []byte(secret)); err != nil {
		return err
	}
	login, pw, roles := DevStoreAdmin, token.NewID()[:20], []string{"admin"}
	u, err := d.CreateUser(ctx, by, DevTenant, directory.UserSpec{Login: &login, Password: &pw, Roles: &roles})
	if err != nil {
		return err
	}
	id, typ, name := DevStoreID, "store", "Seed store"
	if _, _, err := d.CreateDevice(ctx, by, DevTenant, directory.DeviceSpec{ID: &id, Type: &typ, DisplayName: &name}); err != nil {
		return err
	}
	if c.Compat == nil {
		c.Compat = map[string]any{}
	}
	if c.CompatBanner == nil {
		c.CompatBanner = map[string]string{}
	}
	c.Compat[binding.StoreTokenName] = DevStoreToken{Tenant: DevTenant, StoreID: DevStoreID, AdminEmail: login,
		AdminPassword: pw, AdminUserID: u.ID, Secret: secret}
	c.CompatBanner[binding.StoreTokenName] = fmt.Sprintf(
		"  admin %s / %s, store %s\n"+
			"  ADMIN_JWT=$(curl -s -X POST %s/user_token -H 'Content-Type: application/json' \\\n"+
			"    -d '{\"auth\":{\"email\":\"%s\",\"password\":\"%s\"}}' | sed 's/.*\"jwt\":\"\\([^\"]*\\)\".*/\\1/')\n"+
			"  curl -X POST %s/stores/%s/generate_token -H \"Authorization: Bearer $ADMIN_JWT\"",
		login, pw, DevStoreID, a.cfg.PublicURL, login, pw, a.cfg.PublicURL, DevStoreID)
	return nil
}
