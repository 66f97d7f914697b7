package directory

import (
	"context"

	"github.com/tokend/tokend/internal/exchange"
	"github.com/tokend/tokend/internal/store"
)

// IssuerSpec is the admin API's shape of a trusted issuer (see
// store.IssuerSettings for each field's meaning). IntrospectionSecret is
// write-only: it is sealed under the master key and never shown again.
type IssuerSpec struct {
	ID                    string              `json:"id"`
	Issuer                string              `json:"issuer"`
	Audiences             []string            `json:"audiences"`
	Algorithms            []string            `json:"algorithms"`
	UserClaim             string              `json:"user_claim,omitempty"`
	RequireEmailVerified  bool                `json:"require_email_verified,omitempty"`
	CreateUsers           bool                `json:"create_users,omitempty"`
	DefaultRoles          []string            `json:"default_roles,omitempty"`
	DefaultGroups         []string            `json:"default_groups,omitempty"`
	GroupsClaim           string              `json:"groups_claim,omitempty"`
	GroupMap              map[string][]string `json:"group_map,omitempty"`
	RolesClaim            string              `json:"roles_claim,omitempty"`
	RoleMap               map[string][]string `json:"role_map,omitempty"`
	MaxAge                int64               `json:"max_age,omitempty"`
	IntrospectionURL      string              `json:"introspection_url,omitempty"`
	IntrospectionClientID string              `json:"introspection_client_id,omitempty"`
	IntrospectionSecret   *string             `json:"introspection_secret,omitempty"`
	Disabled              bool                `json:"disabled,omitempty"`
}

// issuerSecretName labels the sealed introspection secret of issuer id
// (exchange.Checker opens it under the same label).
func issuerSecretName(id string) string { return "trusted-issuer:" + id }

// check validates sp and returns the record's settings.
func (s *Service) checkIssuer(ctx context.Context, tenant string, sp *IssuerSpec) (store.IssuerSettings, error) {
	if err := checkID("id", sp.ID); err != nil {
		return store.IssuerSettings{}, err
	}
	set := store.IssuerSettings{Audiences: clean(sp.Audiences), Algorithms: sp.Algorithms, UserClaim: sp.UserClaim,
		RequireEmailVerified: sp.RequireEmailVerified, CreateUsers: sp.CreateUsers, DefaultRoles: clean(sp.DefaultRoles),
		DefaultGroups: clean(sp.DefaultGroups), GroupsClaim: sp.GroupsClaim, GroupMap: sp.GroupMap, RolesClaim: sp.RolesClaim,
		RoleMap: sp.RoleMap, MaxAge: sp.MaxAge, IntrospectionURL: sp.IntrospectionURL, IntrospectionClientID: sp.IntrospectionClientID}
	if len(sp.Audiences) > maxList || len(sp.Algorithms) > 16 || len(sp.GroupMap) > maxList || len(sp.RoleMap) > maxList {
		return set, invalidf("issuer", "too many entries in a list or map (at most %d)", maxList)
	}
	if f, msg := exchange.CheckSettings(sp.Issuer, &set); f != "" {
		return set, invalidf(f, "%s", msg)
	}
	if err := checkRoles(ctx, s.st, tenant, "default_roles", set.DefaultRoles); err != nil {
		return set, err
	}
	if err := checkGroups(ctx, s.st, tenant, set.DefaultGroups); err != nil {
		return set, invalidf("default_groups", "%v", err)
	}
	for _, l := range set.RoleMap {
		if err := checkRoles(ctx, s.st, tenant, "role_map", l); err != nil {
			return set, err
		}
	}
	for _, l := range set.GroupMap {
		if err := checkGroups(ctx, s.st, tenant, l); err != nil {
			return set, invalidf("group_map", "%v", err)
		}
	}
	if sp.IntrospectionSecret != nil && set.IntrospectionURL == "" {
		return set, invalidf("introspection_secret", "only with introspection_url")
	}
	return set, nil
}

