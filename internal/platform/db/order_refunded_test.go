package db

import (
	"context"
	"strconv"
	"sync"
	"testing"
)

// TestRefundedStatusMigration: 0037 renames the fully refunded orders'
// status 'closed' to 'refunded' (rows and event log) and the CHECK then
// takes 'refunded' and refuses 'closed', on every pooled connection (the
// SQLite schema edit must reach connections opened before it).
func TestRefundedStatusMigration(t *testing.T) {
	for _, engine := range TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			d, err := Open(ctx, EmptyTestDSN(t, engine))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			all, err := Migrations(engine)
			if err != nil {
				t.Fatal(err)
			}
			var rest []Migration
			for _, m := range all {
				if m.Version >= 37 {
					rest = append(rest, m)
					continue
				}
				if _, err := d.applyOne(ctx, m); err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
			}
			// Hold several connections open across the migration, as a
			// running pool would.
			conns := make([]interface{ Close() error }, 4)
			for i := range conns {
				c, err := d.DB.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.ExecContext(ctx, `SELECT COUNT(*) FROM orders`); err != nil {
					t.Fatal(err)
				}
				conns[i] = c
			}
			for _, c := range conns {
				c.Close()
			}
			for _, q := range []string{
				`INSERT INTO shops (id, name, appid, subject_type, created_at, updated_at) VALUES (1, '甲', 'wx0000000000000001', 'enterprise', 0, 0)`,
				`INSERT INTO members (id, shop_id, openid, created_at, updated_at) VALUES (1, 1, 'o1', 0, 0)`,
				order(1, "closed"), order(2, "paid"),
				`INSERT INTO order_events (shop_id, order_id, actor, from_status, to_status, reason, created_at) VALUES (1, 1, 'system', 'paid', 'closed', 'fully refunded', 0)`,
			} {
				if _, err := d.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			for _, m := range rest {
				if _, err := d.applyOne(ctx, m); err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
			}
			var st, to string
			if err := d.QueryRow(ctx, `SELECT status FROM orders WHERE id = 1`).Scan(&st); err != nil || st != "refunded" {
				t.Fatalf("the closed order is %q (%v), want refunded", st, err)
			}
			if err := d.QueryRow(ctx, `SELECT to_status FROM order_events WHERE order_id = 1`).Scan(&to); err != nil || to != "refunded" {
				t.Fatalf("its event goes to %q (%v), want refunded", to, err)
			}
			// Every connection of the pool, old or new, sees the new list.
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := d.Exec(ctx, order(int64(10+i), "refunded")); err != nil {
						t.Errorf("a refunded order: %v", err)
					}
					if _, err := d.Exec(ctx, order(int64(100+i), "closed")); err == nil {
						t.Errorf("a 'closed' order was accepted after 0037")
					}
				}()
			}
			wg.Wait()
		})
	}
}

func order(id int64, status string) string {
	return `INSERT INTO orders (id, shop_id, member_id, order_no, status, goods_amount, shipping_fee, total_amount,
		address, idempotency_key, pay_deadline, created_at, updated_at)
		VALUES (` + strconv.FormatInt(id, 10) + `, 1, 1, 'KD` + strconv.FormatInt(id, 10) + `', '` + status + `', 100, 0, 100, '{}', 'k` + strconv.FormatInt(id, 10) + `', 0, 0, 0)`
}
