package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// maxStatements bounds each prepared-statement cache.
const maxStatements = 512

// stmtCache keeps prepared statements of one pool. SQLite parses a query
// on every unprepared execution, which costs more than running it; with
// the cache a hot statement is parsed once per connection.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	// missed are queries run inside transactions that were not prepared
	// yet; they are prepared after the transaction ends, when the (single)
	// writer connection is free again.
	missed map[string]bool
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}, missed: map[string]bool{}}
}

func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[query]
	if s == nil && len(c.m) < maxStatements {
		c.missed[query] = true
	}
	return s
}

// prepare returns the pool's statement for query, preparing it once.
func (c *stmtCache) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := c.lookup(query); s != nil {
		return s, nil
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.missed, query)
	if old := c.m[query]; old != nil {
		s.Close()
		return old, nil
	}
	if len(c.m) >= maxStatements {
		return s, nil // uncached: the caller closes nothing; GC'd with the Stmt
	}
	c.m[query] = s
	return s, nil
}

// prepareMissed prepares the queries transactions ran unprepared.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	var qs []string
	for q := range c.missed {
		qs = append(qs, q)
	}
	c.mu.Unlock()
	for _, q := range qs {
		_, _ = c.prepare(ctx, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// cachedPool runs queries of a pool through its statement cache.
type cachedPool struct{ c *stmtCache }

func (p cachedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := p.c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (p cachedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := p.c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (p cachedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := p.c.prepare(ctx, query)
	if err != nil {
		return p.c.pool.QueryRowContext(ctx, query, args...) // reports err on Scan
	}
	return s.QueryRowContext(ctx, args...)
}

// cachedTx runs a transaction's queries through the writer's statement
// cache: a statement prepared on the writer connection is reused by the
// transaction on that connection without parsing again, and bound to the
// transaction once however often the transaction runs it.
//
// Its statements run under the transaction's context without its
// cancellation (see uncancelled): the transaction, begun with that
// context, still ends with it.
type cachedTx struct {
	tx    *sql.Tx
	c     *stmtCache
	stmts map[string]*sql.Stmt
}

// stmt returns the transaction's statement for query, nil if query is not
// prepared yet.
func (t cachedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if s := t.stmts[query]; s != nil {
		return s
	}
	s := t.c.lookup(query)
	if s == nil {
		return nil
	}
	ts := t.tx.StmtContext(ctx, s)
	t.stmts[query] = ts
	return ts
}

func (t cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = uncancelled(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = uncancelled(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = uncancelled(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// uncancelled is ctx without its cancellation, for a statement of a
// SQLite write transaction. The driver watches a cancellable context of
// every statement with a goroutine of its own (to interrupt the
// statement), which costs more CPU than a short insert does, and a
// group commit runs dozens of statements. The statements of a write
// transaction wait for no lock (BEGIN IMMEDIATE took the database's one
// write lock, and that wait is bounded by the context), so an interrupt
// could only cut short a statement that is running anyway; and the
// transaction still ends with its context: database/sql rolls it back
// when the context ends, and a later statement or the COMMIT fails.
func uncancelled(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}
