package events

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// genEv is a stored event as the reference implementations read it.
type genEv struct {
	member, id, at int64
	name           string
}

var genNames = []string{"page_view", "product_view", "add_to_cart", "checkout_start", "order_paid", "signup", "tap"}

var genSeq atomic.Int64

// insertEvents stores evs in shopID as server rows with the given times.
func insertEvents(t testing.TB, d *db.DB, shopID int64, evs []genEv) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < len(evs); start += 200 {
		part := evs[start:min(start+200, len(evs))]
		var sb strings.Builder
		args := make([]any, 0, len(part)*6)
		sb.WriteString(`INSERT INTO analytics_events (shop_id, event_id, member_id, name, source, at, received_at) VALUES `)
		for i, e := range part {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(`(?, ?, ?, ?, 'server', ?, ?)`)
			args = append(args, shopID, fmt.Sprintf("gen-%d", genSeq.Add(1)), e.member, e.name, e.at, e.at)
		}
		if _, err := d.Exec(ctx, sb.String(), args...); err != nil {
			t.Fatal(err)
		}
	}
}

// loadEvents reads back every member event of shopID with its id.
func loadEvents(t testing.TB, d *db.DB, shopID int64) []genEv {
	t.Helper()
	out, err := db.All(context.Background(), d, func(r db.Scanner) (genEv, error) {
		var e genEv
		return e, r.Scan(&e.member, &e.id, &e.at, &e.name)
	}, `SELECT member_id, id, at, name FROM analytics_events WHERE shop_id = ? AND member_id > 0`, shopID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// generate makes random events of members [first, first+members) over
// the days before end: minutes apart, some at the same millisecond.
func generate(r *rand.Rand, first, members int64, days int, end time.Time) []genEv {
	var out []genEv
	span := int64(days) * 24 * 60
	for m := first; m < first+members; m++ {
		base := end.UnixMilli() - r.Int64N(span)*60_000
		for range r.IntN(14) {
			at := base + r.Int64N(3*24*60)*60_000 - r.Int64N(2*24*60)*60_000
			if at >= end.UnixMilli() {
				at = end.UnixMilli() - 1
			}
			out = append(out, genEv{member: m, at: at, name: genNames[r.IntN(len(genNames))]})
			if r.IntN(6) == 0 { // a tie
				out = append(out, genEv{member: m, at: at, name: genNames[r.IntN(len(genNames))]})
			}
		}
	}
	return out
}

// refFunnel is the slow, obviously correct funnel: for every entry of
// every member, each next step is searched over all the member's events.
func refFunnel(all []genEv, q FunnelQuery, now int64) Funnel {
	from, _ := time.ParseInLocation(time.DateOnly, q.From, china)
	to, _ := time.ParseInLocation(time.DateOnly, q.To, china)
	entryFrom, entryTo := from.UnixMilli(), to.AddDate(0, 0, 1).UnixMilli()
	window := q.WindowSeconds * 1000
	n := len(q.Steps)
	before := func(a, b genEv) bool { return a.at < b.at || a.at == b.at && a.id < b.id }
	byMember := map[int64][]genEv{}
	for _, e := range all {
		byMember[e.member] = append(byMember[e.member], e)
	}
	type path struct {
		reached int
		times   []int64
		open    bool
	}
	var paths []path
	for _, evs := range byMember {
		slices.SortFunc(evs, func(a, b genEv) int {
			if before(a, b) {
				return -1
			}
			return 1
		})
		best, found := path{}, false
		for _, e0 := range evs {
			if e0.name != q.Steps[0] || e0.at < entryFrom || e0.at >= entryTo {
				continue
			}
			end := e0.at + window
			p := path{reached: 1, times: []int64{e0.at}}
			switch q.Order {
			case Any:
				for k := 1; k < n; k++ {
					first := int64(-1)
					for _, e := range evs {
						if e.name == q.Steps[k] && before(e0, e) && e.at <= end && (first < 0 || e.at < first) {
							first = e.at
						}
					}
					if first < 0 {
						break
					}
					p.times = append(p.times, max(first, p.times[k-1]))
					p.reached++
				}
			default:
				prev := e0
				for k := 1; k < n; k++ {
					var next *genEv
					for i := range evs {
						e := evs[i]
						if !before(prev, e) || e.at > end {
							continue
						}
						if q.Order == Strict {
							if next == nil || before(e, *next) { // the very next event, whatever its name
								next = &evs[i]
							}
						} else if e.name == q.Steps[k] && (next == nil || before(e, *next)) {
							next = &evs[i]
						}
					}
					if next == nil || next.name != q.Steps[k] {
						break
					}
					p.times = append(p.times, next.at)
					p.reached++
					prev = *next
				}
			}
			p.open = p.reached < n && end > now
			if !found || p.reached > best.reached {
				best, found = p, true
			}
		}
		if found {
			paths = append(paths, best)
		}
	}
	f := Funnel{Entered: len(paths), Steps: make([]FunnelStep, n)}
	for k := range f.Steps {
		st := &f.Steps[k]
		st.Name = q.Steps[k]
		var deltas []int64
		for _, p := range paths {
			if p.reached > k {
				st.Reached++
				if k > 0 {
					deltas = append(deltas, p.times[k]-p.times[k-1])
				}
			}
			if k > 0 && p.reached == k {
				if p.open {
					st.InProgress++
				} else {
					st.DroppedOff++
				}
			}
		}
		if f.Entered > 0 {
			st.Conversion = float64(st.Reached) / float64(f.Entered)
		}
		if k == 0 {
			st.FromPrevious = 0
			if f.Entered > 0 {
				st.FromPrevious = 1
			}
			continue
		}
		if prev := f.Steps[k-1].Reached; prev > 0 {
			st.FromPrevious = float64(st.Reached) / float64(prev)
		}
		if len(deltas) > 0 {
			slices.Sort(deltas)
			var m float64
			if len(deltas)%2 == 1 {
				m = float64(deltas[len(deltas)/2]) / 1000
			} else {
				m = float64(deltas[len(deltas)/2-1]+deltas[len(deltas)/2]) / 2000
			}
			st.MedianSeconds = &m
		}
	}
	return f
}

// refRetention is the slow retention grid: each member's first day of
// the cohort event, then a scan of all events per cell.
func refRetention(all []genEv, q RetentionQuery, today Day) Retention {
	fromT, _ := time.ParseInLocation(time.DateOnly, q.From, china)
	toT, _ := time.ParseInLocation(time.DateOnly, q.To, china)
	from, to := DayOf(fromT.UnixMilli()), DayOf(toT.UnixMilli())
	length := 1
	if q.Period == ByWeek {
		length = 7
	}
	first := map[int64]Day{}
	for _, e := range all {
		if d, ok := first[e.member]; e.name == q.CohortEvent && (!ok || DayOf(e.at) < d) {
			first[e.member] = DayOf(e.at)
		}
	}
	out := Retention{Period: q.Period, Cohorts: []Cohort{}}
	for start := from; start <= to; start += Day(length) {
		cohort := map[int64]bool{}
		for m, d := range first {
			if d >= start && d < start+Day(length) && d <= to {
				cohort[m] = true
			}
		}
		c := Cohort{Start: time.UnixMilli(start.Start()).In(china).Format(time.DateOnly), Size: len(cohort),
			Counts: make([]*int, q.Periods+1), Rates: make([]*float64, q.Periods+1)}
		for k := 0; k <= q.Periods; k++ {
			pStart := start + Day(k*length)
			pEnd := pStart + Day(length) - 1
			if pEnd >= today {
				continue
			}
			back := map[int64]bool{}
			for _, e := range all {
				if d := DayOf(e.at); cohort[e.member] && e.name == q.ReturnEvent && d >= pStart && d <= pEnd {
					back[e.member] = true
				}
			}
			n, r := len(back), 0.0
			if len(cohort) > 0 {
				r = float64(n) / float64(len(cohort))
			}
			c.Counts[k], c.Rates[k] = &n, &r
		}
		out.Cohorts = append(out.Cohorts, c)
	}
	return out
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func randomSteps(r *rand.Rand, n int, distinct bool) []string {
	if distinct {
		p := r.Perm(len(genNames))
		out := make([]string, n)
		for i := range out {
			out[i] = genNames[p[i]]
		}
		return out
	}
	out := make([]string, n)
	for i := range out {
		out[i] = genNames[r.IntN(len(genNames))]
	}
	return out
}

// TestFunnelsAndRetentionEqualTheReference: random histories in two
// shops; shop A's funnels (every order, random steps, windows and entry
// ranges) and retention grids from the bitmaps equal the slow reference
// over shop A's rows; shop B's rows change nothing of A's answers. The
// index is built from scratch, then kept up by Sync as more rows come.
func TestFunnelsAndRetentionEqualTheReference(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		r := rand.New(rand.NewPCG(16, 0))
		end := f.clock.now()
		insertEvents(t, d, f.shopA, generate(r, 1000, 60, 10, end))
		insertEvents(t, d, f.shopB, generate(r, 1000, 60, 10, end)) // the same member ids, another shop
		if err := f.svc.index.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		check := func(round int) {
			all := loadEvents(t, d, f.shopA)
			for i := range 40 {
				n := 2 + r.IntN(3)
				q := FunnelQuery{Order: []string{Ordered, Strict, Any}[i%3], WindowSeconds: []int64{600, 6 * 3600, 2 * 86400}[r.IntN(3)],
					From: end.AddDate(0, 0, -8+r.IntN(5)).Format(time.DateOnly)}
				q.To = end.AddDate(0, 0, -r.IntN(4)).Format(time.DateOnly)
				q.Steps = randomSteps(r, n, q.Order == Any)
				got, err := f.svc.Funnel(ctx, f.shopA, q)
				if err != nil {
					t.Fatal(err)
				}
				same(t, fmt.Sprintf("round %d funnel %+v", round, q), got, refFunnel(all, q, f.clock.now().UnixMilli()))
			}
			today := DayOf(f.clock.now().UnixMilli())
			for i := range 10 {
				q := RetentionQuery{CohortEvent: genNames[r.IntN(len(genNames))], ReturnEvent: genNames[r.IntN(len(genNames))],
					Period: []string{ByDay, ByWeek}[i%2], From: end.AddDate(0, 0, -9).Format(time.DateOnly),
					To: end.AddDate(0, 0, -r.IntN(3)).Format(time.DateOnly), Periods: 1 + r.IntN(9)}
				got, err := f.svc.Retention(ctx, f.shopA, q)
				if err != nil {
					t.Fatal(err)
				}
				same(t, fmt.Sprintf("round %d retention %+v", round, q), got, refRetention(all, q, today))
			}
		}
		check(1)
		// More rows arrive (other members and the same): the polled index follows.
		insertEvents(t, d, f.shopA, generate(r, 1040, 40, 3, end))
		if err := f.svc.index.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		check(2)
		// A restart: a fresh index from the table answers the same.
		f.svc.index = NewIndex(d)
		if err := f.svc.index.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		check(3)
	})
}

// TestFunnelCountsOpenWindowsAsInProgressAndRangeLimitsEntryOnly: the
// PostHog complaints #33605 and #44204, as cases.
func TestFunnelCountsOpenWindowsAsInProgressAndRangeLimitsEntryOnly(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f, ctx := newFixture(t, d), context.Background()
		now := f.clock.now()
		ms := func(t time.Time) int64 { return t.UnixMilli() }
		last := now.AddDate(0, 0, -2) // the range's last day
		insertEvents(t, d, f.shopA, []genEv{
			// 1 enters on the range's last day, converts the next day (within the window): converted.
			{member: 1, name: "product_view", at: ms(last.Add(-time.Hour))},
			{member: 1, name: "order_paid", at: ms(last.Add(20 * time.Hour))},
			// 2 enters an hour ago with a 1-day window, not yet paid: in progress.
			{member: 2, name: "product_view", at: ms(now.Add(-time.Hour))},
			// 3 entered 3 days ago, never paid: dropped off.
			{member: 3, name: "product_view", at: ms(now.AddDate(0, 0, -3))},
			// 4 enters before the range: not counted at all.
			{member: 4, name: "product_view", at: ms(now.AddDate(0, 0, -9))},
			{member: 4, name: "order_paid", at: ms(now.AddDate(0, 0, -9).Add(time.Hour))},
		})
		if err := f.svc.index.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		q := FunnelQuery{Steps: []string{"product_view", "order_paid"}, WindowSeconds: 86400,
			From: now.AddDate(0, 0, -5).Format(time.DateOnly), To: now.Format(time.DateOnly)}
		q2 := q
		q2.To = last.Format(time.DateOnly)
		got, err := f.svc.Funnel(ctx, f.shopA, q2)
		if err != nil {
			t.Fatal(err)
		}
		if got.Entered != 2 || got.Steps[1].Reached != 1 || got.Steps[1].DroppedOff != 1 || got.Steps[1].InProgress != 0 {
			t.Fatalf("range ending %s: %+v", q2.To, got)
		}
		if got, err = f.svc.Funnel(ctx, f.shopA, q); err != nil {
			t.Fatal(err)
		}
		if got.Entered != 3 || got.Steps[1].Reached != 1 || got.Steps[1].InProgress != 1 || got.Steps[1].DroppedOff != 1 {
			t.Fatalf("range to today: %+v", got.Steps[1])
		}
		if m := got.Steps[1].MedianSeconds; m == nil || *m != 21*3600 {
			t.Fatalf("median %v, want 21 h", m)
		}
	})
}

