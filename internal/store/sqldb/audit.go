package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/store"
)

type auditLog struct{ db *DB }

const auditCols = `tenant, seq, time, action, outcome, actor, subject, client_id, remote_addr, user_agent, request_id,
	detail, prev_hash, hash`

const (
	auditInsert = "INSERT INTO audit_events (" + auditCols + ") VALUES "
	auditWidth  = 14
)

// auditTypes are the column types of auditCols, for arrayInsert.
var auditTypes = []string{colText, colInt8, colInt8, colText, colText, colText, colText, colText, colText, colText, colText,
	colText, colBytea, colBytea}

// Append chains each event to its tenant's head. The head row is locked
// (by the upsert that reads it, on PostgreSQL; SQLite has a single
// writer) until commit, so concurrent appends to one tenant queue instead
// of forking the chain.
func (s auditLog) Append(ctx context.Context, seal store.SealFunc, events ...store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.db.write(ctx, func(tx querier) error { return s.append(ctx, tx, seal, events, nil) })
}

// InsertTokensAndAppend inserts ts and appends events in the bound
// transaction, or in a new one: the same rows as Tokens().Insert followed
// by Audit().Append. On PostgreSQL it takes two statements per tenant
// instead of four: the tokens go with the first head's upsert, and each
// tenant's events with its head's update (data-modifying WITH clauses).
// Outside a transaction, when the heads of all the events' tenants are
// known from this DB's last appends, it first tries one autocommitted
// statement instead (appendFast).
func (db *DB) InsertTokensAndAppend(ctx context.Context, seal store.SealFunc, ts []store.Token, events []store.AuditEvent) error {
	if db.tx == nil && db.d.ArrayInsert && len(ts) > 0 && len(events) > 0 {
		if tried, err := db.appendFast(ctx, seal, ts, events); tried && err == nil {
			return nil
		}
	}
	return db.bound(ctx, func(b *DB) error {
		if !b.d.ArrayInsert || len(ts) == 0 || len(events) == 0 {
			if err := b.Tokens().Insert(ctx, ts...); err != nil {
				return err
			}
			return b.Audit().Append(ctx, seal, events...)
		}
		return auditLog{b}.append(ctx, b.txQuerier(), seal, events, ts)
	})
}

// heads remembers each tenant's audit head as this process last wrote it,
// for appendFast. A remembered head may be stale (another replica, or a
// transaction that rolled back, moved it): appendFast's statement checks
// it and fails as a whole if so.
type heads struct {
	mu sync.Mutex
	m  map[string]head
}

type head struct {
	seq  int64
	hash []byte
}

func (h *heads) get(tenant string) (head, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[tenant]
	return v, ok
}

func (h *heads) set(tenant string, v head) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.m) >= maxHeads {
		clear(h.m) // bounded: the next batches of each tenant read their head again
	}
	h.m[tenant] = v
}

func (h *heads) forget(tenant string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, tenant)
}

// maxHeads bounds the remembered heads.
const maxHeads = 10000

// fastAppend inserts the tokens ($1 to $26), the events ($27 to $40) and
// moves the heads ($41 tenants, from seq $42 and hash $43 to seq $44 and
// hash $45) in one statement. When a head is not where it was expected
// (another writer moved it), the final INSERT writes a head with a NULL
// seq, whose NOT NULL violation fails the whole statement: nothing of it
// is written, and the caller takes the full path.
var fastAppend = "WITH t AS (" + unnestSQL("INSERT INTO tokens ("+tokenCols+") ", tokenTypes) + `),
	e AS (INSERT INTO audit_events (` + auditCols + `) SELECT * FROM unnest(` + unnestParams(auditTypes, len(tokenTypes)+1) + `)),
	u AS (UPDATE audit_heads h SET seq = v.new_seq, hash = v.new_hash
		FROM unnest($41::text[], $42::int8[], $43::bytea[], $44::int8[], $45::bytea[]) AS v(tenant, old_seq, old_hash, new_seq, new_hash)
		WHERE h.tenant = v.tenant AND h.seq = v.old_seq AND h.hash = v.old_hash RETURNING 1)
	INSERT INTO audit_heads (tenant, seq, hash) SELECT $41[1], NULL, NULL WHERE (SELECT count(*) FROM u) <> cardinality($41::text[])`

