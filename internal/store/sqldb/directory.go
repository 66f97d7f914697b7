package sqldb

import (
	"context"

	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/store"
)

var tenantTable = &table[store.Tenant]{
	name: "tenants", entity: store.EntityTenant,
	key:  []string{"id"},
	cols: []string{"id", "display_name", "policy", "created_at", "updated_at"},
	values: func(t *store.Tenant) []any {
		return []any{t.ID, t.DisplayName, jsonText(t.Policy), micros(t.CreatedAt), micros(t.UpdatedAt)}
	},
	dests: func(t *store.Tenant) []any {
		return []any{&t.ID, &t.DisplayName, jsonCol[store.Policy]{&t.Policy}, timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}}
	},
	keyOf: func(t *store.Tenant) (string, string) { return t.ID, t.ID },
}

type tenants struct{ db *DB }

func (s tenants) Create(ctx context.Context, t store.Tenant) error {
	return tenantTable.create(ctx, s.db, &t)
}

func (s tenants) Get(ctx context.Context, id string) (store.Tenant, error) {
	return tenantTable.get(ctx, s.db, id)
}

func (s tenants) List(ctx context.Context, p store.Page) ([]store.Tenant, error) {
	return tenantTable.list(ctx, s.db, "", p)
}

func (s tenants) Update(ctx context.Context, t store.Tenant) error {
	return tenantTable.update(ctx, s.db, &t)
}

func (s tenants) Delete(ctx context.Context, id string) error {
	return tenantTable.delete(ctx, s.db, id, id)
}

func (s tenants) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.reader().QueryRowContext(ctx, "SELECT count(*) FROM tenants").Scan(&n)
	return n, s.db.wrap(err)
}

var projectTable = &table[store.Project]{
	name: "projects", entity: store.EntityProject,
	key:  []string{"tenant", "id"},
	cols: []string{"tenant", "id", "display_name", "audience", "created_at", "updated_at"},
	values: func(p *store.Project) []any {
		return []any{p.Tenant, p.ID, p.DisplayName, p.Audience, micros(p.CreatedAt), micros(p.UpdatedAt)}
	},
	dests: func(p *store.Project) []any {
		return []any{&p.Tenant, &p.ID, &p.DisplayName, &p.Audience, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt}}
	},
	keyOf: func(p *store.Project) (string, string) { return p.Tenant, p.ID },
}

type projects struct{ db *DB }

func (s projects) Create(ctx context.Context, p store.Project) error {
	return projectTable.create(ctx, s.db, &p)
}

func (s projects) Get(ctx context.Context, tenant, id string) (store.Project, error) {
	return projectTable.get(ctx, s.db, tenant, id)
}

func (s projects) GetByAudience(ctx context.Context, tenant, audience string) (store.Project, error) {
	return projectTable.getWhere(ctx, s.db, " WHERE tenant = $1 AND audience = $2", tenant, audience)
}

func (s projects) List(ctx context.Context, tenant string, p store.Page) ([]store.Project, error) {
	return projectTable.list(ctx, s.db, tenant, p)
}

func (s projects) Update(ctx context.Context, p store.Project) error {
	return projectTable.update(ctx, s.db, &p)
}

func (s projects) Delete(ctx context.Context, tenant, id string) error {
	return projectTable.delete(ctx, s.db, tenant, id)
}

var clientTable = &table[store.Client]{
	name: "clients", entity: store.EntityClient,
	key: []string{"tenant", "id"},
	cols: []string{"tenant", "id", "display_name", "secret_hash", "secret_alg", "grant_types", "scopes",
		"audiences", "kinds", "policy", "disabled", "created_at", "updated_at", "signing_secret", "jwks", "legacy_secret", "secret_ref"},
	values: func(c *store.Client) []any {
		return []any{c.Tenant, c.ID, c.DisplayName, c.SecretHash, c.SecretAlg, listText(c.GrantTypes), listText(c.Scopes),
			listText(c.Audiences), listText(c.Kinds), jsonText(c.Policy), c.Disabled, micros(c.CreatedAt), micros(c.UpdatedAt), c.SigningSecret, c.JWKS, c.LegacySecret, refText(c.SecretRef)}
	},
	dests: func(c *store.Client) []any {
		return []any{&c.Tenant, &c.ID, &c.DisplayName, &c.SecretHash, &c.SecretAlg, list(&c.GrantTypes), list(&c.Scopes),
			list(&c.Audiences), list(&c.Kinds), jsonCol[store.Policy]{&c.Policy}, &c.Disabled, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, &c.SigningSecret, &c.JWKS, &c.LegacySecret, refCol{&c.SecretRef}}
	},
	keyOf: func(c *store.Client) (string, string) { return c.Tenant, c.ID },
}

