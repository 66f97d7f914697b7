package sqldb

import (
	"context"
	"strconv"
	"strings"

	"github.com/tokend/tokend/internal/store"
)

// table describes how one record type maps to its table, so the CRUD SQL
// is written once for every directory entity.
type table[T any] struct {
	name   string
	entity string   // change-log entity
	key    []string // key columns: ["tenant", "id"], or ["id"] for tenants
	cols   []string // every column, key columns first
	values func(*T) []any
	dests  func(*T) []any
	keyOf  func(*T) (tenant, key string)
}

func (t *table[T]) selectSQL() string {
	return "SELECT " + strings.Join(t.cols, ", ") + " FROM " + t.name
}

func (t *table[T]) keyWhere() string {
	parts := make([]string, len(t.key))
	for i, k := range t.key {
		parts[i] = k + " = $" + strconv.Itoa(i+1)
	}
	return " WHERE " + strings.Join(parts, " AND ")
}

func (t *table[T]) create(ctx context.Context, db *DB, v *T) error {
	ph := make([]string, len(t.cols))
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	q := "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") + ")"
	return db.write(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, q, t.values(v)...); err != nil {
			return db.wrap(err)
		}
		ten, key := t.keyOf(v)
		return db.changed(ctx, tx, ten, t.entity, key)
	})
}

// get returns the row matching the key values.
func (t *table[T]) get(ctx context.Context, db *DB, key ...any) (T, error) {
	return t.getWhere(ctx, db, t.keyWhere(), key...)
}

func (t *table[T]) getWhere(ctx context.Context, db *DB, where string, args ...any) (T, error) {
	var v T
	err := db.reader().QueryRowContext(ctx, t.selectSQL()+where, args...).Scan(t.dests(&v)...)
	return v, db.wrap(err)
}

// list returns one page ordered by the last key column, of one tenant
// unless tenant is "" on a table keyed by id alone.
func (t *table[T]) list(ctx context.Context, db *DB, tenant string, p store.Page, extra ...func(*conds)) ([]T, error) {
	var c conds
	if len(t.key) > 1 {
		c.add("tenant = ?", tenant)
	}
	order := t.key[len(t.key)-1]
	if p.After != "" {
		c.add(order+" > ?", p.After)
	}
	for _, f := range extra {
		f(&c)
	}
	q := t.selectSQL() + c.where() + " ORDER BY " + order + " LIMIT " + c.next(limit(p.Limit))
	rows, err := db.reader().QueryContext(ctx, q, c.args...)
	if err != nil {
		return nil, db.wrap(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var v T
		if err := rows.Scan(t.dests(&v)...); err != nil {
			return nil, db.wrap(err)
		}
		out = append(out, v)
	}
	return out, db.wrap(rows.Err())
}

// update replaces every column but the key and created_at.
func (t *table[T]) update(ctx context.Context, db *DB, v *T) error {
	vals := t.values(v)
	var sets []string
	args := make([]any, 0, len(t.cols))
	for i, col := range t.cols {
		if i < len(t.key) || col == "created_at" {
			continue
		}
		args = append(args, vals[i])
		sets = append(sets, col+" = $"+strconv.Itoa(len(args)))
	}
	var keys []string
	for i, col := range t.key {
		args = append(args, vals[i])
		keys = append(keys, col+" = $"+strconv.Itoa(len(args)))
	}
	q := "UPDATE " + t.name + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(keys, " AND ")
	return db.write(ctx, func(tx querier) error {
		if err := db.affected(tx.ExecContext(ctx, q, args...)); err != nil {
			return err
		}
		ten, key := t.keyOf(v)
		return db.changed(ctx, tx, ten, t.entity, key)
	})
}

func (t *table[T]) delete(ctx context.Context, db *DB, tenant, key string) error {
	args := []any{tenant, key}
	if len(t.key) == 1 {
		args = args[1:]
	}
	return db.write(ctx, func(tx querier) error {
		if err := db.affected(tx.ExecContext(ctx, "DELETE FROM "+t.name+t.keyWhere(), args...)); err != nil {
			return err
		}
		return db.changed(ctx, tx, tenant, t.entity, key)
	})
}