// appendFast writes ts and events in one autocommitted statement, chaining
// the events to the remembered heads of their tenants. It reports false
// when a head is not remembered; an error (a head moved, or anything else)
// means nothing was written, and the caller takes the full path, which
// reads the heads.
func (db *DB) appendFast(ctx context.Context, seal store.SealFunc, ts []store.Token, events []store.AuditEvent) (bool, error) {
	var tenants []string
	var oldSeq, newSeq []int64
	var oldHash, newHash [][]byte
	at := map[string]int{}
	cur := make([]head, 0, 1)
	for _, e := range events {
		if _, ok := at[e.Tenant]; ok {
			continue
		}
		h, ok := db.heads.get(e.Tenant)
		if !ok {
			return false, nil
		}
		at[e.Tenant] = len(tenants)
		tenants = append(tenants, e.Tenant)
		oldSeq, oldHash = append(oldSeq, h.seq), append(oldHash, h.hash)
		cur = append(cur, h)
	}
	args := make([]any, 0, len(events)*auditWidth)
	for _, e := range events {
		i := at[e.Tenant]
		e.Seq, e.PrevHash = cur[i].seq+1, cur[i].hash
		if e.Detail == nil {
			e.Detail = map[string]string{}
		}
		seal(&e)
		cur[i] = head{e.Seq, e.Hash}
		args = append(args, e.Tenant, e.Seq, micros(e.Time), e.Action, e.Outcome, e.Actor, e.Subject, e.ClientID, e.RemoteAddr,
			e.UserAgent, e.RequestID, detailText(e.Detail), e.PrevHash, e.Hash)
	}
	for _, h := range cur {
		newSeq, newHash = append(newSeq, h.seq), append(newHash, h.hash)
	}
	targs := make([]any, 0, len(ts)*tokenWidth)
	for i := range ts {
		targs = append(targs, tokenValues(&ts[i])...)
	}
	all := append(arrayColumns(tokenTypes, targs), arrayColumns(auditTypes, args)...)
	all = append(all, tenants, oldSeq, oldHash, newSeq, newHash)
	if _, err := db.w.ExecContext(ctx, fastAppend, all...); err != nil {
		for _, ten := range tenants {
			db.heads.forget(ten)
		}
		return true, db.wrap(err)
	}
	for i, ten := range tenants {
		db.heads.set(ten, cur[i])
	}
	return true, nil
}

// bound runs fn with the transaction-bound DB, or in a new transaction.
func (db *DB) bound(ctx context.Context, fn func(*DB) error) error {
	if db.tx != nil {
		return fn(db)
	}
	return db.inTx(ctx, fn)
}

// Statements of append on PostgreSQL (ArrayInsert). The WITH clauses run
// to completion although the main statement does not read them.
var (
	// headUpsert creates the head if need be, locks it (an upsert's
	// update locks the row, as FOR UPDATE would) and reads it.
	headUpsert = `INSERT INTO audit_heads (tenant, seq, hash) VALUES ($1, 0, NULL)
				ON CONFLICT (tenant) DO UPDATE SET tenant = excluded.tenant RETURNING seq, hash`
	// tokensHeadUpsert inserts the tokens ($1 to $26, arrays) and then
	// is headUpsert for tenant $27.
	tokensHeadUpsert = "WITH t AS (" + unnestSQL("INSERT INTO tokens ("+tokenCols+") ", tokenTypes) + `)
		INSERT INTO audit_heads (tenant, seq, hash) VALUES ($27, 0, NULL)
		ON CONFLICT (tenant) DO UPDATE SET tenant = excluded.tenant RETURNING seq, hash`
	// eventsHeadUpdate inserts the events ($1 to $14, arrays) and moves
	// tenant $15's head to seq $16 and hash $17.
	eventsHeadUpdate = "WITH e AS (" + unnestSQL("INSERT INTO audit_events ("+auditCols+") ", auditTypes) + `)
		UPDATE audit_heads SET seq = $16, hash = $17 WHERE tenant = $15`
)