// TestFunnelAndRetentionRefuseBadQueries: stable 400 codes.
func TestFunnelAndRetentionRefuseBadQueries(t *testing.T) {
	d := db.OpenTest(t, db.SQLite)
	f, ctx := newFixture(t, d), context.Background()
	day := f.clock.now().Format(time.DateOnly)
	ok := FunnelQuery{Steps: []string{"a", "b"}, WindowSeconds: 60, From: day, To: day}
	for code, q := range map[string][]FunnelQuery{
		"invalid_steps":   {{WindowSeconds: 60, From: day, To: day}, {Steps: []string{"a"}, WindowSeconds: 60, From: day, To: day}, {Steps: make([]string, 30), WindowSeconds: 60, From: day, To: day}, {Steps: []string{"a", "B B"}, WindowSeconds: 60, From: day, To: day}},
		"invalid_window":  {{Steps: ok.Steps, WindowSeconds: -1, From: day, To: day}, {Steps: ok.Steps, From: day, To: day}, {Steps: ok.Steps, WindowSeconds: 91 * 86400, From: day, To: day}},
		"invalid_order":   {{Steps: ok.Steps, WindowSeconds: 60, From: day, To: day, Order: "random"}},
		"duplicate_steps": {{Steps: []string{"a", "a"}, WindowSeconds: 60, From: day, To: day, Order: Any}},
		"invalid_range":   {{Steps: ok.Steps, WindowSeconds: 60, From: "2026-13-01", To: day}, {Steps: ok.Steps, WindowSeconds: 60, From: day, To: "2020-01-01"}, {Steps: ok.Steps, WindowSeconds: 60, From: "2020-01-01", To: day}},
	} {
		for _, bad := range q {
			if _, err := f.svc.Funnel(ctx, f.shopA, bad); !errs.Is(err, code) || errs.As(err).Kind != errs.Invalid {
				t.Errorf("%+v: %v, want %s", bad, err, code)
			}
		}
	}
	if _, err := f.svc.Funnel(ctx, f.shopA, ok); err != nil {
		t.Fatal(err)
	}
	okr := RetentionQuery{CohortEvent: "signup", ReturnEvent: "page_view", From: day, To: day, Periods: 7}
	for code, q := range map[string]RetentionQuery{
		"invalid_event_name": {ReturnEvent: "x", From: day, To: day, Periods: 7},
		"invalid_period":     {CohortEvent: "a", ReturnEvent: "b", Period: "month", From: day, To: day, Periods: 7},
		"invalid_periods":    {CohortEvent: "a", ReturnEvent: "b", From: day, To: day, Periods: 0},
		"invalid_range":      {CohortEvent: "a", ReturnEvent: "b", From: day, To: "2020-01-01", Periods: 7},
	} {
		if _, err := f.svc.Retention(ctx, f.shopA, q); !errs.Is(err, code) {
			t.Errorf("%+v: %v, want %s", q, err, code)
		}
	}
	if g, err := f.svc.Retention(ctx, f.shopA, okr); err != nil || len(g.Cohorts) != 1 || g.Cohorts[0].Counts[0] != nil {
		t.Fatalf("today's cohort: %+v %v (cells of today are null)", g, err)
	}
}
