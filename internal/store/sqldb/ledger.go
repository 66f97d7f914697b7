package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokend/tokend/internal/store"
)

var keyTable = &table[store.Key]{
	name: "signing_keys", entity: store.EntityKey,
	key:  []string{"tenant", "id"},
	cols: []string{"tenant", "id", "alg", "state", "private", "public", "created_at", "retired_at", "publish_until", "activate_at"},
	values: func(k *store.Key) []any {
		return []any{k.Tenant, k.ID, k.Alg, k.State, k.Private, k.Public, micros(k.CreatedAt), nullMicros(k.RetiredAt), nullMicros(k.PublishUntil), nullMicros(k.ActivateAt)}
	},
	dests: func(k *store.Key) []any {
		return []any{&k.Tenant, &k.ID, &k.Alg, &k.State, &k.Private, &k.Public, timeCol{&k.CreatedAt}, nullTimeCol{&k.RetiredAt}, nullTimeCol{&k.PublishUntil}, nullTimeCol{&k.ActivateAt}}
	},
	keyOf: func(k *store.Key) (string, string) { return k.Tenant, k.ID },
}

type keys struct{ db *DB }

func (s keys) Create(ctx context.Context, k store.Key) error {
	return keyTable.create(ctx, s.db, &k)
}

func (s keys) List(ctx context.Context, tenant string) ([]store.Key, error) {
	return s.query(ctx, keyTable.selectSQL()+" WHERE tenant = $1 ORDER BY created_at DESC, id DESC", tenant)
}

func (s keys) Due(ctx context.Context, now time.Time, limit int) ([]store.Key, error) {
	return s.query(ctx, keyTable.selectSQL()+" WHERE state = $1 AND activate_at <= $2 ORDER BY activate_at, tenant LIMIT $3",
		store.KeyNext, micros(now), limit)
}

func (s keys) query(ctx context.Context, q string, args ...any) ([]store.Key, error) {
	rows, err := s.db.reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.db.wrap(err)
	}
	defer rows.Close()
	out := []store.Key{}
	for rows.Next() {
		var k store.Key
		if err := rows.Scan(keyTable.dests(&k)...); err != nil {
			return nil, s.db.wrap(err)
		}
		out = append(out, k)
	}
	return out, s.db.wrap(rows.Err())
}

func (s keys) Update(ctx context.Context, k store.Key) error {
	return s.db.write(ctx, func(tx querier) error {
		err := s.db.affected(tx.ExecContext(ctx, `UPDATE signing_keys SET state = $3, retired_at = $4, publish_until = $5, activate_at = $6 WHERE tenant = $1 AND id = $2`,
			k.Tenant, k.ID, k.State, nullMicros(k.RetiredAt), nullMicros(k.PublishUntil), nullMicros(k.ActivateAt)))
		if err != nil {
			return err
		}
		return s.db.changed(ctx, tx, k.Tenant, store.EntityKey, k.ID)
	})
}