type clients struct{ db *DB }

// refText stores a secret reference as JSON, none as "".
func refText(r secrets.Ref) string {
	if r.IsZero() {
		return ""
	}
	return jsonText(r)
}

// refCol reads what refText stored.
type refCol struct{ p *secrets.Ref }

func (c refCol) Scan(src any) error {
	*c.p = secrets.Ref{}
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
	case []byte:
		if len(v) == 0 {
			return nil
		}
	}
	return jsonCol[secrets.Ref]{c.p}.Scan(src)
}

func (s clients) Create(ctx context.Context, c store.Client) error {
	return clientTable.create(ctx, s.db, &c)
}

func (s clients) Get(ctx context.Context, tenant, id string) (store.Client, error) {
	return clientTable.get(ctx, s.db, tenant, id)
}

func (s clients) List(ctx context.Context, tenant string, p store.Page) ([]store.Client, error) {
	return clientTable.list(ctx, s.db, tenant, p)
}

func (s clients) Update(ctx context.Context, c store.Client) error {
	return clientTable.update(ctx, s.db, &c)
}

func (s clients) Delete(ctx context.Context, tenant, id string) error {
	return clientTable.delete(ctx, s.db, tenant, id)
}

var userTable = &table[store.User]{
	name: "users", entity: store.EntityUser,
	key:  []string{"tenant", "id"},
	cols: []string{"tenant", "id", "login", "display_name", "password_hash", "roles", "groups_", "disabled", "created_at", "updated_at", "signing_secret", "legacy_secret"},
	values: func(u *store.User) []any {
		return []any{u.Tenant, u.ID, u.Login, u.DisplayName, u.PasswordHash, listText(u.Roles), listText(u.Groups),
			u.Disabled, micros(u.CreatedAt), micros(u.UpdatedAt), u.SigningSecret, u.LegacySecret}
	},
	dests: func(u *store.User) []any {
		return []any{&u.Tenant, &u.ID, &u.Login, &u.DisplayName, &u.PasswordHash, list(&u.Roles), list(&u.Groups),
			&u.Disabled, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}, &u.SigningSecret, &u.LegacySecret}
	},
	keyOf: func(u *store.User) (string, string) { return u.Tenant, u.ID },
}

type users struct{ db *DB }

func (s users) Create(ctx context.Context, u store.User) error {
	return userTable.create(ctx, s.db, &u)
}

func (s users) Get(ctx context.Context, tenant, id string) (store.User, error) {
	return userTable.get(ctx, s.db, tenant, id)
}

func (s users) GetByLogin(ctx context.Context, tenant, login string) (store.User, error) {
	return userTable.getWhere(ctx, s.db, " WHERE tenant = $1 AND login = $2", tenant, login)
}

func (s users) List(ctx context.Context, tenant string, p store.Page) ([]store.User, error) {
	return userTable.list(ctx, s.db, tenant, p)
}

func (s users) Update(ctx context.Context, u store.User) error {
	return userTable.update(ctx, s.db, &u)
}

func (s users) Delete(ctx context.Context, tenant, id string) error {
	return userTable.delete(ctx, s.db, tenant, id)
}

var deviceTable = &table[store.Device]{
	name: "devices", entity: store.EntityDevice,
	key:  []string{"tenant", "id"},
	cols: []string{"tenant", "id", "display_name", "type", "secret_hash", "secret_alg", "roles", "metadata", "disabled", "created_at", "updated_at", "signing_secret", "jti", "legacy_secret"},
	values: func(d *store.Device) []any {
		md := d.Metadata
		if md == nil {
			md = map[string]string{}
		}
		return []any{d.Tenant, d.ID, d.DisplayName, d.Type, d.SecretHash, d.SecretAlg, listText(d.Roles), jsonText(md),
			d.Disabled, micros(d.CreatedAt), micros(d.UpdatedAt), d.SigningSecret, d.JTI, d.LegacySecret}
	},
	dests: func(d *store.Device) []any {
		return []any{&d.Tenant, &d.ID, &d.DisplayName, &d.Type, &d.SecretHash, &d.SecretAlg, list(&d.Roles),
			jsonCol[map[string]string]{&d.Metadata}, &d.Disabled, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt}, &d.SigningSecret, &d.JTI, &d.LegacySecret}
	},
	keyOf: func(d *store.Device) (string, string) { return d.Tenant, d.ID },
}

