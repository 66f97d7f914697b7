package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// The BigCommerce surface's dev fixtures: a store (its own tenant, whose
// policy lets storefront tokens live as long as BigCommerce's examples
// ask), channel 1, an API account with both token-creation scopes, a
// customer and an allowed origin.
const (
	DevBigCommerceTenant   = "bigcommerce"
	DevBigCommerceStore    = "abc123"
	DevBigCommerceOrigin   = "https://www.yourstorefront.com"
	DevBigCommerceCustomer = "1"
	DevBigCommerceEmail    = "jane.doe@example.com"
	DevBigCommerceDomain   = "mybigcommerce.test"
	devBigCommerceYears10  = 10 * 365 * 86400
)

// DevBigCommerce is what seed 001's examples need, under
// compat.bigcommerce in dev-credentials.json.
type DevBigCommerce struct {
	Tenant    string `json:"tenant"`
	StoreHash string `json:"store_hash"`
	ChannelID int64  `json:"channel_id"`
	// AccessToken is the API account's X-Auth-Token, with the scopes
	// store_storefront_api and store_storefront_api_customer_impersonation.
	AccessToken   string   `json:"access_token"`
	ClientID      string   `json:"client_id"`
	Scopes        []string `json:"scopes"`
	CustomerID    int64    `json:"customer_id"`
	Email         string   `json:"customer_email"`
	Password      string   `json:"customer_password"`
	AllowedOrigin string   `json:"allowed_origin"`
	// GraphQLURL is the store's GraphQL endpoint by path; with
	// --bigcommerce-domain set, store-{hash}-{channel}.{domain}/graphql
	// serves it too.
	GraphQLURL string `json:"graphql_url"`
}

func init() {
	devSurfaces[binding.BigCommerceName] = devBigCommerce
	devSurfaceTenants[binding.BigCommerceName] = DevBigCommerceTenant
}

func devBigCommerce(ctx context.Context, a *App, by directory.Actor, c *DevCredentials) error {
	d := a.dir
	id := DevBigCommerceTenant
	if _, err := d.Tenant(ctx, id); err == nil {
		if err := d.DeleteTenant(ctx, by, id); err != nil {
			return err
		}
	}
	ptr := func(s string) *string { return &s }
	list := func(s ...string) *[]string { return &s }
	pol := store.Policy{PasswordGrant: true, MaxAccessTTL: devBigCommerceYears10, MaxLifetime: devBigCommerceYears10, Lifetime: 86400}
	if _, err := d.CreateTenant(ctx, by, directory.TenantSpec{ID: &id, DisplayName: ptr("BigCommerce store " + DevBigCommerceStore), Policy: &pol}); err != nil {
		return err
	}
	settings, _ := json.Marshal(binding.BigCommerce{StoreHash: DevBigCommerceStore, Channels: []binding.Channel{{ID: 1, Name: "Default channel"}}})
	if _, err := d.PutSurface(ctx, by, id, binding.BigCommerceName, settings); err != nil {
		return err
	}
	scopes := []string{"store_storefront_api", "store_storefront_api_customer_impersonation"}
	if _, _, err := d.CreateClient(ctx, by, id, directory.ClientSpec{ID: ptr("api-account"), DisplayName: ptr("Store API account"),
		GrantTypes: list("client_credentials"), Scopes: &scopes, Kinds: list("access", "storefront", "private", "impersonation")}); err != nil {
		return err
	}
	exp := int64(devBigCommerceYears10)
	acct, err := a.mint.Client(ctx, mint.Actor{Tenant: by.Tenant, Subject: by.Subject}, id,
		mint.ClientSpec{ClientID: "api-account", ExpiresIn: &exp, Format: store.FormatOpaque})
	if err != nil {
		return err
	}
	pw := token.NewID()[:20]
	if _, err := d.CreateUser(ctx, by, id, directory.UserSpec{ID: ptr(DevBigCommerceCustomer), Login: ptr(DevBigCommerceEmail),
		DisplayName: ptr("Jane Doe"), Password: &pw}); err != nil {
		return err
	}
	if c.Compat == nil {
		c.Compat = map[string]any{}
	}
	if c.CompatBanner == nil {
		c.CompatBanner = map[string]string{}
	}
	gql := fmt.Sprintf("%s/stores/%s/graphql", a.cfg.PublicURL, DevBigCommerceStore)
	c.Compat[binding.BigCommerceName] = DevBigCommerce{Tenant: id, StoreHash: DevBigCommerceStore, ChannelID: 1,
		AccessToken: acct.Value, ClientID: "api-account", Scopes: scopes, CustomerID: 1, Email: DevBigCommerceEmail,
		Password: pw, AllowedOrigin: DevBigCommerceOrigin, GraphQLURL: gql}
	c.CompatBanner[binding.BigCommerceName] = fmt.Sprintf(
		"  store %s, channel 1, API account token (scopes %s %s):\n  X-Auth-Token: %s\n"+
			"  curl -X POST %s/stores/%s/v3/storefront/api-token -H \"X-Auth-Token: <token>\" -H 'Accept: application/json' \\\n"+
			"    -H 'Content-Type: application/json' -d '{\"allowed_cors_origins\":[\"%s\"],\"channel_id\":1,\"expires_at\":1885635176}'\n"+
			"  customer %s / %s; GraphQL at %s (or store-%s-1.<--bigcommerce-domain>/graphql)",
		DevBigCommerceStore, scopes[0], scopes[1], acct.Value, a.cfg.PublicURL, DevBigCommerceStore, DevBigCommerceOrigin,
		DevBigCommerceEmail, pw, gql, DevBigCommerceStore)
	return nil
}
