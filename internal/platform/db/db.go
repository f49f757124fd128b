// Package db opens kaidian's database (embedded SQLite or PostgreSQL), applies
// the embedded migrations and offers small helpers shared by every store:
// one query dialect (`?` placeholders, rebound for PostgreSQL) and
// transactions that retry nothing silently.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Engine names the SQL engine behind a DB.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB wraps *sql.DB with the engine it talks to. Queries are written once with
// `?` placeholders; on PostgreSQL they are rebound to $1, $2, ….
type DB struct {
	*sql.DB
	Engine Engine
	rebind sync.Map // query text -> rebound text (PostgreSQL only)
	stmts  stmtCache
	// writeMu serialises transactions on SQLite, which allows one writer:
	// waiting here is cheaper and fairer than SQLite's busy-sleep loop.
	writeMu sync.Mutex
	group   groupCommit
	// stop ends the background checkpoints (SQLite).
	stop     chan struct{}
	stopOnce sync.Once
	// url is the PostgreSQL connection string, for Listen's own connection.
	url string
}

// Open connects to dsn: a postgres:// or postgresql:// URL selects PostgreSQL,
// anything else is a path to a SQLite file (created if missing).
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, Options{})
}

// Options tune how a database is opened.
type Options struct {
	// SQLiteSync is SQLite's synchronous setting: "normal" (the default: a
	// commit survives a crash of the process; a power cut may lose the last
	// commits) or "full" (every commit waits for the disk).
	SQLiteSync string
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, o Options) (*DB, error) {
	if IsPostgresURL(dsn) {
		return openPostgres(ctx, dsn)
	}
	sync := strings.ToUpper(o.SQLiteSync)
	switch sync {
	case "":
		sync = "NORMAL"
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("sqlite sync must be normal or full, not %q", o.SQLiteSync)
	}
	return openSQLite(ctx, dsn, sync)
}

// IsPostgresURL reports whether dsn selects PostgreSQL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqliteConns is the size of SQLite's connection pool.
const sqliteConns = 8

func openSQLite(ctx context.Context, path, sync string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
	}
	if err := privateFile(path); err != nil {
		return nil, err
	}
	// _txlock=immediate makes every transaction take the write lock up front,
	// so two writers never deadlock upgrading read locks (SQLITE_BUSY).
	// No mmap (SQLite's default): a connection unmaps the whole file
	// whenever another one has written since its last read, so under write
	// traffic every read re-faulted its pages and paid munmap/mmap (a
	// buyer's session lookup during a flash sale was a third of the CPU;
	// without the mapping flash claims over HTTP went from 28% to 40% of
	// bare net/http, orders +10-20%, product pages the same or better), and
	// a mapped full scan counted in resident memory (+178 MiB at start with
	// 1M SKUs). Reads go through pread and each connection's page cache.
	// temp_store(MEMORY) keeps statement journals in memory: group commit
	// runs each order in a savepoint, and SQLite copies every page a
	// savepoint first touches into a sub-journal, by default a temporary
	// file (a pwrite per page, 19% of the order path's CPU in the profile,
	// all of it inside the single writer).
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(ON)&_pragma=wal_autocheckpoint(20000)&_pragma=synchronous(" + sync + ")" +
		"&_pragma=temp_store(MEMORY)&_txlock=immediate"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	sqldb.SetMaxOpenConns(sqliteConns)
	sqldb.SetMaxIdleConns(sqliteConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	d, err := ping(ctx, &DB{DB: sqldb, Engine: SQLite, stop: make(chan struct{})})
	if err == nil {
		go d.checkpoints(checkpointEvery)
	}
	return d, err
}

// privateFile creates the database file readable by its owner only (0600),
// or makes an existing one so: it holds personal data. SQLite gives its
// -wal and -shm files the database file's permissions.
func privateFile(path string) error {
	if strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the database file: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("make the database file private: %w", err)
		}
	}
	return nil
}

// checkpointEvery is how often SQLite's WAL is copied back into the
// database file, in the background. The commit that crosses
// wal_autocheckpoint would otherwise do it, holding the write lock (every
// page a checkpoint copies was a pwrite inside some buyer's order); the
// larger automatic limit is only a backstop.
const checkpointEvery = 500 * time.Millisecond

