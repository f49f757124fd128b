package db

import (
	"context"
	"database/sql"
	"testing"
)

// A whole-table read through Unmapped maps nothing on SQLite, and the
// connection goes back to the pool mapping as before.
func TestUnmappedReadsWithoutMmapAndRestores(t *testing.T) {
	ctx := context.Background()
	d := OpenTest(t, SQLite)
	var inside int64 = -1
	err := d.Unmapped(ctx, func(q Querier) error {
		if err := q.QueryRow(ctx, `PRAGMA mmap_size`).Scan(&inside); err != nil {
			return err
		}
		var n int
		return q.QueryRow(ctx, `SELECT COUNT(*) FROM shops WHERE id > ?`, 0).Scan(&n)
	})
	if err != nil || inside != 0 {
		t.Fatalf("inside Unmapped: mmap_size %d, err %v", inside, err)
	}
	// Every connection of the pool (the one used above among them) maps
	// the file again.
	conns := make([]*sql.Conn, sqliteConns)
	for i := range conns {
		c, err := d.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		var size int64
		if err := c.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&size); err != nil || size != sqliteMmapBytes {
			t.Fatalf("connection %d: mmap_size %d, err %v", i, size, err)
		}
	}
}

func TestUnmappedIsTheDatabaseOnPostgres(t *testing.T) {
	for _, e := range TestEngines() {
		if e != Postgres {
			continue
		}
		d := OpenTest(t, e)
		err := d.Unmapped(context.Background(), func(q Querier) error {
			if q != Querier(d) {
				t.Errorf("got %T, want the *DB itself", q)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
