package sqldb

import (
	"context"
	"encoding/json"

	"github.com/tokend/tokend/internal/store"
)

var surfaceTable = &table[store.Surface]{
	name: "tenant_surfaces", entity: store.EntitySurface,
	key:  []string{"tenant", "name"},
	cols: []string{"tenant", "name", "lookup_key", "settings", "created_at", "updated_at"},
	values: func(s *store.Surface) []any {
		return []any{s.Tenant, s.Name, s.Key, settingsText(s.Settings), micros(s.CreatedAt), micros(s.UpdatedAt)}
	},
	dests: func(s *store.Surface) []any {
		return []any{&s.Tenant, &s.Name, &s.Key, rawCol{&s.Settings}, timeCol{&s.CreatedAt}, timeCol{&s.UpdatedAt}}
	},
	keyOf: func(s *store.Surface) (string, string) { return s.Tenant, s.Name },
}

type surfaces struct{ db *DB }

// Put inserts the record or replaces every column of it but created_at.
func (s surfaces) Put(ctx context.Context, v store.Surface) error {
	const q = "INSERT INTO tenant_surfaces (tenant, name, lookup_key, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)" +
		" ON CONFLICT (tenant, name) DO UPDATE SET lookup_key = excluded.lookup_key, settings = excluded.settings, updated_at = excluded.updated_at"
	return s.db.write(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, q, surfaceTable.values(&v)...); err != nil {
			return s.db.wrap(err)
		}
		return s.db.changed(ctx, tx, v.Tenant, store.EntitySurface, v.Name)
	})
}

func (s surfaces) Get(ctx context.Context, tenant, name string) (store.Surface, error) {
	return surfaceTable.get(ctx, s.db, tenant, name)
}

func (s surfaces) GetByKey(ctx context.Context, name, key string) (store.Surface, error) {
	if key == "" {
		return store.Surface{}, store.ErrNotFound
	}
	return surfaceTable.getWhere(ctx, s.db, " WHERE name = $1 AND lookup_key = $2", name, key)
}

func (s surfaces) List(ctx context.Context, tenant string) ([]store.Surface, error) {
	return surfaceTable.list(ctx, s.db, tenant, store.Page{Limit: 1000})
}

func (s surfaces) Delete(ctx context.Context, tenant, name string) error {
	return surfaceTable.delete(ctx, s.db, tenant, name)
}

// settingsText stores empty settings as an empty JSON object.
func settingsText(m json.RawMessage) string {
	if len(m) == 0 {
		return "{}"
	}
	return string(m)
}

// rawCol scans a JSON text column as raw JSON.
type rawCol struct{ p *json.RawMessage }

func (c rawCol) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*c.p = json.RawMessage(v)
	case []byte:
		*c.p = append(json.RawMessage(nil), v...)
	}
	return nil
}
