package content

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// BenchmarkCanAccess checks lessons of a shop with 50 courses of 20
// lessons, packages and plans, for 10,000 members holding a few
// entitlements each, on all cores (the cache warm, as on a busy server).
// The figure to read is checks/s.
func BenchmarkCanAccess(b *testing.B) {
	d := db.OpenTest(b, db.SQLite)
	f := setup(b, d)
	ctx := context.Background()
	var lessons []int64
	var courses []int64
	for i := 0; i < 50; i++ {
		c := f.course(b, f.shopA, 1000)
		courses = append(courses, c.ID)
		for j := 0; j < 20; j++ {
			lessons = append(lessons, f.lesson(b, f.shopA, c.ID, j == 0).ID)
		}
	}
	pkg := ok[Package](b)(f.svc.SavePackage(ctx, f.shopA, 0, PackageInput{Title: "p", CourseIDs: courses[:10], Status: "published"}))
	plan := ok[Plan](b)(f.svc.SavePlan(ctx, f.shopA, 0, PlanInput{Name: "m", Period: "month", CourseIDs: courses[10:30], Status: "published"}))
	const members = 10_000
	ids := make([]int64, members)
	for i := range ids {
		ids[i] = db.TestMember(b, d, f.shopA, fmt.Sprintf("bench%d", i))
		switch i % 4 {
		case 0:
			f.grant(b, f.shopA, ids[i], KindCourse, courses[i%50], fmt.Sprintf("c%d", i), 30)
		case 1:
			f.grant(b, f.shopA, ids[i], KindPackage, pkg.ID, fmt.Sprintf("p%d", i), 0)
		case 2:
			f.grant(b, f.shopA, ids[i], KindPlan, plan.ID, fmt.Sprintf("m%d", i), 30)
			f.grant(b, f.shopA, ids[i], KindCourse, courses[40], fmt.Sprintf("c%d", i), 0)
		}
	}
	f.svc.SetClock(time.Now) // the real clock's cost is part of a check
	time.Sleep(tombstoneFor) // the grants just made keep their members uncached meanwhile
	for _, m := range ids {  // warm the cache
		if _, err := f.svc.CanAccess(ctx, f.shopA, m, lessons[0]); err != nil {
			b.Fatal(err)
		}
	}
	var allowed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		n := int64(0)
		for pb.Next() {
			a, err := f.svc.CanAccess(ctx, f.shopA, ids[r.IntN(members)], lessons[r.IntN(len(lessons))])
			if err != nil {
				b.Error(err)
				return
			}
			if a.Allowed {
				n++
			}
		}
		allowed.Add(n)
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "checks/s")
	if b.N > 1000 && allowed.Load() == 0 {
		b.Fatal("nothing allowed")
	}
}

// BenchmarkReminders runs the daily reminders over KAIDIAN_BENCH_MEMBERSHIPS
// (default 1,000,000) memberships: 100,000 members × 10 plans, ends spread
// over 60 days, so a run sends about 1/15 of them (D-7, D-3, D-1, D+1).
// Run with -benchtime=1x; PostgreSQL with KAIDIAN_TEST_POSTGRES and
// -run=^$ -bench=Reminders/postgres.
func BenchmarkReminders(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("KAIDIAN_BENCH_MEMBERSHIPS")); err == nil && v > 0 {
		n = v
	}
	for _, engine := range db.TestEngines() {
		b.Run(string(engine), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				d := db.OpenTest(b, engine)
				f := setup(b, d)
				f.svc.SetClock(time.Now)
				loadMemberships(b, d, f.shopA, n)
				var sent atomic.Int64
				f.svc.OnReminder = func(context.Context, *db.Tx, Reminder) error { sent.Add(1); return nil }
				b.StartTimer()
				start := time.Now()
				got, err := f.svc.SendReminders(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/run")
				b.ReportMetric(float64(got), "reminders")
				if int64(got) != sent.Load() || got < n/20 {
					b.Fatalf("sent %d (hook %d) of %d", got, sent.Load(), n)
				}
				d.Close()
			}
		})
	}
}