// CreateIssuer makes the tenant trust an external issuer.
func (s *Service) CreateIssuer(ctx context.Context, by Actor, tenant string, sp IssuerSpec) (store.TrustedIssuer, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.TrustedIssuer{}, err
	}
	set, err := s.checkIssuer(ctx, tenant, &sp)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	now := s.stamp()
	ti := store.TrustedIssuer{Tenant: tenant, ID: sp.ID, Issuer: sp.Issuer, Settings: set, Disabled: sp.Disabled, CreatedAt: now, UpdatedAt: now}
	if sp.IntrospectionSecret != nil && *sp.IntrospectionSecret != "" {
		if ti.IntrospectionSecret, err = s.keys.SealSecret(tenant, issuerSecretName(sp.ID), []byte(*sp.IntrospectionSecret)); err != nil {
			return store.TrustedIssuer{}, storeErr(err)
		}
	}
	err = s.change(ctx, by, tenant, "trusted_issuer.create", sp.ID, map[string]string{"issuer": sp.Issuer}, func(st store.Store) error {
		return conflict(st.TrustedIssuers().Create(ctx, ti), "trusted issuer %q or issuer %q exists already", sp.ID, sp.Issuer)
	})
	if err == nil {
		s.changed(store.Change{Tenant: tenant, Entity: store.EntityTrustedIssuer, Key: sp.ID})
	}
	return ti, err
}

// ReplaceIssuer replaces every setting of trusted issuer id; a secret not
// sent is kept.
func (s *Service) ReplaceIssuer(ctx context.Context, by Actor, tenant, id string, sp IssuerSpec) (store.TrustedIssuer, error) {
	old, err := s.Issuer(ctx, tenant, id)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	sp.ID = id
	set, err := s.checkIssuer(ctx, tenant, &sp)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	ti := old
	ti.Issuer, ti.Settings, ti.Disabled, ti.UpdatedAt = sp.Issuer, set, sp.Disabled, s.stamp()
	switch {
	case sp.IntrospectionSecret != nil && *sp.IntrospectionSecret == "":
		ti.IntrospectionSecret = nil
	case sp.IntrospectionSecret != nil:
		if ti.IntrospectionSecret, err = s.keys.SealSecret(tenant, issuerSecretName(id), []byte(*sp.IntrospectionSecret)); err != nil {
			return store.TrustedIssuer{}, storeErr(err)
		}
	case set.IntrospectionURL == "":
		ti.IntrospectionSecret = nil
	}
	err = s.change(ctx, by, tenant, "trusted_issuer.update", id, map[string]string{"issuer": sp.Issuer}, func(st store.Store) error {
		return conflict(st.TrustedIssuers().Update(ctx, ti), "issuer %q is trusted already under another id", sp.Issuer)
	})
	if err == nil {
		s.changed(store.Change{Tenant: tenant, Entity: store.EntityTrustedIssuer, Key: id})
	}
	return ti, err
}

// Issuer returns one trusted issuer.
func (s *Service) Issuer(ctx context.Context, tenant, id string) (store.TrustedIssuer, error) {
	ti, err := s.st.TrustedIssuers().Get(ctx, tenant, id)
	return ti, notFound(err, "trusted issuer", id)
}

// Issuers lists the tenant's trusted issuers.
func (s *Service) Issuers(ctx context.Context, tenant string) ([]store.TrustedIssuer, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.TrustedIssuers().List(ctx, tenant)
	return l, storeErr(err)
}

// DeleteIssuer stops the tenant trusting issuer id. Tokens already
// exchanged stay valid until they expire or are revoked.
func (s *Service) DeleteIssuer(ctx context.Context, by Actor, tenant, id string) error {
	err := s.change(ctx, by, tenant, "trusted_issuer.delete", id, nil, func(st store.Store) error {
		return notFound(st.TrustedIssuers().Delete(ctx, tenant, id), "trusted issuer", id)
	})
	if err == nil {
		s.changed(store.Change{Tenant: tenant, Entity: store.EntityTrustedIssuer, Key: id})
	}
	return err
}
