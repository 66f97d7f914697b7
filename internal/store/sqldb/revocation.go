package sqldb

import (
	"context"
	"time"

	"github.com/tokend/tokend/internal/store"
)

type revocations struct{ db *DB }

// Append numbers the entry under the same ordering lock as the change log,
// so revocation Seq values also become visible in commit order.
func (s revocations) Append(ctx context.Context, r store.Revocation) (store.Revocation, error) {
	r.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	err := s.db.write(ctx, func(tx querier) error {
		if s.db.d.OrderChanges != "" {
			if _, err := tx.ExecContext(ctx, s.db.d.OrderChanges); err != nil {
				return s.db.wrap(err)
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO revocations (tenant, scope, subject_type, key, cutoff, until, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`,
			r.Tenant, r.Scope, r.SubjectType, r.Key, micros(r.Cutoff), nullMicros(r.Until), micros(r.CreatedAt)).Scan(&r.Seq)
		if err != nil {
			return s.db.wrap(err)
		}
		return s.db.changed(ctx, tx, r.Tenant, store.EntityRevocation, r.Scope+":"+r.Key)
	})
	return r, err
}

func (s revocations) After(ctx context.Context, tenant string, after int64, limit int) ([]store.Revocation, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	var c conds
	c.add("seq > ?", after)
	if tenant != "" {
		c.add("tenant = ?", tenant)
	}
	rows, err := s.db.reader().QueryContext(ctx, `SELECT seq, tenant, scope, subject_type, key, cutoff, until, created_at FROM revocations`+
		c.where()+" ORDER BY seq LIMIT "+c.next(limit), c.args...)
	if err != nil {
		return nil, s.db.wrap(err)
	}
	defer rows.Close()
	out := []store.Revocation{}
	for rows.Next() {
		var r store.Revocation
		if err := rows.Scan(&r.Seq, &r.Tenant, &r.Scope, &r.SubjectType, &r.Key, timeCol{&r.Cutoff}, nullTimeCol{&r.Until}, timeCol{&r.CreatedAt}); err != nil {
			return nil, s.db.wrap(err)
		}
		out = append(out, r)
	}
	return out, s.db.wrap(rows.Err())
}

func (s revocations) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	return s.db.deleteBatch(ctx, limit, `DELETE FROM revocations WHERE seq IN
		(SELECT seq FROM revocations WHERE until < $1 LIMIT $2)`, micros(now))
}

type throttle struct{ db *DB }

func (s throttle) Get(ctx context.Context, key string) (int, time.Time, error) {
	var n int
	var until time.Time
	err := s.db.reader().QueryRowContext(ctx, `SELECT failures, blocked_until FROM throttle WHERE key = $1`, key).Scan(&n, timeCol{&until})
	if err != nil {
		err = s.db.wrap(err)
		if err == store.ErrNotFound {
			return 0, time.Time{}, nil
		}
		return 0, time.Time{}, err
	}
	return n, until, nil
}

func (s throttle) Fail(ctx context.Context, key string, now time.Time, backoff func(int) time.Duration) (int, error) {
	var n int
	err := s.db.write(ctx, func(tx querier) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO throttle (key, failures, last_failure, blocked_until) VALUES ($1, 1, $2, 0)
			ON CONFLICT (key) DO UPDATE SET failures = throttle.failures + 1, last_failure = $2
			RETURNING failures`, key, micros(now)).Scan(&n)
		if err != nil {
			return s.db.wrap(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE throttle SET blocked_until = $2 WHERE key = $1`, key, micros(now.Add(backoff(n))))
		return s.db.wrap(err)
	})
	return n, err
}

func (s throttle) Reset(ctx context.Context, key string) error {
	_, err := s.db.deleteCount(ctx, `DELETE FROM throttle WHERE key = $1`, key)
	return err
}

func (s throttle) DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return s.db.deleteBatch(ctx, limit, `DELETE FROM throttle WHERE key IN
		(SELECT key FROM throttle WHERE last_failure < $1 AND blocked_until < $1 LIMIT $2)`, micros(cutoff))
}

// deleteCount runs a DELETE and returns how many rows it removed.
func (db *DB) deleteCount(ctx context.Context, q string, args ...any) (int, error) {
	var n int64
	err := db.write(ctx, func(tx querier) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return db.wrap(err)
		}
		n, err = res.RowsAffected()
		return db.wrap(err)
	})
	return int(n), err
}

// deleteBatch runs a DELETE of at most limit rows, whose last parameter is
// limit, in one short write transaction, and returns how many it removed;
// a limit of 0 or less removes nothing. Pruning calls it in a loop, so no
// transaction holds the write lock for long.
func (db *DB) deleteBatch(ctx context.Context, limit int, q string, args ...any) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	return db.deleteCount(ctx, q, append(args, limit)...)
}

type nonces struct{ db *DB }

func (s nonces) Use(ctx context.Context, key string, expiresAt time.Time) error {
	return s.db.write(ctx, func(tx querier) error {
		// An expired entry may be taken again.
		if _, err := tx.ExecContext(ctx, `DELETE FROM nonces WHERE key = $1 AND expires_at < $2`, key, micros(time.Now())); err != nil {
			return s.db.wrap(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO nonces (key, expires_at) VALUES ($1, $2)`, key, micros(expiresAt))
		return s.db.wrap(err)
	})
}

func (s nonces) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	return s.db.deleteBatch(ctx, limit, `DELETE FROM nonces WHERE key IN
		(SELECT key FROM nonces WHERE expires_at < $1 LIMIT $2)`, micros(now))
}
