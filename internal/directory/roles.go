package directory

import (
	"context"

	"github.com/tokend/tokend/internal/store"
)

// RoleSpec is the writable part of a role.
type RoleSpec struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Scopes      *[]string `json:"scopes"`
	Resources   *[]string `json:"resources"`
}

func (sp *RoleSpec) apply(r *store.Role) error {
	if sp.Description != nil {
		if err := checkText("description", *sp.Description, 1000); err != nil {
			return err
		}
		r.Description = *sp.Description
	}
	if sp.Scopes != nil {
		if err := checkScopes("scopes", *sp.Scopes); err != nil {
			return err
		}
		r.Scopes = clean(*sp.Scopes)
	}
	if sp.Resources != nil {
		if err := checkAudiences("resources", *sp.Resources); err != nil {
			return err
		}
		r.Resources = clean(*sp.Resources)
	}
	return nil
}

// CreateRole creates a role.
func (s *Service) CreateRole(ctx context.Context, by Actor, tenant string, sp RoleSpec) (store.Role, error) {
	if sp.Name == nil {
		return store.Role{}, invalidf("name", "is required")
	}
	if err := checkID("name", *sp.Name); err != nil {
		return store.Role{}, err
	}
	now := s.stamp()
	r := store.Role{Tenant: tenant, Name: *sp.Name, Scopes: []string{}, Resources: []string{}, CreatedAt: now, UpdatedAt: now}
	if err := sp.apply(&r); err != nil {
		return store.Role{}, err
	}
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.Role{}, err
	}
	err := s.change(ctx, by, tenant, "role.create", r.Name, nil, func(st store.Store) error {
		return conflict(st.Roles().Create(ctx, r), "role %q already exists", r.Name)
	})
	return r, err
}

// Role returns one role.
func (s *Service) Role(ctx context.Context, tenant, name string) (store.Role, error) {
	r, err := s.st.Roles().Get(ctx, tenant, name)
	return r, notFound(err, "role", name)
}

// Roles lists a tenant's roles.
func (s *Service) Roles(ctx context.Context, tenant string, pg store.Page) ([]store.Role, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Roles().List(ctx, tenant, pg)
	return l, storeErr(err)
}

// UpdateRole changes a role.
func (s *Service) UpdateRole(ctx context.Context, by Actor, tenant, name string, sp RoleSpec) (store.Role, error) {
	if sp.Name != nil && *sp.Name != name {
		return store.Role{}, invalidf("name", "cannot be changed")
	}
	var out store.Role
	err := s.change(ctx, by, tenant, "role.update", name, nil, func(st store.Store) error {
		r, err := st.Roles().Get(ctx, tenant, name)
		if err != nil {
			return notFound(err, "role", name)
		}
		if err := sp.apply(&r); err != nil {
			return err
		}
		r.UpdatedAt = s.stamp()
		out = r
		return st.Roles().Update(ctx, r)
	})
	return out, err
}

// DeleteRole deletes a role.
func (s *Service) DeleteRole(ctx context.Context, by Actor, tenant, name string) error {
	return s.change(ctx, by, tenant, "role.delete", name, nil, func(st store.Store) error {
		return notFound(st.Roles().Delete(ctx, tenant, name), "role", name)
	})
}

// GroupSpec is the writable part of a group.
type GroupSpec struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Roles       *[]string `json:"roles"`
}

func (s *Service) applyGroup(ctx context.Context, st store.Store, sp *GroupSpec, g *store.Group) error {
	if sp.Description != nil {
		if err := checkText("description", *sp.Description, 1000); err != nil {
			return err
		}
		g.Description = *sp.Description
	}
	if sp.Roles != nil {
		if err := checkRoles(ctx, st, g.Tenant, "roles", *sp.Roles); err != nil {
			return err
		}
		g.Roles = clean(*sp.Roles)
	}
	return nil
}

// CreateGroup creates a group.
func (s *Service) CreateGroup(ctx context.Context, by Actor, tenant string, sp GroupSpec) (store.Group, error) {
	if sp.Name == nil {
		return store.Group{}, invalidf("name", "is required")
	}
	if err := checkID("name", *sp.Name); err != nil {
		return store.Group{}, err
	}
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.Group{}, err
	}
	now := s.stamp()
	g := store.Group{Tenant: tenant, Name: *sp.Name, Roles: []string{}, CreatedAt: now, UpdatedAt: now}
	if err := s.applyGroup(ctx, s.st, &sp, &g); err != nil {
		return store.Group{}, err
	}
	err := s.change(ctx, by, tenant, "group.create", g.Name, nil, func(st store.Store) error {
		return conflict(st.Groups().Create(ctx, g), "group %q already exists", g.Name)
	})
	return g, err
}

// Group returns one group.
func (s *Service) Group(ctx context.Context, tenant, name string) (store.Group, error) {
	g, err := s.st.Groups().Get(ctx, tenant, name)
	return g, notFound(err, "group", name)
}

// Groups lists a tenant's groups.
func (s *Service) Groups(ctx context.Context, tenant string, pg store.Page) ([]store.Group, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Groups().List(ctx, tenant, pg)
	return l, storeErr(err)
}

// UpdateGroup changes a group.
func (s *Service) UpdateGroup(ctx context.Context, by Actor, tenant, name string, sp GroupSpec) (store.Group, error) {
	if sp.Name != nil && *sp.Name != name {
		return store.Group{}, invalidf("name", "cannot be changed")
	}
	var out store.Group
	err := s.change(ctx, by, tenant, "group.update", name, nil, func(st store.Store) error {
		g, err := st.Groups().Get(ctx, tenant, name)
		if err != nil {
			return notFound(err, "group", name)
		}
		if err := s.applyGroup(ctx, st, &sp, &g); err != nil {
			return err
		}
		g.UpdatedAt = s.stamp()
		out = g
		return st.Groups().Update(ctx, g)
	})
	return out, err
}

// DeleteGroup deletes a group.
func (s *Service) DeleteGroup(ctx context.Context, by Actor, tenant, name string) error {
	return s.change(ctx, by, tenant, "group.delete", name, nil, func(st store.Store) error {
		return notFound(st.Groups().Delete(ctx, tenant, name), "group", name)
	})
}
