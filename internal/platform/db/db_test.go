package db

import (
	"context"
	"sync"
	"testing"
)

func TestRebindDollar(t *testing.T) {
	cases := map[string]string{
		`SELECT 1`:                             `SELECT 1`,
		`a = ? AND b = ?`:                      `a = $1 AND b = $2`,
		`x = '?' AND y = ?`:                    `x = '?' AND y = $1`,
		`INSERT INTO t VALUES (?, 'it''s', ?)`: `INSERT INTO t VALUES ($1, 'it''s', $2)`,
	}
	for in, want := range cases {
		if got := rebindDollar(in); got != want {
			t.Errorf("rebindDollar(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	for _, e := range TestEngines() {
		t.Run(string(e), func(t *testing.T) {
			dsn := EmptyTestDSN(t, e)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d, err := Open(ctx, dsn)
					if err != nil {
						errs[i] = err
						return
					}
					defer d.Close()
					_, errs[i] = d.Migrate(ctx)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("concurrent migrate: %v", err)
				}
			}
			d, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			applied, err := d.Migrate(ctx)
			if err != nil || len(applied) != 0 {
				t.Fatalf("second migrate applied %v, err %v", applied, err)
			}
			all, _ := Migrations(e)
			v, err := d.Version(ctx)
			if err != nil || v != all[len(all)-1].Version {
				t.Fatalf("version %d (err %v), want %d", v, err, all[len(all)-1].Version)
			}
		})
	}
}

func TestEnginesHaveTheSameMigrations(t *testing.T) {
	lite, _ := Migrations(SQLite)
	pg, _ := Migrations(Postgres)
	if len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, lite[i].Name, pg[i].Name)
		}
	}
}

func TestExpectOneAndTx(t *testing.T) {
	ForEachEngine(t, func(t *testing.T, d *DB) {
		ctx := context.Background()
		now := Now()
		err := d.InTx(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, ?)`, "k", now, 1)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = ExpectOne(d.Exec(ctx, `UPDATE rate_limits SET hits = hits + 1 WHERE key = ? AND hits = ?`, "k", 1))
		if err != nil {
			t.Fatalf("first CAS: %v", err)
		}
		err = ExpectOne(d.Exec(ctx, `UPDATE rate_limits SET hits = hits + 1 WHERE key = ? AND hits = ?`, "k", 1))
		if !IsNoRows(err) {
			t.Fatalf("stale CAS: got %v, want no rows", err)
		}
		_, err = d.Exec(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, ?)`, "k", now, 1)
		if !IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: got %v, want unique violation", err)
		}
	})
}
