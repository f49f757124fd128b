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