type devices struct{ db *DB }

func (s devices) Create(ctx context.Context, d store.Device) error {
	return deviceTable.create(ctx, s.db, &d)
}

func (s devices) Get(ctx context.Context, tenant, id string) (store.Device, error) {
	return deviceTable.get(ctx, s.db, tenant, id)
}

func (s devices) List(ctx context.Context, tenant string, p store.Page) ([]store.Device, error) {
	return deviceTable.list(ctx, s.db, tenant, p)
}

func (s devices) Update(ctx context.Context, d store.Device) error {
	return deviceTable.update(ctx, s.db, &d)
}

func (s devices) Delete(ctx context.Context, tenant, id string) error {
	return deviceTable.delete(ctx, s.db, tenant, id)
}

var roleTable = &table[store.Role]{
	name: "roles", entity: store.EntityRole,
	key:  []string{"tenant", "name"},
	cols: []string{"tenant", "name", "description", "scopes", "resources", "created_at", "updated_at"},
	values: func(r *store.Role) []any {
		return []any{r.Tenant, r.Name, r.Description, listText(r.Scopes), listText(r.Resources), micros(r.CreatedAt), micros(r.UpdatedAt)}
	},
	dests: func(r *store.Role) []any {
		return []any{&r.Tenant, &r.Name, &r.Description, list(&r.Scopes), list(&r.Resources), timeCol{&r.CreatedAt}, timeCol{&r.UpdatedAt}}
	},
	keyOf: func(r *store.Role) (string, string) { return r.Tenant, r.Name },
}

type roles struct{ db *DB }

func (s roles) Create(ctx context.Context, r store.Role) error {
	return roleTable.create(ctx, s.db, &r)
}

func (s roles) Get(ctx context.Context, tenant, name string) (store.Role, error) {
	return roleTable.get(ctx, s.db, tenant, name)
}

func (s roles) List(ctx context.Context, tenant string, p store.Page) ([]store.Role, error) {
	return roleTable.list(ctx, s.db, tenant, p)
}

func (s roles) Update(ctx context.Context, r store.Role) error {
	return roleTable.update(ctx, s.db, &r)
}

func (s roles) Delete(ctx context.Context, tenant, name string) error {
	return roleTable.delete(ctx, s.db, tenant, name)
}

var groupTable = &table[store.Group]{
	name: "user_groups", entity: store.EntityGroup,
	key:  []string{"tenant", "name"},
	cols: []string{"tenant", "name", "description", "roles", "created_at", "updated_at"},
	values: func(g *store.Group) []any {
		return []any{g.Tenant, g.Name, g.Description, listText(g.Roles), micros(g.CreatedAt), micros(g.UpdatedAt)}
	},
	dests: func(g *store.Group) []any {
		return []any{&g.Tenant, &g.Name, &g.Description, list(&g.Roles), timeCol{&g.CreatedAt}, timeCol{&g.UpdatedAt}}
	},
	keyOf: func(g *store.Group) (string, string) { return g.Tenant, g.Name },
}

type groups struct{ db *DB }

func (s groups) Create(ctx context.Context, g store.Group) error {
	return groupTable.create(ctx, s.db, &g)
}

func (s groups) Get(ctx context.Context, tenant, name string) (store.Group, error) {
	return groupTable.get(ctx, s.db, tenant, name)
}

func (s groups) List(ctx context.Context, tenant string, p store.Page) ([]store.Group, error) {
	return groupTable.list(ctx, s.db, tenant, p)
}

func (s groups) Update(ctx context.Context, g store.Group) error {
	return groupTable.update(ctx, s.db, &g)
}

func (s groups) Delete(ctx context.Context, tenant, name string) error {
	return groupTable.delete(ctx, s.db, tenant, name)
}
