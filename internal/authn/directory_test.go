package authn_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/postgres"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
	"github.com/tokend/tokend/internal/store/sqlite/sqlitetest"
)

// TestDirectory: the token paths' cache of users, roles, groups and
// projects on real SQLite and PostgreSQL. A record changed in the store
// is served from the cache until the change-log entry of the change
// reaches Invalidate (as the follower hands it over), and is read again
// at once after it: a role's scopes, a group's roles, a user disabled, a
// login renamed, a user or project deleted, a tenant changed.
func TestDirectory(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { directoryCases(t, sqlitetest.New(t, "acme")) })
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		ctx := context.Background()
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := db.Tenants().Create(ctx, store.Tenant{ID: "acme", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		directoryCases(t, db)
	})
}

func directoryCases(t *testing.T, st store.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.Projects().Create(ctx, store.Project{Tenant: "acme", ID: "api", Audience: "acme-api", CreatedAt: now, UpdatedAt: now}))
	must(st.Roles().Create(ctx, store.Role{Tenant: "acme", Name: "reader", Scopes: []string{"docs:read"}, CreatedAt: now, UpdatedAt: now}))
	must(st.Groups().Create(ctx, store.Group{Tenant: "acme", Name: "staff", Roles: []string{"reader"}, CreatedAt: now, UpdatedAt: now}))
	u := store.User{Tenant: "acme", ID: "u1", Login: "ann@acme.test", Roles: []string{"reader"}, Groups: []string{"staff"}, CreatedAt: now, UpdatedAt: now}
	must(st.Users().Create(ctx, u))
	cursor, err := st.Changes().Last(ctx)
	must(err)

	d := authn.NewDirectory(st, time.Second)
	// follow hands the change-log entries written since the last call to
	// Invalidate, as the change follower does.
	follow := func() {
		t.Helper()
		l, err := st.Changes().After(ctx, cursor, 1000)
		must(err)
		if len(l) == 0 {
			t.Fatal("the change wrote no change-log entry")
		}
		for _, c := range l {
			d.Invalidate(c)
			cursor = c.Seq
		}
	}
	// cached reports whether a read is still within the cache's lifetime
	// since start, so that a stale answer is expected (the check is
	// skipped on a machine slow enough to pass it).
	cached := func(start time.Time) bool { return time.Since(start) < 1500*time.Millisecond }

	warm := func() time.Time {
		t.Helper()
		start := time.Now()
		_, err := d.UserByLogin(ctx, "acme", "ann@acme.test")
		must(err)
		_, err = d.User(ctx, "acme", "u1")
		must(err)
		_, err = d.Role(ctx, "acme", "reader")
		must(err)
		_, err = d.Group(ctx, "acme", "staff")
		must(err)
		_, err = d.Project(ctx, "acme", "api")
		must(err)
		return start
	}

	t.Run("role", func(t *testing.T) {
		start := warm()
		r, _ := st.Roles().Get(ctx, "acme", "reader")
		r.Scopes = []string{"docs:read", "docs:list"}
		must(st.Roles().Update(ctx, r))
		if got, _ := d.Role(ctx, "acme", "reader"); cached(start) && len(got.Scopes) != 1 {
			t.Fatalf("role read again before its change was seen: %v", got.Scopes)
		}
		follow()
		if got, _ := d.Role(ctx, "acme", "reader"); !slices.Equal(got.Scopes, []string{"docs:read", "docs:list"}) {
			t.Fatalf("role after its change: %v", got.Scopes)
		}
	})
	t.Run("group", func(t *testing.T) {
		start := warm()
		g, _ := st.Groups().Get(ctx, "acme", "staff")
		g.Roles = nil
		must(st.Groups().Update(ctx, g))
		if got, _ := d.Group(ctx, "acme", "staff"); cached(start) && len(got.Roles) != 1 {
			t.Fatalf("group read again before its change was seen: %v", got.Roles)
		}
		follow()
		if got, _ := d.Group(ctx, "acme", "staff"); len(got.Roles) != 0 {
			t.Fatalf("group after its change: %v", got.Roles)
		}
	})
	t.Run("user disabled", func(t *testing.T) {
		start := warm()
		v, _ := st.Users().Get(ctx, "acme", "u1")
		v.Disabled, v.Roles = true, []string{}
		must(st.Users().Update(ctx, v))
		if got, _ := d.UserByLogin(ctx, "acme", "ann@acme.test"); cached(start) && got.Disabled {
			t.Fatal("user read again before its change was seen")
		}
		follow()
		byLogin, err := d.UserByLogin(ctx, "acme", "ann@acme.test")
		must(err)
		byID, err := d.User(ctx, "acme", "u1")
		must(err)
		if !byLogin.Disabled || !byID.Disabled || len(byLogin.Roles) != 0 {
			t.Fatalf("user after being disabled: by login %+v, by id %+v", byLogin, byID)
		}
	})
	t.Run("login renamed", func(t *testing.T) {
		warm()
		v, _ := st.Users().Get(ctx, "acme", "u1")
		v.Login = "ann.b@acme.test"
		must(st.Users().Update(ctx, v))
		follow()
		if _, err := d.UserByLogin(ctx, "acme", "ann@acme.test"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old login after the rename: %v", err)
		}
		if got, err := d.UserByLogin(ctx, "acme", "ann.b@acme.test"); err != nil || got.ID != "u1" {
			t.Fatalf("new login: %+v %v", got, err)
		}
		v.Login = "ann@acme.test"
		must(st.Users().Update(ctx, v))
		follow()
	})
	t.Run("user deleted", func(t *testing.T) {
		warm()
		must(st.Users().Delete(ctx, "acme", "u1"))
		follow()
		if _, err := d.UserByLogin(ctx, "acme", "ann@acme.test"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted user by login: %v", err)
		}
		if _, err := d.User(ctx, "acme", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted user by id: %v", err)
		}
		must(st.Users().Create(ctx, u))
		follow()
	})
	t.Run("project deleted", func(t *testing.T) {
		start := warm()
		must(st.Projects().Delete(ctx, "acme", "api"))
		if _, err := d.Project(ctx, "acme", "api"); cached(start) && err != nil {
			t.Fatalf("project read again before its deletion was seen: %v", err)
		}
		follow()
		if _, err := d.Project(ctx, "acme", "api"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted project: %v", err)
		}
		must(st.Projects().Create(ctx, store.Project{Tenant: "acme", ID: "api", Audience: "acme-api", CreatedAt: now, UpdatedAt: now}))
		follow()
	})
	t.Run("tenant changed", func(t *testing.T) {
		warm()
		r, _ := st.Roles().Get(ctx, "acme", "reader")
		r.Scopes = []string{"docs:none"}
		// The role's own entry is not handed over: the tenant's drops all.
		must(st.Roles().Update(ctx, r))
		l, err := st.Changes().After(ctx, cursor, 1000)
		must(err)
		cursor = l[len(l)-1].Seq
		d.Invalidate(store.Change{Tenant: "acme", Entity: store.EntityTenant, Key: "acme"})
		if got, _ := d.Role(ctx, "acme", "reader"); !slices.Equal(got.Scopes, []string{"docs:none"}) {
			t.Fatalf("role after a tenant change: %v", got.Scopes)
		}
	})
	t.Run("read overtaken by a change", func(t *testing.T) {
		// A read that started before a change and ended after the
		// change's invalidation returns what it read, but does not cache
		// it: the next read sees the change.
		r, _ := st.Roles().Get(ctx, "acme", "reader")
		var od *authn.Directory
		done := false
		od = authn.NewDirectory(afterRead{Store: st, hook: func() {
			if done {
				return
			}
			done = true
			r.Scopes = []string{"docs:after"}
			must(st.Roles().Update(ctx, r))
			od.Invalidate(store.Change{Tenant: "acme", Entity: store.EntityRole, Key: "reader"})
		}}, time.Second)
		if got, _ := od.Role(ctx, "acme", "reader"); slices.Equal(got.Scopes, []string{"docs:after"}) {
			t.Fatalf("the first read happened after the change: %v", got.Scopes)
		}
		if got, _ := od.Role(ctx, "acme", "reader"); !slices.Equal(got.Scopes, []string{"docs:after"}) {
			t.Fatalf("a read overtaken by an invalidation was cached: %v", got.Scopes)
		}
	})
}

// afterRead is a real store whose role reads call hook once they have
// read, before they return.
type afterRead struct {
	store.Store
	hook func()
}

func (a afterRead) Roles() store.Roles { return afterReadRoles{a.Store.Roles(), a.hook} }

type afterReadRoles struct {
	store.Roles
	hook func()
}

func (r afterReadRoles) Get(ctx context.Context, tenant, name string) (store.Role, error) {
	v, err := r.Roles.Get(ctx, tenant, name)
	r.hook()
	return v, err
}
