package privacy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/privacy"
)

// TestRetentionPrunesWhatIsPastItsPeriod: raw events older than the
// shop's period (180 days by default), messages sent or dead a year ago
// (with their attempts) and attempts older than 90 days go; newer rows,
// pending messages and another shop with a longer period keep theirs; the
// schedule shows each run.
func TestRetentionPrunesWhatIsPastItsPeriod(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
		svc := privacy.NewService(d, nil, nil)
		svc.SetClock(func() time.Time { return now })
		a, b := db.TestShop(t, d, "wx-ret-a"), db.TestShop(t, d, "wx-ret-b")
		ma, mb := db.TestMember(t, d, a, "o-a"), db.TestMember(t, d, b, "o-b")
		if _, err := svc.SetAnalyticsDays(ctx, b, 365); err != nil {
			t.Fatal(err)
		}
		daysAgo := func(n int) int64 { return now.AddDate(0, 0, -n).UnixMilli() }
		for i, age := range []int{200, 200, 10} {
			for _, sm := range [][2]int64{{a, ma}, {b, mb}} {
				exec(t, d, `INSERT INTO analytics_events (shop_id, event_id, member_id, name, source, at, received_at) VALUES (?, ?, ?, 'view', 'client', ?, ?)`,
					sm[0], fmt.Sprint("e", i), sm[1], daysAgo(age), daysAgo(age))
			}
		}
		for i, m := range []struct {
			state string
			age   int
		}{{"sent", 400}, {"dead", 400}, {"pending", 400}, {"sent", 100}} {
			var id int64
			if err := d.QueryRow(ctx, `INSERT INTO messages (shop_id, member_id, kind, ref_id, state, created_at, updated_at) VALUES (?, ?, 'order_paid', ?, ?, ?, ?) RETURNING id`,
				a, ma, i, m.state, daysAgo(m.age), daysAgo(m.age)).Scan(&id); err != nil {
				t.Fatal(err)
			}
			exec(t, d, `INSERT INTO message_attempts (shop_id, message_id, attempt_id, channel, outcome, created_at) VALUES (?, ?, 'x', 'inbox', 'ok', ?)`,
				a, id, daysAgo(m.age))
		}
		if _, err := svc.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			q    string
			args []any
			want int
		}{
			{`SELECT COUNT(*) FROM analytics_events WHERE shop_id = ?`, []any{a}, 1},
			{`SELECT COUNT(*) FROM analytics_events WHERE shop_id = ?`, []any{b}, 3},
			{`SELECT COUNT(*) FROM messages WHERE shop_id = ?`, []any{a}, 2},
			{`SELECT COUNT(*) FROM messages WHERE shop_id = ? AND state = 'pending'`, []any{a}, 1},
			{`SELECT COUNT(*) FROM message_attempts WHERE shop_id = ?`, []any{a}, 0},
		} {
			var n int
			if err := d.QueryRow(ctx, c.q, c.args...).Scan(&n); err != nil || n != c.want {
				t.Fatalf("%s %v: %d, %v; want %d", c.q, c.args, n, err, c.want)
			}
		}
		sched, err := svc.Retention(ctx, a)
		if err != nil || sched.AnalyticsEventsDays != 180 || sched.Items[0].LastRunAt == nil || sched.Items[0].LastDeleted != 2 {
			t.Fatalf("schedule: %+v %v", sched, err)
		}
		if _, err := svc.SetAnalyticsDays(ctx, a, 10); err == nil {
			t.Fatal("10 days accepted")
		}
	})
}

func exec(t *testing.T, d *db.DB, q string, args ...any) {
	t.Helper()
	if _, err := d.Exec(context.Background(), q, args...); err != nil {
		t.Fatal(q, err)
	}
}
