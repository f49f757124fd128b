package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestGroupTxIsolatesEachCaller: 200 concurrent callers, every third
// failing after its insert and one panicking: exactly the others' rows
// are there, and each caller got its own outcome.
func TestGroupTxIsolatesEachCaller(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.Exec(ctx, `CREATE TABLE grp_test (n BIGINT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		var wg sync.WaitGroup
		errsSeen := make([]error, 200)
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errsSeen[i] = d.InGroupTx(ctx, func(tx *db.Tx) error {
					if _, err := tx.Exec(ctx, `INSERT INTO grp_test (n) VALUES (?)`, i); err != nil {
						return err
					}
					if i == 7 {
						panic("a caller panics")
					}
					if i%3 == 0 {
						return boom
					}
					return nil
				})
			}()
		}
		wg.Wait()
		want := 0
		for i, err := range errsSeen {
			switch {
			case i == 7:
				if err == nil {
					t.Errorf("caller 7 panicked but got no error")
				}
			case i%3 == 0:
				if !errors.Is(err, boom) {
					t.Errorf("caller %d: %v, want its own error", i, err)
				}
			default:
				want++
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
				}
			}
		}
		var n, bad int
		if err := d.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN n % 3 = 0 OR n = 7 THEN 1 ELSE 0 END), 0) FROM grp_test`).Scan(&n, &bad); err != nil {
			t.Fatal(err)
		}
		if n != want || bad != 0 {
			t.Fatalf("%d rows (%d from failed callers), want %d and 0", n, bad, want)
		}
	})
}

// TestInTxEachUndoesOnlyTheFailingUnits: in one transaction, a unit whose
// statement fails in the database (a duplicate key, which aborts a whole
// PostgreSQL transaction unless rolled back to a savepoint), one that
// returns an error after writing and one that panics leave nothing; the
// others' rows are committed, and each unit gets its own outcome.
func TestInTxEachUndoesOnlyTheFailingUnits(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.Exec(ctx, `CREATE TABLE each_test (n BIGINT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		insert := func(ns ...int) func(tx *db.Tx) error {
			return func(tx *db.Tx) error {
				for _, n := range ns {
					if _, err := tx.Exec(ctx, `INSERT INTO each_test (n) VALUES (?)`, n); err != nil {
						return err
					}
				}
				return nil
			}
		}
		fns := []func(tx *db.Tx) error{
			insert(1),
			insert(2, 1), // 1 is taken: 2 must be undone too
			func(tx *db.Tx) error { _ = insert(3)(tx); return boom },
			func(tx *db.Tx) error { _ = insert(4)(tx); panic("a unit panics") },
			insert(5),
		}
		got := d.InTxEach(ctx, fns)
		if got[0] != nil || got[4] != nil {
			t.Fatalf("the good units failed: %v", got)
		}
		if got[1] == nil || !errors.Is(got[2], boom) || got[3] == nil {
			t.Fatalf("the failing units' outcomes: %v", got)
		}
		var sum, count int
		if err := d.QueryRow(ctx, `SELECT COALESCE(SUM(n), 0), COUNT(*) FROM each_test`).Scan(&sum, &count); err != nil {
			t.Fatal(err)
		}
		if sum != 6 || count != 2 {
			t.Fatalf("rows: %d with sum %d, want 1 and 5 only", count, sum)
		}
	})
}
