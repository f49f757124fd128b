package db

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxCachedStatements bounds the cache; queries beyond it run unprepared.
const maxCachedStatements = 512

// stmtCache keeps one prepared statement per query text, on SQLite, where
// parsing the SQL of every query was a quarter of a product page's CPU time.
// (pgx already caches prepared statements per connection.)
type stmtCache struct {
	m sync.Map // query text -> *sql.Stmt
	n atomic.Int32
}

// get returns the prepared statement for query, preparing it on first use,
// or nil when it should run unprepared (PostgreSQL, a full cache, or a
// statement that does not prepare: running it reports the error).
func (c *stmtCache) get(ctx context.Context, d *DB, query string) *sql.Stmt {
	if d.Engine != SQLite {
		return nil
	}
	if v, ok := c.m.Load(query); ok {
		return v.(*sql.Stmt)
	}
	if c.n.Load() >= maxCachedStatements {
		return nil
	}
	st, err := d.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	if prev, loaded := c.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	c.n.Add(1)
	return st
}

// peek returns the statement for query if it is already prepared.
func (c *stmtCache) peek(query string) *sql.Stmt {
	if v, ok := c.m.Load(query); ok {
		return v.(*sql.Stmt)
	}
	return nil
}

// close releases every cached statement.
func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		c.m.Delete(k)
		return true
	})
}
