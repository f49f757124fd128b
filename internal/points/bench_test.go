package points

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// benchMembers is how many members the points benchmarks load
// (KAIDIAN_BENCH_POINTS_MEMBERS, default 1,000,000: the figure).
func benchMembers() int {
	if n, err := strconv.Atoi(os.Getenv("KAIDIAN_BENCH_POINTS_MEMBERS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// loadLedger gives n members of one shop an account and one lot each
// (earned 2026-06-01, due at 2028-01-01 Asia/Shanghai), written in bulk
// by SQL so the load is not what is measured.
func loadLedger(b *testing.B, d *db.DB, n int) (shopID int64) {
	ctx := context.Background()
	if err := d.QueryRow(ctx, `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES ('积分店', 'wx0000000000000bench', 'enterprise', 0, 0) RETURNING id`).Scan(&shopID); err != nil {
		b.Fatal(err)
	}
	expires := time.Date(2028, 1, 1, 0, 0, 0, 0, shanghai).UnixMilli()
	series := `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) SELECT i FROM s`
	if d.Engine == db.Postgres {
		series = `SELECT i FROM generate_series(1, CAST(? AS BIGINT)) AS i`
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO members (shop_id, openid, created_at, updated_at) SELECT ?, 'bench-' || i, 0, 0 FROM (` + series + `) AS g`, []any{shopID, n}},
		{`INSERT INTO points_accounts (shop_id, member_id, balance, earned, updated_at)
			SELECT shop_id, id, 1 + id % 500, 1 + id % 500, 0 FROM members WHERE shop_id = ?`, []any{shopID}},
		{`INSERT INTO points_entries (shop_id, member_id, delta, kind, reason, idem_key, remaining, expires_at, created_at)
			SELECT shop_id, member_id, balance, 'reward', '签到', 'checkin:' || member_id, balance, ?, 0 FROM points_accounts WHERE shop_id = ?`,
			[]any{expires, shopID}},
	} {
		if _, err := d.Exec(ctx, st.q, st.args...); err != nil {
			b.Fatal(err)
		}
	}
	if d.Engine == db.Postgres { // statistics, as autovacuum keeps them on a live database
		if _, err := d.Exec(ctx, `ANALYZE members, points_accounts, points_entries`); err != nil {
			b.Fatal(err)
		}
	}
	return shopID
}

// BenchmarkYearlyExpiry expires one lot of each of benchMembers() members:
// the target is under 2 minutes for 1,000,000 on both engines.
//
//	KAIDIAN_TEST_POSTGRES=… go test ./internal/points -run '^$' -bench YearlyExpiry -benchtime 1x -timeout 60m
func BenchmarkYearlyExpiry(b *testing.B) {
	for _, engine := range db.TestEngines() {
		b.Run(string(engine), func(b *testing.B) {
			n := benchMembers()
			for range b.N {
				b.StopTimer()
				d := db.OpenTest(b, engine)
				loadLedger(b, d, n)
				s := NewService(d)
				s.SetClock(func() time.Time { return time.Date(2028, 1, 1, 0, 0, 1, 0, shanghai) })
				b.StartTimer()
				got, err := s.ExpireDue(context.Background())
				if err != nil || got != n {
					b.Fatalf("ExpireDue = %d, %v; want %d", got, err, n)
				}
			}
			b.ReportMetric(float64(n), "members")
		})
	}
}

// BenchmarkBalanceRead reads one member's account among benchMembers()
// members with a lot each: an index lookup, whatever the ledger's size.
func BenchmarkBalanceRead(b *testing.B) {
	for _, engine := range db.TestEngines() {
		b.Run(string(engine), func(b *testing.B) {
			n := benchMembers()
			d := db.OpenTest(b, engine)
			shopID := loadLedger(b, d, n)
			s := NewService(d)
			var first int64
			if err := d.QueryRow(context.Background(), `SELECT MIN(id) FROM members WHERE shop_id = ?`, shopID).Scan(&first); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Account(context.Background(), shopID, first+int64(i%n)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
