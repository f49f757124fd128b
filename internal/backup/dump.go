// Package backup writes and restores kaidian's whole state — every table
// of the database, read in one consistent snapshot that does not block
// writers, and the blob store's files — as one compressed file sealed with
// a backup key kept apart from the data; it checks a file without
// restoring it, restores it into an empty database, and drills a restore
// on a schedule (see drill.go).
package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// Manifest says what a backup holds: enough to check a restore of it.
type Manifest struct {
	Engine    string       `json:"engine"`
	Schema    int          `json:"schema"`
	CreatedAt time.Time    `json:"created_at"`
	App       string       `json:"app"`
	Tables    []TableCheck `json:"tables"`
	Rows      int64        `json:"rows"`
	Blobs     int64        `json:"blobs"`
	BlobBytes int64        `json:"blob_bytes"`
}

// TableCheck is a table's row count and checksum at backup time.
type TableCheck struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	Sum   string `json:"sum"`
}

// Options of Write.
type Options struct {
	Key   []byte     // the 32-byte backup key
	Blobs blob.Store // the files to include (nil: none); must be a blob.Lister
	App   string     // the writing build's version, recorded
	Now   func() time.Time
	// Pace is the share of one core the backup may take (it sleeps the
	// rest); 0 or 1 and more: as fast as it can.
	Pace  float64
	sleep func(time.Duration) // tests
}

const blobPart = 3 << 18 // 768 KiB of a blob per line (1 MiB of base64)

// Write writes a backup of d (and o.Blobs) to w and returns its manifest.
func Write(ctx context.Context, d *db.DB, w io.Writer, o Options) (Manifest, error) {
	return write(ctx, d, w, o, nil)
}

// write is Write; opened, when set, is called once the snapshot is open
// (tests write beside it).
func write(ctx context.Context, d *db.DB, w io.Writer, o Options, opened func()) (Manifest, error) {
	sealed, err := seal(w, o.Key)
	if err != nil {
		return Manifest{}, err
	}
	zw, _ := gzip.NewWriterLevel(sealed, gzip.BestSpeed)
	lw := &lineWriter{w: bufio.NewWriterSize(zw, 256<<10), pacer: newPacer(o.Pace, o.sleep)}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	m := Manifest{Engine: string(d.Engine), CreatedAt: now().UTC(), App: o.App}
	if err := writeTables(ctx, d, lw, &m, opened); err != nil {
		return m, err
	}
	if o.Blobs != nil {
		if err := writeBlobs(ctx, o.Blobs, lw, &m); err != nil {
			return m, err
		}
	}
	end := Record{Kind: "end", Tables: len(m.Tables), Rows: m.Rows, Blobs: m.Blobs, BlobBytes: m.BlobBytes}
	if err := lw.record(end); err != nil {
		return m, err
	}
	for _, f := range []func() error{lw.w.Flush, zw.Close, sealed.Close} {
		if err := f(); err != nil {
			return m, err
		}
	}
	return m, nil
}

// writeTables writes every table from one read-only snapshot that does
// not hold up writers: a repeatable-read transaction on PostgreSQL, a
// deferred read transaction on SQLite (WAL: writers go on, the snapshot
// stays as it began). kaidian's SQLite connections begin IMMEDIATE
// transactions, which would take the write lock for the whole backup, so
// the snapshot is begun by hand on a connection of its own.
func writeTables(ctx context.Context, d *db.DB, lw *lineWriter, m *Manifest, opened func()) error {
	snap, end, err := beginSnapshot(ctx, d)
	if err != nil {
		return err
	}
	defer end()
	if err := snap.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&m.Schema); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if opened != nil {
		opened()
	}
	head := Record{Kind: "head", Format: 1, Engine: m.Engine, Schema: m.Schema, CreatedAt: m.CreatedAt, App: m.App}
	if err := lw.record(head); err != nil {
		return err
	}
	tables, err := tableNames(ctx, snap, d.Engine)
	if err != nil {
		return err
	}
	for _, t := range tables {
		check, err := writeTable(ctx, snap, lw, t)
		if err != nil {
			return fmt.Errorf("table %s: %w", t, err)
		}
		m.Tables = append(m.Tables, check)
		m.Rows += check.Rows
	}
	return nil
}

