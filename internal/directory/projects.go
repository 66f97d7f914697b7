package directory

import (
	"context"

	"github.com/tokend/tokend/internal/store"
)

// ProjectSpec is the writable part of a project.
type ProjectSpec struct {
	ID          *string `json:"id"`
	DisplayName *string `json:"display_name"`
	Audience    *string `json:"audience"`
}

func (sp *ProjectSpec) apply(p *store.Project) error {
	if sp.DisplayName != nil {
		if err := checkText("display_name", *sp.DisplayName, 200); err != nil {
			return err
		}
		p.DisplayName = *sp.DisplayName
	}
	if sp.Audience != nil {
		if err := checkAudience("audience", *sp.Audience); err != nil {
			return err
		}
		p.Audience = *sp.Audience
	}
	return nil
}

// CreateProject creates a project; its audience defaults to its id.
func (s *Service) CreateProject(ctx context.Context, by Actor, tenant string, sp ProjectSpec) (store.Project, error) {
	if sp.ID == nil {
		return store.Project{}, invalidf("id", "is required")
	}
	if err := checkID("id", *sp.ID); err != nil {
		return store.Project{}, err
	}
	now := s.stamp()
	p := store.Project{Tenant: tenant, ID: *sp.ID, Audience: *sp.ID, CreatedAt: now, UpdatedAt: now}
	if err := sp.apply(&p); err != nil {
		return store.Project{}, err
	}
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.Project{}, err
	}
	err := s.change(ctx, by, tenant, "project.create", p.ID, nil, func(st store.Store) error {
		return conflict(st.Projects().Create(ctx, p), "project %q or audience %q already exists", p.ID, p.Audience)
	})
	return p, err
}

// Project returns one project.
func (s *Service) Project(ctx context.Context, tenant, id string) (store.Project, error) {
	p, err := s.st.Projects().Get(ctx, tenant, id)
	return p, notFound(err, "project", id)
}

// Projects lists a tenant's projects.
func (s *Service) Projects(ctx context.Context, tenant string, pg store.Page) ([]store.Project, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Projects().List(ctx, tenant, pg)
	return l, storeErr(err)
}

// UpdateProject changes a project.
func (s *Service) UpdateProject(ctx context.Context, by Actor, tenant, id string, sp ProjectSpec) (store.Project, error) {
	if sp.ID != nil && *sp.ID != id {
		return store.Project{}, invalidf("id", "cannot be changed")
	}
	var out store.Project
	err := s.change(ctx, by, tenant, "project.update", id, nil, func(st store.Store) error {
		p, err := st.Projects().Get(ctx, tenant, id)
		if err != nil {
			return notFound(err, "project", id)
		}
		if err := sp.apply(&p); err != nil {
			return err
		}
		p.UpdatedAt = s.stamp()
		out = p
		return conflict(st.Projects().Update(ctx, p), "audience %q already exists", p.Audience)
	})
	return out, err
}

// DeleteProject deletes a project.
func (s *Service) DeleteProject(ctx context.Context, by Actor, tenant, id string) error {
	return s.change(ctx, by, tenant, "project.delete", id, nil, func(st store.Store) error {
		return notFound(st.Projects().Delete(ctx, tenant, id), "project", id)
	})
}
