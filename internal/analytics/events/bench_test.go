package events

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// BenchmarkIngestBatch sends batches of 100 events through the batch
// handler (decode, validate, de-duplicate, store) on SQLite, from many
// members at once; events/s is the figure. The rate limits are lifted
// (each batch would otherwise also write the limiter's counters).
func BenchmarkIngestBatch(b *testing.B) {
	d := db.OpenTest(b, db.SQLite)
	svc := NewService(d, nil)
	shopID := db.TestShop(b, d, "wxbench")
	h := &Handlers{Svc: svc}
	var seq atomic.Int64
	start := time.Now()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		member := seq.Add(1_000_000)
		for pb.Next() {
			body := benchBatch(seq.Add(100), time.Now().UnixMilli())
			r := httptest.NewRequest("POST", "/api/v1/events", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r = r.WithContext(auth.WithMember(r.Context(), auth.Member{ID: member, ShopID: shopID}))
			w := httptest.NewRecorder()
			if err := h.ingest(w, r); err != nil || w.Code != http.StatusOK {
				b.Fatalf("%v %d %s", err, w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkIngestBareInsert is the ceiling in the same setting: the same
// rows inserted by the same statement, with no HTTP, JSON or checks.
func BenchmarkIngestBareInsert(b *testing.B) {
	d := db.OpenTest(b, db.SQLite)
	svc := NewService(d, nil)
	shopID := db.TestShop(b, d, "wxbench")
	var seq atomic.Int64
	start := time.Now()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		member := seq.Add(1_000_000)
		for pb.Next() {
			first, now := seq.Add(100), time.Now().UnixMilli()
			rows := make([]row, 100)
			for i := range rows {
				rows[i] = row{eventID: fmt.Sprintf("bench-%d", first+int64(i)), name: "page_view", session: "s1", page: "pages/index",
					props: `{"k":1}`, memberID: member, at: now, clientAt: now}
			}
			if _, err := svc.store(context.Background(), shopID, rows, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

func benchBatch(first, now int64) []byte {
	buf := make([]byte, 0, 100*120)
	buf = append(buf, `{"sent_at":`...)
	buf = strconv.AppendInt(buf, now, 10)
	buf = append(buf, `,"events":[`...)
	for i := range int64(100) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"event_id":"bench-`...)
		buf = strconv.AppendInt(buf, first+i, 10)
		buf = append(buf, `","name":"page_view","time":`...)
		buf = strconv.AppendInt(buf, now, 10)
		buf = append(buf, `,"session_id":"s1","page":"pages/index","props":{"k":1}}`...)
	}
	return append(buf, `]}`...)
}

// benchSize is the generated history: KAIDIAN_BENCH_EVENTS_USERS users
// (default 100,000) with 10 events each on average over 90 days.
func benchSize() (users, events int) {
	users = 100_000
	if n, err := strconv.Atoi(os.Getenv("KAIDIAN_BENCH_EVENTS_USERS")); err == nil && n > 0 {
		users = n
	}
	return users, users * 10
}

var history struct {
	once    sync.Once
	svc     *Service
	shopID  int64
	end     time.Time
	rebuild time.Duration
	err     error
}

// benchHistory generates the history once per run (in SQL: the load is
// not what is measured) and builds the bitmaps from the table, timing it.
func benchHistory(b *testing.B) (*Service, int64, time.Time) {
	history.once.Do(func() {
		d, err := db.Open(context.Background(), b.TempDir()+"/events.db")
		if err == nil {
			_, err = d.Migrate(context.Background())
		}
		if err != nil {
			history.err = err
			return
		}
		history.svc = NewService(d, nil)
		history.shopID = db.TestShop(b, d, "wxhistory")
		history.end = time.Date(2026, 12, 1, 0, 0, 0, 0, china)
		users, events := benchSize()
		started := time.Now()
		if history.err = generateHistory(d, history.shopID, users, events, history.end); history.err != nil {
			return
		}
		b.Logf("generated %d users, %d events in %v", users, events, time.Since(started).Round(time.Second))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		started = time.Now()
		history.err = history.svc.index.Sync(context.Background())
		history.rebuild = time.Since(started)
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := history.svc.index.Stats()
		b.Logf("bitmaps rebuilt from the table in %v: %d bitmaps holding %d member-days, %d KB serialized, heap grew %d KB",
			history.rebuild.Round(time.Millisecond), st.Bitmaps, st.Members, st.Bytes>>10, (int64(after.HeapAlloc)-int64(before.HeapAlloc))>>10)
	})
	if history.err != nil {
		b.Fatal(history.err)
	}
	history.svc.now = func() time.Time { return history.end }
	return history.svc, history.shopID, history.end
}

// generateHistory writes events rows by SQL: event i belongs to member
// m = 1 + (i−1) mod users (10 events each on average); x, a
// multiplicative hash of i, picks its name by share (app_launch 10%,
// page_view 40%, product_view 25%, add_to_cart 12%, checkout_start 8%,
// order_paid 5%) and its day: after the member's first day b, skewed
// towards it (activity decays as retention does), and its time of day.
func generateHistory(d *db.DB, shopID int64, users, events int, end time.Time) error {
	start := end.AddDate(0, 0, -90).UnixMilli()
	const chunk = 500_000
	for from := 0; from < events; from += chunk {
		n := min(chunk, events-from)
		_, err := d.Exec(context.Background(), `
			WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?),
			e AS (SELECT i, 1 + (i - 1) % ? AS m, i * 2654435761 % 4294967291 AS x FROM s),
			f AS (SELECT i, m, x % 100 AS p, (x / 100) % 1000 AS r, m * 7919 % 90 AS b, (x / 100000) % 86400000 AS tod FROM e)
			INSERT INTO analytics_events (shop_id, event_id, member_id, name, source, at, received_at)
			SELECT ?, 'h' || i, m,
				CASE WHEN p < 10 THEN 'app_launch' WHEN p < 50 THEN 'page_view' WHEN p < 75 THEN 'product_view'
					WHEN p < 87 THEN 'add_to_cart' WHEN p < 95 THEN 'checkout_start' ELSE 'order_paid' END,
				'server', t, t
			FROM (SELECT i, m, p, ? + (b + (r * r / 11112) * (89 - b) / 89) * 86400000 + tod AS t FROM f) AS x`,
			from+1, from+n, users, shopID, start)
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkRetentionGrid30 answers a D0–D30 daily retention grid of 30
// cohorts (app_launch → page_view) from the bitmaps.
func BenchmarkRetentionGrid30(b *testing.B) {
	svc, shopID, end := benchHistory(b)
	q := RetentionQuery{CohortEvent: "app_launch", ReturnEvent: "page_view", Period: ByDay,
		From: end.AddDate(0, 0, -60).Format(time.DateOnly), To: end.AddDate(0, 0, -31).Format(time.DateOnly), Periods: 30}
	if g, err := svc.Retention(context.Background(), shopID, q); err == nil {
		c := g.Cohorts[0]
		b.Logf("cohort %s: %d members, D1 %d, D7 %d, D30 %d", c.Start, c.Size, *c.Counts[1], *c.Counts[7], *c.Counts[30])
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.Retention(context.Background(), shopID, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFunnel4 answers a 4-step funnel (product_view → add_to_cart →
// checkout_start → order_paid, 1-day window, 30 days of entry): the
// bitmaps give the entrants, their rows give the times.
func BenchmarkFunnel4(b *testing.B) {
	svc, shopID, end := benchHistory(b)
	q := FunnelQuery{Steps: []string{"product_view", "add_to_cart", "checkout_start", "order_paid"}, WindowSeconds: 86400,
		From: end.AddDate(0, 0, -30).Format(time.DateOnly), To: end.AddDate(0, 0, -1).Format(time.DateOnly)}
	if f, err := svc.Funnel(context.Background(), shopID, q); err == nil {
		b.Logf("funnel: entered %d, reached %d, %d, %d", f.Entered, f.Steps[1].Reached, f.Steps[2].Reached, f.Steps[3].Reached)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.Funnel(context.Background(), shopID, q); err != nil {
			b.Fatal(err)
		}
	}
}

// sqlRetention is the same daily grid by plain SQL (no bitmaps): counts
// by cohort day and k, for the ratio in the benchmark's report. The
// CROSS JOIN keeps SQLite's order: the returns outside, the cohort inside
// through the automatic index SQLite builds on it.
func sqlRetention(ctx context.Context, d *db.DB, shopID int64, q RetentionQuery) (map[[2]int64]int64, error) {
	spec, err := q.check()
	if err != nil {
		return nil, err
	}
	last := spec.to + Day(spec.periods)
	rows, err := d.Query(ctx, `
		WITH f AS (SELECT member_id, MIN((at + 28800000) / 86400000) AS d FROM analytics_events
				WHERE shop_id = ? AND name = ? AND member_id > 0 GROUP BY member_id),
			c AS (SELECT member_id, d FROM f WHERE d BETWEEN ? AND ?),
			r AS (SELECT DISTINCT member_id, (at + 28800000) / 86400000 AS d FROM analytics_events
				WHERE shop_id = ? AND name = ? AND at >= ? AND at < ?)
		SELECT c.d, r.d - c.d, COUNT(*) FROM r CROSS JOIN c ON c.member_id = r.member_id AND r.d BETWEEN c.d AND c.d + ?
		GROUP BY c.d, r.d - c.d`,
		shopID, spec.cohort, int64(spec.from), int64(spec.to), shopID, spec.ret, spec.from.Start(), (last + 1).Start(), spec.periods)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]int64]int64{}
	for rows.Next() {
		var day, k, n int64
		if err := rows.Scan(&day, &k, &n); err != nil {
			return nil, err
		}
		out[[2]int64{day, k}] = n
	}
	return out, rows.Err()
}

// BenchmarkRetentionGrid30SQL is BenchmarkRetentionGrid30's question by
// plain SQL on the same table; its answer is checked against the bitmaps'.
func BenchmarkRetentionGrid30SQL(b *testing.B) {
	svc, shopID, end := benchHistory(b)
	q := RetentionQuery{CohortEvent: "app_launch", ReturnEvent: "page_view", Period: ByDay,
		From: end.AddDate(0, 0, -60).Format(time.DateOnly), To: end.AddDate(0, 0, -31).Format(time.DateOnly), Periods: 30}
	grid, err := svc.Retention(context.Background(), shopID, q)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		counts, err := sqlRetention(context.Background(), svc.db, shopID, q)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, c := range grid.Cohorts {
			t, _ := time.ParseInLocation(time.DateOnly, c.Start, china)
			day := int64(DayOf(t.UnixMilli()))
			for k, n := range c.Counts {
				if n != nil && int64(*n) != counts[[2]int64{day, int64(k)}] {
					b.Fatalf("cohort %s D%d: bitmaps %d, SQL %d", c.Start, k, *n, counts[[2]int64{day, int64(k)}])
				}
			}
		}
		b.StartTimer()
	}
}
