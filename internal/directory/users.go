package directory

import (
	"context"

	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// UserSpec is the writable part of a user; Password and PasswordHash are
// write-only. PasswordHash imports a hash from another system instead of
// a password (principal.ImportedHash: argon2id or bcrypt).
type UserSpec struct {
	// ID, at creation only, is the user's id (an id imported from a
	// legacy system, such as a BigCommerce customer id); default a fresh
	// one.
	ID           *string   `json:"id"`
	Login        *string   `json:"login"`
	DisplayName  *string   `json:"display_name"`
	Password     *string   `json:"password"`
	PasswordHash *string   `json:"password_hash"`
	Roles        *[]string `json:"roles"`
	Groups       *[]string `json:"groups"`
	Disabled     *bool     `json:"disabled"`
}

func (s *Service) applyUser(ctx context.Context, st store.Store, sp *UserSpec, u *store.User) error {
	if sp.Login != nil {
		l, err := principal.NormalizeLogin(*sp.Login)
		if err != nil {
			return invalidf("login", "%v", err)
		}
		u.Login = l
	}
	if sp.DisplayName != nil {
		if err := checkText("display_name", *sp.DisplayName, 200); err != nil {
			return err
		}
		u.DisplayName = *sp.DisplayName
	}
	if sp.Roles != nil {
		if err := checkRoles(ctx, st, u.Tenant, "roles", *sp.Roles); err != nil {
			return err
		}
		u.Roles = clean(*sp.Roles)
	}
	if sp.Groups != nil {
		if err := checkGroups(ctx, st, u.Tenant, *sp.Groups); err != nil {
			return err
		}
		u.Groups = clean(*sp.Groups)
	}
	if sp.Disabled != nil {
		u.Disabled = *sp.Disabled
	}
	return nil
}

// hashPassword returns the stored hash of the spec's password: a chosen
// password validated and hashed, prepared (principal.PreparePassword),
// outside any transaction (argon2id is slow by design), or an imported
// hash validated. "" when the spec sets neither.
func hashPassword(ctx context.Context, sp UserSpec) (string, error) {
	switch {
	case sp.Password != nil && sp.PasswordHash != nil:
		return "", invalidf("password_hash", "give a password or a password_hash, not both")
	case sp.PasswordHash != nil:
		h, err := principal.ImportedHash(*sp.PasswordHash)
		if err != nil {
			return "", invalidf("password_hash", "%v", err)
		}
		return h, nil
	case sp.Password == nil:
		return "", nil
	}
	prepared, err := principal.PreparePassword(*sp.Password)
	if err != nil {
		return "", invalidf("password", "%v", err)
	}
	if err := principal.ValidPassword(prepared); err != nil {
		return "", invalidf("password", "%v", err)
	}
	h, err := principal.HashPassword(ctx, prepared)
	if err != nil {
		return "", storeErr(err)
	}
	return h, nil
}

// CreateUser creates a user with a generated id.
func (s *Service) CreateUser(ctx context.Context, by Actor, tenant string, sp UserSpec) (store.User, error) {
	if sp.Login == nil {
		return store.User{}, invalidf("login", "is required")
	}
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.User{}, err
	}
	now := s.stamp()
	u := store.User{Tenant: tenant, ID: token.NewID(), Roles: []string{}, Groups: []string{}, CreatedAt: now, UpdatedAt: now}
	if sp.ID != nil {
		if err := checkID("id", *sp.ID); err != nil {
			return store.User{}, err
		}
		u.ID = *sp.ID
	}
	if err := s.applyUser(ctx, s.st, &sp, &u); err != nil {
		return store.User{}, err
	}
	h, err := hashPassword(ctx, sp)
	if err != nil {
		return store.User{}, err
	}
	u.PasswordHash = h
	err = s.change(ctx, by, tenant, "user.create", u.ID, map[string]string{"login": u.Login}, func(st store.Store) error {
		return conflict(st.Users().Create(ctx, u), "user %q or login %q already exists", u.ID, u.Login)
	})
	return u, err
}

// User returns one user.
func (s *Service) User(ctx context.Context, tenant, id string) (store.User, error) {
	u, err := s.st.Users().Get(ctx, tenant, id)
	return u, notFound(err, "user", id)
}

// UserByLogin finds a user by login (normalised first).
func (s *Service) UserByLogin(ctx context.Context, tenant, login string) (store.User, error) {
	l, err := principal.NormalizeLogin(login)
	if err != nil {
		return store.User{}, invalidf("login", "%v", err)
	}
	u, err := s.st.Users().GetByLogin(ctx, tenant, l)
	return u, notFound(err, "user with login", l)
}

// Users lists a tenant's users.
func (s *Service) Users(ctx context.Context, tenant string, pg store.Page) ([]store.User, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Users().List(ctx, tenant, pg)
	return l, storeErr(err)
}

// UpdateUser changes a user, including their password.
func (s *Service) UpdateUser(ctx context.Context, by Actor, tenant, id string, sp UserSpec) (store.User, error) {
	if sp.ID != nil && *sp.ID != id {
		return store.User{}, invalidf("id", "cannot be changed")
	}
	h, err := hashPassword(ctx, sp)
	if err != nil {
		return store.User{}, err
	}
	var out store.User
	err = s.change(ctx, by, tenant, "user.update", id, nil, func(st store.Store) error {
		u, err := st.Users().Get(ctx, tenant, id)
		if err != nil {
			return notFound(err, "user", id)
		}
		if err := s.applyUser(ctx, st, &sp, &u); err != nil {
			return err
		}
		if sp.Password != nil || sp.PasswordHash != nil {
			u.PasswordHash = h
		}
		u.UpdatedAt = s.stamp()
		out = u
		return conflict(st.Users().Update(ctx, u), "login %q already exists", u.Login)
	})
	return out, err
}

// DeleteUser deletes a user.
func (s *Service) DeleteUser(ctx context.Context, by Actor, tenant, id string) error {
	return s.change(ctx, by, tenant, "user.delete", id, nil, func(st store.Store) error {
		return notFound(st.Users().Delete(ctx, tenant, id), "user", id)
	})
}