func (d *DB) checkpoints(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			// PASSIVE copies what it can without waiting for readers or
			// the writer; errors (busy) just mean next time.
			_, _ = d.DB.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// ReleaseIdle closes the idle connections (new ones open on demand): on
// SQLite each keeps a page cache of up to 2 MiB of what it last read.
func (d *DB) ReleaseIdle() {
	if d.Engine != SQLite {
		return
	}
	d.SetMaxIdleConns(0)
	d.SetMaxIdleConns(sqliteConns)
}

func openPostgres(ctx context.Context, url string) (*DB, error) {
	sqldb, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	sqldb.SetMaxOpenConns(32)
	sqldb.SetMaxIdleConns(32)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return ping(ctx, &DB{DB: sqldb, Engine: Postgres, url: url})
}

func ping(ctx context.Context, d *DB) (*DB, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := d.PingContext(ctx)
	// A new SQLite file switches to WAL on its first connection, which
	// needs the file to itself: a process (or a pool) connecting while
	// another migrates it gets SQLITE_BUSY at connect, which the busy
	// timeout does not cover. It is asked again until the deadline.
	for wait := 20 * time.Millisecond; err != nil && d.Engine == SQLite && isBusy(err) && ctx.Err() == nil; wait = min(2*wait, time.Second) {
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			err = d.PingContext(ctx)
		}
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to %s: %w", d.Engine, err)
	}
	return d, nil
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// Close releases the cached statements and closes the database.
func (d *DB) Close() error {
	d.stopOnce.Do(func() {
		if d.stop != nil {
			close(d.stop)
		}
	})
	d.stmts.close()
	return d.DB.Close()
}

// Q returns query in this engine's placeholder style.
func (d *DB) Q(query string) string {
	if d.Engine != Postgres {
		return query
	}
	if v, ok := d.rebind.Load(query); ok {
		return v.(string)
	}
	out := rebindDollar(query)
	d.rebind.Store(query, out)
	return out
}

// rebindDollar turns `?` placeholders into $1, $2, … outside string literals.
func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, inString := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Exec runs a statement written with `?` placeholders.
func (d *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := d.stmts.get(ctx, d, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.ExecContext(ctx, d.Q(query), args...)
}

// Query runs a query written with `?` placeholders.
func (d *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := d.stmts.get(ctx, d, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.QueryContext(ctx, d.Q(query), args...)
}

// QueryRow runs a single-row query written with `?` placeholders.
func (d *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := d.stmts.get(ctx, d, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.QueryRowContext(ctx, d.Q(query), args...)
}

// Tx is a transaction that speaks the same `?` dialect as DB.
type Tx struct {
	*sql.Tx
	db     *DB
	missed []string // statements to prepare once the transaction is over
}

// stmt returns the cached statement bound to this transaction, or nil. It
// never prepares: that would take a second connection while this one holds
// the write lock, and a full pool would then deadlock.
func (t *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.db.Engine != SQLite {
		return nil
	}
	if st := t.db.stmts.peek(query); st != nil {
		return t.StmtContext(ctx, st)
	}
	t.missed = append(t.missed, query)
	return nil
}

// Exec runs a statement inside the transaction.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.ExecContext(ctx, t.db.Q(query), args...)
}

// Query runs a query inside the transaction.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.QueryContext(ctx, t.db.Q(query), args...)
}

// QueryRow runs a single-row query inside the transaction.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.QueryRowContext(ctx, t.db.Q(query), args...)
}

// Engine reports the engine of the transaction's database.
func (t *Tx) Engine() Engine { return t.db.Engine }

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise (a panic rolls back too).
func (d *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	var tx *Tx
	defer func() { d.prepareMissed(ctx, tx) }() // after the writer lock is released
	if d.Engine == SQLite {
		d.writeMu.Lock()
		defer d.writeMu.Unlock()
	}
	sqltx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx = &Tx{Tx: sqltx, db: d}
	defer func() {
		if p := recover(); p != nil {
			_ = sqltx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqltx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return sqltx.Commit()
}

// prepareMissed caches the statements a transaction ran unprepared, now
// that its connection is back in the pool; the next transaction finds them.
func (d *DB) prepareMissed(ctx context.Context, tx *Tx) {
	if tx == nil {
		return
	}
	for _, q := range tx.missed {
		d.stmts.get(ctx, d, q)
	}
}

// Querier is what both *DB and *Tx offer, for helpers that run either way.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// ExpectOne checks that a compare-and-set update changed exactly one row.
// It returns ErrNoRows when none changed, so callers can map it to a
// conflict or not-found.
func ExpectOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrNoRows
	}
	return nil
}

// ErrNoRows is sql.ErrNoRows, re-exported so stores need not import database/sql.
var ErrNoRows = sql.ErrNoRows

// IsNoRows reports whether err means "no such row".
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || // SQLite
		strings.Contains(s, "SQLSTATE 23505") // PostgreSQL
}

// Now is the time stamp stores write: Unix milliseconds, UTC.
func Now() int64 { return time.Now().UnixMilli() }

// NowTime is Now as a time.Time.
func NowTime() time.Time { return time.UnixMilli(Now()) }

// Scanner is a row to scan: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// All runs query and scans every row with scan; an empty result is an
// empty (not nil) slice, which encodes as [] in JSON.
func All[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
