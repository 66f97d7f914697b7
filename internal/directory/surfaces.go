package directory

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// PutSurface enables surface name for the tenant with the given settings,
// or replaces its settings. The settings are decoded strictly and
// validated by the surface's own settings type; the first problem (by
// field name) is reported as invalid "settings.<field>".
func (s *Service) PutSurface(ctx context.Context, by Actor, tenant, name string, raw json.RawMessage) (store.Surface, error) {
	set, problems, err := binding.Decode(name, raw)
	if err != nil {
		return store.Surface{}, fault.NotFound("%s", err.Error())
	}
	if len(problems) > 0 {
		fields := make([]string, 0, len(problems))
		for f := range problems {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		f := fields[0]
		if f == "settings" {
			return store.Surface{}, invalidf("settings", "%s", problems[f])
		}
		return store.Surface{}, invalidf("settings."+f, "%s", problems[f])
	}
	// Stored as re-encoded, so defaults and spelling are the type's own.
	canon, err := json.Marshal(set)
	if err != nil {
		return store.Surface{}, fault.Internal(err)
	}
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.Surface{}, err
	}
	now := s.stamp()
	rec := store.Surface{Tenant: tenant, Name: name, Key: set.LookupKey(), Settings: canon, CreatedAt: now, UpdatedAt: now}
	err = s.change(ctx, by, tenant, "surface.put", name, nil, func(st store.Store) error {
		if old, err := st.Surfaces().Get(ctx, tenant, name); err == nil {
			rec.CreatedAt = old.CreatedAt
		}
		return conflict(st.Surfaces().Put(ctx, rec), "another tenant already serves surface %q under key %q", name, rec.Key)
	})
	if err == nil {
		s.changed(store.Change{Tenant: tenant, Entity: store.EntitySurface, Key: name})
	}
	return rec, err
}

// Surface returns the tenant's record of surface name.
func (s *Service) Surface(ctx context.Context, tenant, name string) (store.Surface, error) {
	if !binding.Known(name) {
		return store.Surface{}, fault.NotFound("surface %q is not known", name)
	}
	rec, err := s.st.Surfaces().Get(ctx, tenant, name)
	return rec, notFound(err, "surface", name)
}

// Surfaces lists the surfaces the tenant serves.
func (s *Service) Surfaces(ctx context.Context, tenant string) ([]store.Surface, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Surfaces().List(ctx, tenant)
	return l, storeErr(err)
}

// DeleteSurface stops the tenant serving surface name. Tokens it minted
// stay valid until they expire or are revoked.
func (s *Service) DeleteSurface(ctx context.Context, by Actor, tenant, name string) error {
	err := s.change(ctx, by, tenant, "surface.delete", name, nil, func(st store.Store) error {
		return notFound(st.Surfaces().Delete(ctx, tenant, name), "surface", name)
	})
	if err == nil {
		s.changed(store.Change{Tenant: tenant, Entity: store.EntitySurface, Key: name})
	}
	return err
}
