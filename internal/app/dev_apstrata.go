package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/token"
)

func init() { devSurfaces["apstrata"] = devApstrata }

// DevApstrata is what seed 004's examples need (compat.apstrata).
type DevApstrata struct {
	Tenant      string `json:"tenant"`
	AccountKey  string `json:"account_key"`
	OwnerClient string `json:"owner_client"`
	OwnerSecret string `json:"owner_secret"`
	DeviceID    string `json:"device_id"`
	DevicePass  string `json:"device_password"`
	UserLogin   string `json:"user_login"`
	UserPass    string `json:"user_password"`
	Example     string `json:"example"`
}

// devApstrata enables seed 004's surface for the dev tenant under an
// account key, with an owner, a device and a user holding apstrata
// credentials; the tenant allows the device's eternal tokens.
func devApstrata(ctx context.Context, a *App, by directory.Actor, c *DevCredentials) error {
	d := a.dir
	t, err := d.Tenant(ctx, DevTenant)
	if err != nil {
		return err
	}
	pol := t.Policy
	pol.AllowEternal = true
	if _, err := d.UpdateTenant(ctx, by, DevTenant, directory.TenantSpec{Policy: &pol}); err != nil {
		return err
	}
	x := DevApstrata{Tenant: DevTenant, AccountKey: "DEMOAPSKEY", OwnerClient: "apstrata-owner", OwnerSecret: token.NewID()[:20],
		DeviceID: "r2d2", DevicePass: token.NewID()[:16], UserLogin: "dave@example.com", UserPass: token.NewID()[:16]}
	ptr := func(s string) *string { return &s }
	list := func(s ...string) *[]string { return &s }
	if _, _, err := d.CreateClient(ctx, by, DevTenant, directory.ClientSpec{ID: ptr(x.OwnerClient), DisplayName: ptr("apstrata account owner"),
		Scopes: list(claims.ScopeAdmin), Kinds: list("access", "device")}); err != nil {
		return err
	}
	if _, _, err := d.CreateDevice(ctx, by, DevTenant, directory.DeviceSpec{ID: ptr(x.DeviceID), Type: ptr("device"), Roles: list("user")}); err != nil {
		return err
	}
	u, err := d.CreateUser(ctx, by, DevTenant, directory.UserSpec{Login: ptr(x.UserLogin), Password: ptr(token.NewID()[:20]), Roles: list("user")})
	if err != nil {
		return err
	}
	for _, s := range []struct {
		kind, id string
		sp       directory.LegacySecretSpec
	}{
		{"client", x.OwnerClient, directory.LegacySecretSpec{Secret: &x.OwnerSecret}},
		{"device", x.DeviceID, directory.LegacySecretSpec{Password: &x.DevicePass}},
		{"user", u.ID, directory.LegacySecretSpec{Password: &x.UserPass}},
	} {
		if err := d.SetLegacySecret(ctx, by, DevTenant, s.kind, s.id, s.sp); err != nil {
			return err
		}
	}
	raw, _ := json.Marshal(map[string]string{"account_key": x.AccountKey, "owner_client": x.OwnerClient})
	if _, err := d.PutSurface(ctx, by, DevTenant, "apstrata", raw); err != nil {
		return err
	}
	x.Example = fmt.Sprintf("%s/apsdb/rest/%s/GenerateToken?apsws.time=[timestamp]&apsws.authSig=[signature]&apsws.authMode=simple&apsws.id=%s (signature: md5(timestamp + %q + \"GenerateToken\" + UPPER(md5(device_password))))",
		a.cfg.PublicURL, x.AccountKey, x.DeviceID, x.DeviceID)
	if c.Compat == nil {
		c.Compat = map[string]any{}
	}
	if c.CompatBanner == nil {
		c.CompatBanner = map[string]string{}
	}
	c.Compat["apstrata"] = x
	c.CompatBanner["apstrata"] = "apstrata (seed 004): account key " + x.AccountKey + ", device " + x.DeviceID + ", user " + x.UserLogin +
		" (passwords in compat.apstrata); docs/compat/apstrata.md shows how to sign GenerateToken"
	return nil
}
