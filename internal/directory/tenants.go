package directory

import (
	"context"
	"errors"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
)

// TenantSpec is the writable part of a tenant; nil fields are left alone.
type TenantSpec struct {
	ID          *string       `json:"id"`
	DisplayName *string       `json:"display_name"`
	Policy      *store.Policy `json:"policy"`
}

func (sp *TenantSpec) apply(t *store.Tenant) error {
	if sp.DisplayName != nil {
		if err := checkText("display_name", *sp.DisplayName, 200); err != nil {
			return err
		}
		t.DisplayName = *sp.DisplayName
	}
	if sp.Policy != nil {
		for field, msg := range tenant.Validate(*sp.Policy) {
			return invalidf("policy."+field, "%s", msg)
		}
		t.Policy = *sp.Policy
	}
	return nil
}

// CreateTenant creates a tenant and its first signing key.
func (s *Service) CreateTenant(ctx context.Context, by Actor, sp TenantSpec) (store.Tenant, error) {
	if sp.ID == nil {
		return store.Tenant{}, invalidf("id", "is required")
	}
	if err := checkID("id", *sp.ID); err != nil {
		return store.Tenant{}, err
	}
	now := s.stamp()
	t := store.Tenant{ID: *sp.ID, CreatedAt: now, UpdatedAt: now}
	if err := sp.apply(&t); err != nil {
		return store.Tenant{}, err
	}
	err := s.change(ctx, by, t.ID, "tenant.create", t.ID, nil, func(st store.Store) error {
		return conflict(st.Tenants().Create(ctx, t), "tenant %q already exists", t.ID)
	})
	if err != nil {
		return store.Tenant{}, err
	}
	if err := s.keys.Ensure(ctx, t.ID, tenant.Effective(t.Policy).SigningAlg); err != nil {
		return store.Tenant{}, storeErr(err)
	}
	return t, nil
}

// Tenant returns one tenant.
func (s *Service) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	t, err := s.st.Tenants().Get(ctx, id)
	return t, notFound(err, "tenant", id)
}

// Tenants lists tenants.
func (s *Service) Tenants(ctx context.Context, p store.Page) ([]store.Tenant, error) {
	l, err := s.st.Tenants().List(ctx, p)
	return l, storeErr(err)
}

// UpdateTenant changes a tenant's display name or policy.
func (s *Service) UpdateTenant(ctx context.Context, by Actor, id string, sp TenantSpec) (store.Tenant, error) {
	if sp.ID != nil && *sp.ID != id {
		return store.Tenant{}, invalidf("id", "cannot be changed")
	}
	var out store.Tenant
	err := s.change(ctx, by, id, "tenant.update", id, nil, func(st store.Store) error {
		t, err := st.Tenants().Get(ctx, id)
		if err != nil {
			return notFound(err, "tenant", id)
		}
		if err := sp.apply(&t); err != nil {
			return err
		}
		t.UpdatedAt = s.stamp()
		out = t
		return st.Tenants().Update(ctx, t)
	})
	return out, err
}

// DeleteTenant deletes a tenant and everything it holds. The audit event is
// written to the system tenant, since the tenant's own log goes with it.
func (s *Service) DeleteTenant(ctx context.Context, by Actor, id string) error {
	if id == claims.SystemTenant {
		return fault.Forbidden("the %s tenant cannot be deleted", claims.SystemTenant)
	}
	err := s.st.Tx(ctx, func(st store.Store) error {
		if err := st.Tenants().Delete(ctx, id); err != nil {
			return notFound(err, "tenant", id)
		}
		if _, err := st.Tenants().Get(ctx, claims.SystemTenant); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		return s.audit.Record(ctx, st, store.AuditEvent{
			Tenant: claims.SystemTenant, Action: "tenant.delete", Actor: by.String(), Subject: id, ClientID: by.ClientID,
		})
	})
	if err != nil {
		return storeErr(err)
	}
	s.keys.Invalidate(id)
	s.changed(store.Change{Tenant: id, Entity: store.EntityTenant, Key: id})
	return nil
}
