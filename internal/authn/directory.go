package authn

import (
	"context"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// Directory reads the tenant data that the token paths read on every
// request — projects, users (by login and by id), roles and groups —
// through the same cache as the Authenticator's tenants and clients: an
// entry is trusted for cacheTTL without a change notice, dropped at once
// by Invalidate when the change log (or a write on this replica) names
// it, and while the database is unavailable the last known record is
// served for Options.StaleFor more. A read that an invalidation overtook
// is not cached. At most cacheSize records of each kind are kept.
//
// So a user who is disabled or deleted, a role or group that changes, or
// a project that is deleted, is seen by the next token of this replica
// at once when the write was made here (directory.Options.Changed), by
// every replica when it follows the change log (every 250 ms, sooner on
// PostgreSQL's NOTIFY), and at the latest after cacheTTL (2 s) if a
// change entry were missed; during a database outage, for as long as
// the client cache serves a client (cacheTTL + StaleFor), since no write
// can be made then either. That is the bound the client cache already
// accepts for a disabled client or a rotated secret.
//
// Records are shared: callers must not modify their slices.
type Directory struct {
	st store.Store
	c  cacheState
	// projects, roles and groups are keyed by tenant and id or name.
	projects map[[2]string]cached[store.Project]
	roles    map[[2]string]cached[store.Role]
	groups   map[[2]string]cached[store.Group]
	// byLogin and byID hold users; loginOf is the login each cached
	// user's id was read by, so that a change naming the id drops the
	// login's entry too.
	byLogin map[[2]string]cached[store.User]
	byID    map[[2]string]cached[store.User]
	loginOf map[[2]string]string
}

// NewDirectory returns an empty Directory over st; staleFor is
// Options.StaleFor.
func NewDirectory(st store.Store, staleFor time.Duration) *Directory {
	d := &Directory{st: st, c: cacheState{staleFor: staleFor}}
	d.reset()
	return d
}

func (d *Directory) reset() {
	d.projects = map[[2]string]cached[store.Project]{}
	d.roles = map[[2]string]cached[store.Role]{}
	d.groups = map[[2]string]cached[store.Group]{}
	d.byLogin = map[[2]string]cached[store.User]{}
	d.byID = map[[2]string]cached[store.User]{}
	d.loginOf = map[[2]string]string{}
}

// Project returns a project of tenant.
func (d *Directory) Project(ctx context.Context, tenant, id string) (store.Project, error) {
	p, _, err := lookup(ctx, &d.c, d.projects, [2]string{tenant, id}, false, func(ctx context.Context) (store.Project, error) {
		return d.st.Projects().Get(ctx, tenant, id)
	})
	return p, err
}

// Role returns a role of tenant.
func (d *Directory) Role(ctx context.Context, tenant, name string) (store.Role, error) {
	r, _, err := lookup(ctx, &d.c, d.roles, [2]string{tenant, name}, false, func(ctx context.Context) (store.Role, error) {
		return d.st.Roles().Get(ctx, tenant, name)
	})
	return r, err
}

// Group returns a group of tenant.
func (d *Directory) Group(ctx context.Context, tenant, name string) (store.Group, error) {
	g, _, err := lookup(ctx, &d.c, d.groups, [2]string{tenant, name}, false, func(ctx context.Context) (store.Group, error) {
		return d.st.Groups().Get(ctx, tenant, name)
	})
	return g, err
}

// User returns a user of tenant by id.
func (d *Directory) User(ctx context.Context, tenant, id string) (store.User, error) {
	u, _, err := lookup(ctx, &d.c, d.byID, [2]string{tenant, id}, false, func(ctx context.Context) (store.User, error) {
		return d.st.Users().Get(ctx, tenant, id)
	})
	return u, err
}

// UserByLogin returns a user of tenant by (normalised) login.
func (d *Directory) UserByLogin(ctx context.Context, tenant, login string) (store.User, error) {
	u, _, err := d.userByLogin(ctx, tenant, login, false)
	return u, err
}

// userByLogin is UserByLogin that can force a read (reread) and says
// when the record was cached (zero: just read).
func (d *Directory) userByLogin(ctx context.Context, tenant, login string, reread bool) (store.User, time.Time, error) {
	u, at, err := lookup(ctx, &d.c, d.byLogin, [2]string{tenant, login}, reread, func(ctx context.Context) (store.User, error) {
		return d.st.Users().GetByLogin(ctx, tenant, login)
	})
	if err == nil && at.IsZero() {
		d.c.mu.Lock()
		if len(d.loginOf) >= 2*cacheSize {
			// Entries evicted from byLogin leave theirs here: start over
			// rather than grow.
			d.byLogin, d.loginOf = map[[2]string]cached[store.User]{}, map[[2]string]string{}
		}
		d.loginOf[[2]string{tenant, u.ID}] = login
		d.c.mu.Unlock()
	}
	return u, at, err
}

// Invalidate drops the cached records a change-log entry names: a
// project, user, role or group by its key, everything of a tenant that
// changed or went.
func (d *Directory) Invalidate(ch store.Change) {
	switch ch.Entity {
	case store.EntityTenant, store.EntityProject, store.EntityRole, store.EntityGroup, store.EntityUser:
	default:
		return
	}
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	d.c.gen++
	k := [2]string{ch.Tenant, ch.Key}
	switch ch.Entity {
	case store.EntityTenant:
		dropTenant(d.projects, ch.Tenant)
		dropTenant(d.roles, ch.Tenant)
		dropTenant(d.groups, ch.Tenant)
		dropTenant(d.byLogin, ch.Tenant)
		dropTenant(d.byID, ch.Tenant)
		for id := range d.loginOf {
			if id[0] == ch.Tenant {
				delete(d.loginOf, id)
			}
		}
	case store.EntityProject:
		delete(d.projects, k)
	case store.EntityRole:
		delete(d.roles, k)
	case store.EntityGroup:
		delete(d.groups, k)
	case store.EntityUser:
		delete(d.byID, k)
		if login, ok := d.loginOf[k]; ok {
			delete(d.byLogin, [2]string{ch.Tenant, login})
			delete(d.loginOf, k)
		}
	}
}

func dropTenant[T any](m map[[2]string]cached[T], tenant string) {
	for k := range m {
		if k[0] == tenant {
			delete(m, k)
		}
	}
}