// snapshot reads in one transaction.
type snapshot interface {
	queryer
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// beginSnapshot opens the read-only snapshot and returns how to end it.
func beginSnapshot(ctx context.Context, d *db.DB) (snapshot, func(), error) {
	if d.Engine == db.Postgres {
		tx, err := d.DB.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return nil, nil, err
		}
		return tx, func() { _ = tx.Rollback() }, nil
	}
	conn, err := d.DB.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, func() {
		_, _ = conn.ExecContext(context.Background(), `ROLLBACK`)
		conn.Close()
	}, nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tableNames lists the application's tables, sorted (schema_migrations is
// not one: a restore migrates to the recorded version instead).
func tableNames(ctx context.Context, q queryer, engine db.Engine) ([]string, error) {
	query := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if engine == db.Postgres {
		query = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if n != "schema_migrations" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, rows.Err()
}

func quote(ident string) string { return `"` + ident + `"` }

// writeTable writes one table's rows and returns its check.
func writeTable(ctx context.Context, q queryer, lw *lineWriter, table string) (TableCheck, error) {
	rows, err := q.QueryContext(ctx, `SELECT * FROM `+quote(table))
	if err != nil {
		return TableCheck{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return TableCheck{}, err
	}
	if err := lw.record(Record{Kind: "table", Table: table, Columns: cols}); err != nil {
		return TableCheck{}, err
	}
	sum, err := eachRow(rows, len(cols), func(line []byte) error { return lw.line(line) })
	if err != nil {
		return TableCheck{}, err
	}
	check := TableCheck{Table: table, Rows: sum.rows, Sum: sum.String()}
	return check, lw.record(Record{Kind: "table_end", Table: table, Rows: check.Rows, Sum: check.Sum})
}

// eachRow encodes every row, adds it to the table's sum and hands the
// line to fn.
func eachRow(rows *sql.Rows, ncols int, fn func(line []byte) error) (tableSum, error) {
	var sum tableSum
	vals := make([]any, ncols)
	ptrs := make([]any, ncols)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var line []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return sum, err
		}
		var err error
		if line, err = appendRow(line[:0], vals); err != nil {
			return sum, err
		}
		sum.add(line)
		if err := fn(line); err != nil {
			return sum, err
		}
	}
	return sum, rows.Err()
}

// writeBlobs writes every file of the store.
func writeBlobs(ctx context.Context, store blob.Store, lw *lineWriter, m *Manifest) error {
	lister, ok := store.(blob.Lister)
	if !ok {
		return fmt.Errorf("the blob store %T cannot list its files", store)
	}
	return lister.List(ctx, "", func(key string, _ int64) error {
		rc, info, err := store.Get(ctx, key)
		if err == blob.ErrNotFound {
			return nil // deleted since it was listed
		}
		if err != nil {
			return fmt.Errorf("blob %s: %w", key, err)
		}
		defer rc.Close()
		n, err := writeBlob(lw, key, info, rc)
		m.Blobs++
		m.BlobBytes += n
		return err
	})
}

func writeBlob(lw *lineWriter, key string, info blob.Info, r io.Reader) (int64, error) {
	if err := lw.record(Record{Kind: "blob", Key: key, ContentType: info.ContentType}); err != nil {
		return 0, err
	}
	h := sha256.New()
	buf := make([]byte, blobPart)
	var total int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			total += int64(n)
			if err := lw.line(appendString(nil, base64.StdEncoding.EncodeToString(buf[:n]))); err != nil {
				return total, err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return total, fmt.Errorf("blob %s: %w", key, err)
		}
	}
	return total, lw.record(Record{Kind: "blob_end", Key: key, Size: total, SHA256: hex.EncodeToString(h.Sum(nil))})
}
