package app

import (
	"context"
	"errors"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/store"
)

// AdminClient is the system tenant's client that holds the bootstrap
// credential.
const AdminClient = "admin"

// ErrBootstrapped reports that the first admin credential already exists.
var ErrBootstrapped = errors.New("already bootstrapped: the system tenant has its admin client; use an admin token to create more")

// Bootstrap is the first system admin credential.
type Bootstrap struct {
	// Token is an opaque admin key (tkd_adm_...) that does not expire; it
	// can be revoked like any token.
	Token   string
	TokenID string
	// ClientID and ClientSecret authenticate the admin client.
	ClientID     string
	ClientSecret string
}

var systemActor = directory.Actor{}

// Bootstrap creates the system tenant, its admin client and an admin key,
// once. It returns ErrBootstrapped when they already exist.
func (a *App) Bootstrap(ctx context.Context) (Bootstrap, error) {
	if _, err := a.dir.Tenant(ctx, claims.SystemTenant); fault.CodeOf(err) == fault.CodeNotFound {
		id, name := claims.SystemTenant, "tokend system"
		if _, err := a.dir.CreateTenant(ctx, systemActor, directory.TenantSpec{ID: &id, DisplayName: &name}); err != nil && fault.CodeOf(err) != fault.CodeConflict {
			return Bootstrap{}, err
		}
	} else if err != nil {
		return Bootstrap{}, err
	}
	id, name := AdminClient, "system administrator"
	scopes := []string{claims.ScopeAdmin}
	_, secret, err := a.dir.CreateClient(ctx, systemActor, claims.SystemTenant, directory.ClientSpec{
		ID: &id, DisplayName: &name, Scopes: &scopes, GrantTypes: &[]string{"client_credentials"},
	})
	if fault.CodeOf(err) == fault.CodeConflict {
		return Bootstrap{}, ErrBootstrapped
	}
	if err != nil {
		return Bootstrap{}, err
	}
	tok, err := a.adminKey(ctx)
	if err != nil {
		return Bootstrap{}, err
	}
	return Bootstrap{Token: tok.Value, TokenID: tok.ID, ClientID: AdminClient, ClientSecret: secret}, nil
}

// adminKey issues a non-expiring opaque system admin key for the admin
// client.
func (a *App) adminKey(ctx context.Context) (issue.Result, error) {
	return a.issuer.Issue(ctx, issue.Request{
		Tenant: claims.SystemTenant, Kind: claims.KindAdmin, SubjectType: "client", Subject: AdminClient,
		ClientID: AdminClient, Scope: []string{claims.ScopeAdmin}, Format: store.FormatOpaque,
		Action: "token.bootstrap", AuditActor: "system",
	})
}
