package app

import (
	"context"
	"slices"
	"strings"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/tenant"
)

// DevExchangeClient is the demo client of token exchange and jwt-bearer
// that --dev-trust-issuer adds.
const DevExchangeClient = "demo-exchange"

// DevTrustedIssuer is the id of the trusted issuer --dev-trust-issuer
// creates in the demo tenant.
const DevTrustedIssuer = "dev"

// devTrust, with --dev-trust-issuer, makes the demo tenant trust that
// issuer (users named by sub, created on first exchange with role user)
// and adds the client demo-exchange; it reports whether c changed. Without
// the flag the demo tenant trusts no one.
func (a *App) devTrust(ctx context.Context, c *DevCredentials) (bool, error) {
	iss := a.cfg.DevTrustIssuer
	if iss == "" {
		return false, nil
	}
	by := directory.Actor{Tenant: claims.SystemTenant, Subject: "dev-fixtures"}
	changed := false
	if !slices.ContainsFunc(c.Clients, func(d DevClient) bool { return d.ClientID == DevExchangeClient }) {
		id, name := DevExchangeClient, "Token exchange demo"
		grants := []string{"urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:jwt-bearer"}
		scopes, auds, kinds := []string{"read", "write", "read:public"}, []string{"api"}, []string{"access"}
		got, secret, err := a.dir.CreateClient(ctx, by, DevTenant, directory.ClientSpec{ID: &id, DisplayName: &name, GrantTypes: &grants,
			Scopes: &scopes, Audiences: &auds, Kinds: &kinds})
		if err != nil {
			return false, err
		}
		c.Clients = append(c.Clients, DevClient{ClientID: got.ID, ClientSecret: secret, GrantTypes: got.GrantTypes, Scopes: got.Scopes,
			Note: "token exchange (RFC 8693) and jwt-bearer (RFC 7523) of tokens from " + iss})
		changed = true
	}
	auds := []string{DevExchangeClient, tenant.Issuer(a.cfg.PublicURL, DevTenant)}
	for _, x := range strings.Split(a.cfg.DevTrustAudience, ",") {
		if x = strings.TrimSpace(x); x != "" {
			auds = append(auds, x)
		}
	}
	spec := directory.IssuerSpec{ID: DevTrustedIssuer, Issuer: iss, Audiences: auds, Algorithms: []string{"RS256", "PS256", "ES256", "EdDSA"},
		UserClaim: "sub", CreateUsers: true, DefaultRoles: []string{"user"}}
	if _, err := a.dir.Issuer(ctx, DevTenant, DevTrustedIssuer); err == nil {
		_, err = a.dir.ReplaceIssuer(ctx, by, DevTenant, DevTrustedIssuer, spec)
		return changed, err
	}
	_, err := a.dir.CreateIssuer(ctx, by, DevTenant, spec)
	return changed, err
}