// loadMemberships writes n plan entitlements of 100,000 members (at most)
// with SQL generating the rows.
func loadMemberships(b *testing.B, d *db.DB, shopID int64, n int) {
	ctx := context.Background()
	members := min(n, 100_000)
	plans := (n + members - 1) / members
	gen := func(limit int) string {
		if d.Engine == db.Postgres {
			return fmt.Sprintf(`SELECT i FROM generate_series(1, %d) AS g(i)`, limit)
		}
		return fmt.Sprintf(`SELECT value AS i FROM generate_series(1, %d)`, limit)
	}
	if d.Engine == db.SQLite {
		gen = func(limit int) string {
			return fmt.Sprintf(`SELECT i FROM (WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %d) SELECT i FROM g)`, limit)
		}
	}
	exec := func(q string, args ...any) {
		if _, err := d.Exec(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	exec(`INSERT INTO members (shop_id, openid, created_at, updated_at) SELECT ?, 'bench' || i, 0, 0 FROM (`+gen(members)+`) AS s`, shopID)
	var first int64
	if err := d.QueryRow(ctx, `SELECT MIN(id) FROM members WHERE shop_id = ? AND openid LIKE 'bench%'`, shopID).Scan(&first); err != nil {
		b.Fatal(err)
	}
	exec(`INSERT INTO content_plans (shop_id, name, period, days, status, created_at, updated_at) SELECT ?, 'plan' || i, 'month', 30, 'published', 0, 0 FROM (`+gen(plans)+`) AS s`, shopID)
	var firstPlan int64
	if err := d.QueryRow(ctx, `SELECT MIN(id) FROM content_plans WHERE shop_id = ?`, shopID).Scan(&firstPlan); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMilli()
	span := int64(60 * 24 * 3600 * 1000) // ends from now-7 days over 60 days
	exec(`INSERT INTO content_entitlements (shop_id, member_id, target_kind, target_id, source, source_ref, starts_at, ends_at, created_at)
		SELECT ?, CAST(? AS BIGINT) + (i % ?), 'plan', CAST(? AS BIGINT) + (i / ?), 'purchase', 'bench:' || i, e - 2592000000, e, 0
		FROM (SELECT i - 1 AS i, CAST(? AS BIGINT) + ((i - 1) * CAST(? AS BIGINT)) / ? AS e FROM (`+gen(n)+`) AS s) AS t`,
		shopID, first, members, firstPlan, members, now-7*24*3600*1000, span, n)
	if d.Engine == db.Postgres {
		exec(`ANALYZE content_entitlements`)
	} else {
		exec(`ANALYZE`)
	}
}

// BenchmarkLessonEndpoint serves GET /api/v1/content/lessons/{id} (an
// article with access: the check, the cached nodes, JSON) over real TCP
// connections, and in the same run a bare net/http handler answering a
// fixed JSON body: the lesson route's share of that ceiling is reported.
// The member guard is a stand-in that reads the member from a header (the
// server's session guard is not part of this package).
func BenchmarkLessonEndpoint(b *testing.B) {
	d := db.OpenTest(b, db.SQLite)
	f := setup(b, d)
	c := f.course(b, f.shopA, 1000)
	l := ok[Lesson](b)(f.svc.CreateLesson(context.Background(), f.shopA, c.ID, LessonInput{Kind: "article", Title: "第一课",
		Body: strings.Repeat("<p>正文<b>加粗</b></p>", 20), Status: "published"}))
	f.grant(b, f.shopA, f.a1, KindCourse, c.ID, "o1", 0)
	f.svc.SetClock(time.Now)
	mux := http.NewServeMux()
	api := httpx.NewAPI(mux, httpx.Guards{Member: func(r *http.Request) (*http.Request, error) {
		return r.WithContext(auth.WithMember(r.Context(), auth.Member{ID: f.a1, ShopID: f.shopA})), nil
	}})
	(&Handlers{Svc: f.svc}).Routes(api)
	lesson := httptest.NewServer(mux)
	defer lesson.Close()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer bare.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	run := func(url string) float64 {
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		return float64(b.N) / time.Since(start).Seconds()
	}
	b.SetParallelism(16)
	b.ResetTimer()
	// Interleaved, twice each, the better of each kept (the first run also
	// opens the connections).
	var ceiling, got float64
	for range 2 {
		ceiling = max(ceiling, run(bare.URL))
		got = max(got, run(fmt.Sprintf("%s/api/v1/content/lessons/%d", lesson.URL, l.ID)))
	}
	b.ReportMetric(ceiling, "bare-req/s")
	b.ReportMetric(got, "lesson-req/s")
	b.ReportMetric(100*got/ceiling, "%-of-bare")
}