func (s keys) DeleteExpired(ctx context.Context, tenant string, now time.Time) (int, error) {
	var n int64
	err := s.db.write(ctx, func(tx querier) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE tenant = $1 AND state = $2 AND publish_until < $3`,
			tenant, store.KeyRetired, micros(now))
		if err != nil {
			return s.db.wrap(err)
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return s.db.wrap(err)
		}
		return s.db.changed(ctx, tx, tenant, store.EntityKey, "")
	})
	return int(n), err
}

const tokenCols = `tenant, id, kind, format, hash, subject_type, subject, client_id, session_id, family_id, actor,
	audience, scope, issued_at, expires_at, lifetime_end, revoked_at, used_at, replaced_by, grace_used, origins, channels, server_side,
	grant_type, idp, external_subject`

func tokenDests(t *store.Token) []any {
	return []any{&t.Tenant, &t.ID, &t.Kind, &t.Format, &t.Hash, &t.SubjectType, &t.Subject, &t.ClientID, &t.SessionID,
		&t.FamilyID, &t.Actor, list(&t.Audience), list(&t.Scope), timeCol{&t.IssuedAt}, nullTimeCol{&t.ExpiresAt},
		nullTimeCol{&t.LifetimeEnd}, nullTimeCol{&t.RevokedAt}, nullTimeCol{&t.UsedAt}, &t.ReplacedBy, &t.GraceUsed, list(&t.Origins), list(&t.Channels), &t.ServerSide,
		&t.Grant, &t.IDP, &t.ExternalSubject}
}

type tokens struct{ db *DB }

// tokenWidth is the number of tokenCols.
const tokenWidth = 26

// tokenTypes are the column types of tokenCols, for arrayInsert.
var tokenTypes = []string{colText, colText, colText, colText, colBytea, colText, colText, colText, colText, colText, colText,
	colText, colText, colInt8, colInt8, colInt8, colInt8, colInt8, colText, colBool, colText, colText, colBool,
	colText, colText, colText}

// tokenValues are the values of tokenCols for t.
func tokenValues(t *store.Token) []any {
	var hash any
	if len(t.Hash) > 0 {
		hash = t.Hash
	}
	return []any{t.Tenant, t.ID, t.Kind, t.Format, hash, t.SubjectType, t.Subject, t.ClientID, t.SessionID, t.FamilyID, t.Actor,
		listText(t.Audience), listText(t.Scope), micros(t.IssuedAt), nullMicros(t.ExpiresAt), nullMicros(t.LifetimeEnd),
		nullMicros(t.RevokedAt), nullMicros(t.UsedAt), t.ReplacedBy, t.GraceUsed, listText(t.Origins), listText(t.Channels), t.ServerSide,
		t.Grant, t.IDP, t.ExternalSubject}
}

func (s tokens) Insert(ctx context.Context, ts ...store.Token) error {
	if len(ts) == 0 {
		return nil
	}
	return s.db.write(ctx, func(tx querier) error {
		if s.db.d.MultiRowInsert || s.db.d.ArrayInsert {
			args := make([]any, 0, len(ts)*tokenWidth)
			for i := range ts {
				args = append(args, tokenValues(&ts[i])...)
			}
			if s.db.d.ArrayInsert {
				return s.db.wrap(arrayInsert(ctx, tx, "INSERT INTO tokens ("+tokenCols+") ", tokenTypes, args))
			}
			return s.db.wrap(insertRows(ctx, tx, "INSERT INTO tokens ("+tokenCols+") VALUES ", tokenWidth, args))
		}
		for _, t := range ts {
			var err error
			if plainToken(&t) && (t.Grant != "" || t.IDP != "" || t.ExternalSubject != "") {
				// An exchanged access token: the short insert and the
				// three columns that say where it came from.
				_, err = tx.ExecContext(ctx, `INSERT INTO tokens (tenant, id, kind, format, subject_type, subject, client_id,
					audience, scope, issued_at, expires_at, grant_type, idp, external_subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
					t.Tenant, t.ID, t.Kind, t.Format, t.SubjectType, t.Subject, t.ClientID,
					listText(t.Audience), listText(t.Scope), micros(t.IssuedAt), nullMicros(t.ExpiresAt), t.Grant, t.IDP, t.ExternalSubject)
			} else if plainToken(&t) && t.Grant == "" && t.IDP == "" && t.ExternalSubject == "" {
				// Most rows (access tokens) leave the columns below at
				// their defaults: binding 11 values instead of 26 makes
				// the hot-path insert markedly cheaper.
				_, err = tx.ExecContext(ctx, `INSERT INTO tokens (tenant, id, kind, format, subject_type, subject, client_id,
					audience, scope, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
					t.Tenant, t.ID, t.Kind, t.Format, t.SubjectType, t.Subject, t.ClientID,
					listText(t.Audience), listText(t.Scope), micros(t.IssuedAt), nullMicros(t.ExpiresAt))
			} else {
				err = insertRows(ctx, tx, "INSERT INTO tokens ("+tokenCols+") VALUES ", tokenWidth, tokenValues(&t))
			}
			if err != nil {
				return s.db.wrap(err)
			}
		}
		return nil
	})
}

// plainToken reports whether every column outside the short insert (and
// grant_type, idp, external_subject) has its default value in t.
func plainToken(t *store.Token) bool {
	return len(t.Hash) == 0 && t.SessionID == "" && t.FamilyID == "" && t.Actor == "" && t.LifetimeEnd == nil &&
		t.RevokedAt == nil && t.UsedAt == nil && t.ReplacedBy == "" && !t.GraceUsed && len(t.Origins) == 0 &&
		len(t.Channels) == 0 && !t.ServerSide
}

func (s tokens) one(ctx context.Context, where string, args ...any) (store.Token, error) {
	var t store.Token
	err := s.db.reader().QueryRowContext(ctx, "SELECT "+tokenCols+" FROM tokens "+where, args...).Scan(tokenDests(&t)...)
	return t, s.db.wrap(err)
}

func (s tokens) Get(ctx context.Context, tenant, id string) (store.Token, error) {
	return s.one(ctx, "WHERE tenant = $1 AND id = $2", tenant, id)
}

func (s tokens) Lock(ctx context.Context, tenant, id string) (store.Token, error) {
	return s.one(ctx, "WHERE tenant = $1 AND id = $2"+s.db.d.ForUpdate, tenant, id)
}

func (s tokens) MarkUsed(ctx context.Context, t store.Token) error {
	return s.db.write(ctx, func(tx querier) error {
		return s.db.affected(tx.ExecContext(ctx, `UPDATE tokens SET used_at = $3, replaced_by = $4, grace_used = $5
			WHERE tenant = $1 AND id = $2`, t.Tenant, t.ID, nullMicros(t.UsedAt), t.ReplacedBy, t.GraceUsed))
	})
}

// cutoffColumn maps a cutoff scope to the ledger column it matches.
var cutoffColumn = map[string]string{
	store.RevokeSubject: "subject",
	store.RevokeSession: "session_id",
	store.RevokeClient:  "client_id",
	store.RevokeFamily:  "family_id",
}

func (s tokens) RevokeBefore(ctx context.Context, r store.Revocation, at time.Time) (int, error) {
	var c conds
	c.add("tenant = ?", r.Tenant)
	if r.Scope != store.RevokeTenant {
		col, ok := cutoffColumn[r.Scope]
		if !ok {
			return 0, fmt.Errorf("store: %q is not a cutoff scope", r.Scope)
		}
		c.add(col+" = ?", r.Key)
	}
	if r.Scope == store.RevokeSubject && r.SubjectType != "" {
		c.add("subject_type = ?", r.SubjectType)
	}
	c.add("issued_at < ?", micros(r.Cutoff))
	c.add("(revoked_at IS NULL OR revoked_at > ?)", micros(at))
	q := "UPDATE tokens SET revoked_at = " + c.next(micros(at)) + c.where()
	var n int64
	err := s.db.write(ctx, func(tx querier) error {
		res, err := tx.ExecContext(ctx, q, c.args...)
		if err != nil {
			return s.db.wrap(err)
		}
		n, err = res.RowsAffected()
		return s.db.wrap(err)
	})
	return int(n), err
}

func (s tokens) GetByHash(ctx context.Context, hash []byte) (store.Token, error) {
	if len(hash) == 0 {
		return store.Token{}, store.ErrNotFound
	}
	return s.one(ctx, "WHERE hash = $1", hash)
}

func (s tokens) List(ctx context.Context, tenant string, f store.TokenFilter) ([]store.Token, error) {
	var c conds
	c.add("tenant = ?", tenant)
	if f.Subject != "" {
		c.add("subject = ?", f.Subject)
	}
	if f.SubjectType != "" {
		c.add("subject_type = ?", f.SubjectType)
	}
	if f.ClientID != "" {
		c.add("client_id = ?", f.ClientID)
	}
	if f.Kind != "" {
		c.add("kind = ?", f.Kind)
	}
	if f.ActiveAt != nil {
		c.add("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", micros(*f.ActiveAt))
	}
	if f.Page.After != "" {
		c.add("id > ?", f.Page.After)
	}
	q := "SELECT " + tokenCols + " FROM tokens" + c.where() + " ORDER BY id LIMIT " + c.next(limit(f.Page.Limit))
	rows, err := s.db.reader().QueryContext(ctx, q, c.args...)
	if err != nil {
		return nil, s.db.wrap(err)
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		var t store.Token
		if err := rows.Scan(tokenDests(&t)...); err != nil {
			return nil, s.db.wrap(err)
		}
		out = append(out, t)
	}
	return out, s.db.wrap(rows.Err())
}

func (s tokens) Revoke(ctx context.Context, tenant, id string, at time.Time) error {
	return s.db.write(ctx, func(tx querier) error {
		err := s.db.affected(tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = $3 WHERE tenant = $1 AND id = $2
			AND (revoked_at IS NULL OR revoked_at > $3)`, tenant, id, micros(at)))
		if errors.Is(err, store.ErrNotFound) {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM tokens WHERE tenant = $1 AND id = $2`, tenant, id).Scan(&one); err != nil {
				return s.db.wrap(err)
			}
			return nil // already revoked
		}
		if err != nil {
			return err
		}
		return s.db.changed(ctx, tx, tenant, store.EntityToken, id)
	})
}

func (s tokens) LockSubject(ctx context.Context, tenant, subjectType, subject string, now time.Time) (int, error) {
	if s.db.tx != nil {
		// Taking the row (inserting it, or updating it when it exists)
		// makes a concurrent LockSubject of the subject wait until this
		// transaction ends; its count then sees what this one wrote.
		_, err := s.db.txQuerier().ExecContext(ctx, `INSERT INTO subject_locks (tenant, subject_type, subject, locked_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, subject_type, subject) DO UPDATE SET locked_at = excluded.locked_at`,
			tenant, subjectType, subject, micros(now))
		if err != nil {
			return 0, s.db.wrap(err)
		}
	}
	var n int
	err := s.db.reader().QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE tenant = $1 AND subject = $2 AND subject_type = $3
		AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $4)`, tenant, subject, subjectType, micros(now)).Scan(&n)
	return n, s.db.wrap(err)
}

func (s tokens) DeleteExpired(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return s.db.deleteBatch(ctx, limit, `DELETE FROM tokens WHERE (tenant, id) IN
		(SELECT tenant, id FROM tokens WHERE expires_at < $1 AND (lifetime_end IS NULL OR lifetime_end < $1) LIMIT $2)`, micros(cutoff))
}