// append chains events to their heads in tx; ts, if any (PostgreSQL
// only), are inserted by the first head's upsert.
func (s auditLog) append(ctx context.Context, tx querier, seal store.SealFunc, events []store.AuditEvent, ts []store.Token) error {
	// Group by tenant, keeping each tenant's order: one head read and one
	// head update per tenant and batch.
	var order []string
	byTenant := map[string][]store.AuditEvent{}
	for _, e := range events {
		if _, ok := byTenant[e.Tenant]; !ok {
			order = append(order, e.Tenant)
		}
		byTenant[e.Tenant] = append(byTenant[e.Tenant], e)
	}
	for _, ten := range order {
		var seq int64
		var prev []byte
		var err error
		if len(ts) > 0 {
			args := make([]any, 0, len(ts)*tokenWidth)
			for i := range ts {
				args = append(args, tokenValues(&ts[i])...)
			}
			err = tx.QueryRowContext(ctx, tokensHeadUpsert, append(arrayColumns(tokenTypes, args), ten)...).Scan(&seq, &prev)
			ts = nil
		} else {
			err = tx.QueryRowContext(ctx, headUpsert, ten).Scan(&seq, &prev)
		}
		if err != nil {
			return s.db.wrap(err)
		}
		var args []any
		for _, e := range byTenant[ten] {
			seq++
			e.Seq, e.PrevHash = seq, prev
			if e.Detail == nil {
				e.Detail = map[string]string{}
			}
			seal(&e)
			row := []any{e.Tenant, e.Seq, micros(e.Time), e.Action, e.Outcome, e.Actor, e.Subject, e.ClientID, e.RemoteAddr,
				e.UserAgent, e.RequestID, detailText(e.Detail), e.PrevHash, e.Hash}
			if s.db.d.MultiRowInsert || s.db.d.ArrayInsert {
				args = append(args, row...)
			} else if err := insertRows(ctx, tx, auditInsert, auditWidth, row); err != nil {
				return s.db.wrap(err)
			}
			prev = e.Hash
		}
		if s.db.d.ArrayInsert {
			_, err = tx.ExecContext(ctx, eventsHeadUpdate, append(arrayColumns(auditTypes, args), ten, seq, prev)...)
			if err != nil {
				return s.db.wrap(err)
			}
			if s.db.heads != nil {
				// Remembered before the commit: should the transaction
				// roll back, appendFast finds the head elsewhere and
				// falls back.
				s.db.heads.set(ten, head{seq, prev})
			}
			continue
		}
		if err := insertRows(ctx, tx, auditInsert, auditWidth, args); err != nil {
			return s.db.wrap(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_heads SET seq = $2, hash = $3 WHERE tenant = $1`, ten, seq, prev); err != nil {
			return s.db.wrap(err)
		}
	}
	return nil
}

func (s auditLog) List(ctx context.Context, tenant string, f store.AuditFilter) ([]store.AuditEvent, error) {
	var c conds
	c.add("tenant = ?", tenant)
	if !f.From.IsZero() {
		c.add("time >= ?", micros(f.From))
	}
	if !f.To.IsZero() {
		c.add("time < ?", micros(f.To))
	}
	for _, eq := range []struct{ col, v string }{{"action", f.Action}, {"subject", f.Subject}, {"client_id", f.ClientID}, {"actor", f.Actor}} {
		if eq.v != "" {
			c.add(eq.col+" = ?", eq.v)
		}
	}
	if f.AfterSeq > 0 {
		c.add("seq > ?", f.AfterSeq)
	}
	q := "SELECT " + auditCols + " FROM audit_events" + c.where() + " ORDER BY seq LIMIT " + c.next(limit(f.Limit))
	rows, err := s.db.reader().QueryContext(ctx, q, c.args...)
	if err != nil {
		return nil, s.db.wrap(err)
	}
	return s.scan(rows)
}

func (s auditLog) scan(rows *sql.Rows) ([]store.AuditEvent, error) {
	defer rows.Close()
	out := []store.AuditEvent{}
	for rows.Next() {
		var e store.AuditEvent
		err := rows.Scan(&e.Tenant, &e.Seq, timeCol{&e.Time}, &e.Action, &e.Outcome, &e.Actor, &e.Subject, &e.ClientID,
			&e.RemoteAddr, &e.UserAgent, &e.RequestID, jsonCol[map[string]string]{&e.Detail}, &e.PrevHash, &e.Hash)
		if err != nil {
			return nil, s.db.wrap(err)
		}
		out = append(out, e)
	}
	return out, s.db.wrap(rows.Err())
}

func (s auditLog) Prune(ctx context.Context, tenant string, before time.Time, limit int, sign func(last store.AuditEvent) store.AuditCheckpoint) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int
	err := s.db.write(ctx, func(tx querier) error {
		// The oldest events by seq; the prefix older than before goes.
		rows, err := tx.QueryContext(ctx, `SELECT seq, time FROM audit_events WHERE tenant = $1 ORDER BY seq LIMIT $2`, tenant, limit)
		if err != nil {
			return s.db.wrap(err)
		}
		var last int64
		count := 0
		for rows.Next() {
			var seq int64
			var at time.Time
			if err := rows.Scan(&seq, timeCol{&at}); err != nil {
				rows.Close()
				return s.db.wrap(err)
			}
			if !at.Before(before) {
				break
			}
			last = seq
			count++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.db.wrap(err)
		}
		if count == 0 {
			return nil
		}
		rows, err = tx.QueryContext(ctx, "SELECT "+auditCols+" FROM audit_events WHERE tenant = $1 AND seq = $2", tenant, last)
		if err != nil {
			return s.db.wrap(err)
		}
		evs, err := s.scan(rows)
		if err != nil {
			return err
		}
		if len(evs) != 1 || evs[0].Seq != last {
			return fmt.Errorf("audit: event %d of tenant %s vanished while pruning", last, tenant)
		}
		cp := sign(evs[0])
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE tenant = $1 AND seq <= $2`, tenant, last); err != nil {
			return s.db.wrap(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (tenant, seq, hash, event_time, pruned_at, sig) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, event_time = excluded.event_time,
			pruned_at = excluded.pruned_at, sig = excluded.sig`,
			tenant, cp.Seq, cp.Hash, micros(cp.EventTime), micros(cp.PrunedAt), cp.Sig); err != nil {
			return s.db.wrap(err)
		}
		n = count
		return nil
	})
	return n, err
}

func (s auditLog) Checkpoint(ctx context.Context, tenant string) (store.AuditCheckpoint, error) {
	cp := store.AuditCheckpoint{Tenant: tenant}
	err := s.db.reader().QueryRowContext(ctx, `SELECT seq, hash, event_time, pruned_at, sig FROM audit_checkpoints WHERE tenant = $1`, tenant).
		Scan(&cp.Seq, &cp.Hash, timeCol{&cp.EventTime}, timeCol{&cp.PrunedAt}, &cp.Sig)
	return cp, s.db.wrap(err)
}

type changes struct{ db *DB }

func (s changes) After(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.reader().QueryContext(ctx, `SELECT seq, tenant, entity, key, time FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, s.db.wrap(err)
	}
	defer rows.Close()
	out := []store.Change{}
	for rows.Next() {
		var c store.Change
		if err := rows.Scan(&c.Seq, &c.Tenant, &c.Entity, &c.Key, timeCol{&c.Time}); err != nil {
			return nil, s.db.wrap(err)
		}
		out = append(out, c)
	}
	return out, s.db.wrap(rows.Err())
}

func (s changes) Last(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq)
	return seq, s.db.wrap(err)
}

func (s changes) Append(ctx context.Context, c store.Change) error {
	return s.db.write(ctx, func(tx querier) error { return s.db.changed(ctx, tx, c.Tenant, c.Entity, c.Key) })
}

// DeleteBefore keeps the newest change even when it is old, so Last never
// goes backwards and followers keep their cursor.
func (s changes) DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return s.db.deleteBatch(ctx, limit, `DELETE FROM changes WHERE seq IN
		(SELECT seq FROM changes WHERE time < $1 AND seq < (SELECT MAX(seq) FROM changes) LIMIT $2)`, micros(cutoff))
}
