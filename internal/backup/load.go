package backup

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// load inserts every row of the backup into d in one transaction, with
// the foreign keys checked once at the end (tables are read in name
// order, not in the order their rows depend on each other), then writes
// the backup's files to o.Blobs.
func load(ctx context.Context, openFile func() (io.ReadCloser, error), d *db.DB, o RestoreOptions) error {
	conn, err := d.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d.Engine == db.SQLite {
		// Only outside a transaction; set back before the connection
		// returns to the pool.
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
		defer conn.ExecContext(context.Background(), `PRAGMA foreign_keys = ON`)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var fks []foreignKey
	if d.Engine == db.Postgres {
		if fks, err = dropForeignKeys(ctx, tx); err != nil {
			return err
		}
	}
	l := &loader{ctx: ctx, tx: tx, engine: d.Engine}
	f, err := openFile()
	if err != nil {
		return err
	}
	defer f.Close()
	v := visitor{table: l.startTable, row: l.row, tableEnd: l.flush}
	if o.Blobs != nil {
		v.blob = func(key, contentType string, data []byte) error {
			return o.Blobs.Put(ctx, key, contentType, bytes.NewReader(data), int64(len(data)))
		}
	}
	if _, err := read(ctx, f, o.Key, v); err != nil {
		return err
	}
	if err := finishLoad(ctx, tx, d.Engine, fks); err != nil {
		return err
	}
	return tx.Commit()
}

// finishLoad checks the foreign keys (SQLite) or adds them back, which
// checks them (PostgreSQL), and moves PostgreSQL's id sequences past the
// restored ids.
func finishLoad(ctx context.Context, tx *sql.Tx, engine db.Engine, fks []foreignKey) error {
	if engine == db.SQLite {
		var table string
		var rowid, parent, fkid any
		err := tx.QueryRowContext(ctx, `PRAGMA foreign_key_check`).Scan(&table, &rowid, &parent, &fkid)
		if err == nil {
			return fmt.Errorf("%w: a row of %s refers to a missing row of %v", ErrBadArchive, table, parent)
		}
		if !db.IsNoRows(err) {
			return err
		}
		return nil
	}
	for _, fk := range fks {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+fk.table+` ADD CONSTRAINT `+quote(fk.name)+` `+fk.def); err != nil {
			return fmt.Errorf("%w: foreign key %s: %v", ErrBadArchive, fk.name, err)
		}
	}
	return resetSequences(ctx, tx)
}

type foreignKey struct{ table, name, def string }

// dropForeignKeys drops the schema's foreign keys inside the restore's
// transaction and returns them, to be added back (and so checked) at its
// end: unlike disabling triggers, this needs no superuser.
func dropForeignKeys(ctx context.Context, tx *sql.Tx) ([]foreignKey, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	var fks []foreignKey
	for rows.Next() {
		var fk foreignKey
		if err := rows.Scan(&fk.table, &fk.name, &fk.def); err != nil {
			rows.Close()
			return nil, err
		}
		fks = append(fks, fk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, fk := range fks {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+fk.table+` DROP CONSTRAINT `+quote(fk.name)); err != nil {
			return nil, err
		}
	}
	return fks, nil
}

// resetSequences sets every identity or serial column's sequence past the
// largest restored value, so new rows do not collide with restored ones.
func resetSequences(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`)
	if err != nil {
		return err
	}
	var cols [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, [2]string{t, c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, tc := range cols {
		t, c := quote(tc[0]), quote(tc[1])
		_, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(`+c+`), 1), MAX(`+c+`) IS NOT NULL) FROM `+t,
			t, tc[1])
		if err != nil {
			return fmt.Errorf("sequence of %s.%s: %w", tc[0], tc[1], err)
		}
	}
	return nil
}

// loader inserts a table's rows, several per statement on PostgreSQL.
type loader struct {
	ctx     context.Context
	tx      *sql.Tx
	engine  db.Engine
	name    string
	columns []string
	pending []any
	stmt    *sql.Stmt
}

// pgParams bounds one INSERT's parameters (PostgreSQL allows 65,535).
const pgParams = 30000

func (l *loader) startTable(name string, columns []string) error {
	l.name, l.columns, l.pending = name, columns, l.pending[:0]
	if l.stmt != nil {
		l.stmt.Close()
		l.stmt = nil
	}
	if l.engine == db.SQLite {
		var err error
		l.stmt, err = l.tx.PrepareContext(l.ctx, l.insert(1))
		return err
	}
	return nil
}

func (l *loader) row(vals []any) error {
	if l.stmt != nil {
		_, err := l.stmt.ExecContext(l.ctx, vals...)
		return err
	}
	l.pending = append(l.pending, vals...)
	if len(l.pending)+len(l.columns) > pgParams {
		return l.flush(l.name)
	}
	return nil
}

func (l *loader) flush(string) error {
	if len(l.pending) == 0 || len(l.columns) == 0 {
		return nil
	}
	_, err := l.tx.ExecContext(l.ctx, l.insert(len(l.pending)/len(l.columns)), l.pending...)
	l.pending = l.pending[:0]
	return err
}

// insert is the INSERT of n rows of the current table ($1… on
// PostgreSQL, ? on SQLite).
func (l *loader) insert(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + quote(l.name) + ` (`)
	for i, c := range l.columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quote(c))
	}
	b.WriteString(`) VALUES `)
	p := 0
	for r := range n {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for i := range l.columns {
			if i > 0 {
				b.WriteByte(',')
			}
			p++
			if l.engine == db.Postgres {
				fmt.Fprintf(&b, "$%d", p)
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}
