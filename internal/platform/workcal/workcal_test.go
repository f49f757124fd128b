package workcal_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/workcal"
)

// office is 09:00–12:00 and 13:30–18:00: 450 working minutes a day.
var office = []workcal.Interval{{From: 13*60 + 30, To: 18 * 60}, {From: 9 * 60, To: 12 * 60}}

func cst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, chinaday.Zone)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) chinaday.Day {
	d, _ := chinaday.Parse(s)
	return d
}

func mustNew(t testing.TB, overrides map[chinaday.Day]bool) *workcal.Calendar {
	c, err := workcal.New(office, overrides)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDeadlinesSkipNightsWeekendsAndHolidaysAndCountMakeUpDays: a P1
// opened on Friday evening 2026-09-18, before the make-up working Sunday
// of National Day (2026-09-20), must be answered within 4 working hours:
// by 14:30 that Sunday, not on Monday. A ticket an hour before the
// National Day holiday waits until 2026-10-08; Saturday 2026-10-10 is
// worked.
func TestDeadlinesSkipNightsWeekendsAndHolidaysAndCountMakeUpDays(t *testing.T) {
	c := mustNew(t, nil)
	cases := []struct {
		from    string
		minutes int
		want    string
	}{
		{"2026-09-18 20:00", 240, "2026-09-20 14:30"}, // Friday night → 调休 Sunday
		{"2026-09-18 10:00", 0, "2026-09-18 10:00"},   // in working time, no delay
		{"2026-09-18 12:10", 0, "2026-09-18 13:30"},   // lunch: the next working minute
		{"2026-09-18 11:00", 60, "2026-09-18 12:00"},  // ends exactly at the interval's end
		{"2026-09-18 11:00", 61, "2026-09-18 13:31"},
		{"2026-09-30 17:00", 60, "2026-09-30 18:00"},
		{"2026-09-30 17:00", 61, "2026-10-08 09:01"},           // 10-01…10-07 off
		{"2026-10-09 17:00", 60 + 450, "2026-10-10 18:00"},     // Saturday 10-10 worked
		{"2026-10-09 17:00", 60 + 450 + 1, "2026-10-12 09:01"}, // then Sunday off
		{"2026-12-07 09:00", 24 * 450, "2027-01-07 18:00"},     // 24 working days: whole days skipped
		{"2026-12-31 18:30", 1, "2027-01-01 09:01"},            // 元旦 2027 is not in the data (staff add it: below)
		{"2026-02-13 17:59", 2, "2026-02-14 09:01"},            // Saturday 02-14 worked (春节)
		{"2026-02-14 18:00", 1, "2026-02-24 09:01"},            // 02-15…02-23 off
	}
	for _, tc := range cases {
		got, err := c.Add(cst(tc.from), tc.minutes)
		if err != nil || !got.Equal(cst(tc.want)) {
			t.Errorf("%s + %d working minutes = %s (%v), want %s", tc.from, tc.minutes, got.In(chinaday.Zone).Format("2006-01-02 15:04"), err, tc.want)
		}
	}
	if !c.InWorkingTime(cst("2026-09-20 10:00")) || c.InWorkingTime(cst("2026-09-19 10:00")) || c.InWorkingTime(cst("2026-09-18 12:30")) {
		t.Error("InWorkingTime: the 调休 Sunday is worked, the Saturday before it and lunch are not")
	}
	if workcal.DataVersion == "" {
		t.Error("no data version")
	}
}

// TestStaffOverridesWin: the next year's schedule (not in the data yet)
// is entered by staff: a Saturday worked, a Monday off.
func TestStaffOverridesWin(t *testing.T) {
	c := mustNew(t, map[chinaday.Day]bool{day("2027-02-06"): true, day("2027-02-08"): false, day("2026-10-01"): true, day("2027-01-01"): false})
	if got, _ := c.Add(cst("2026-12-31 18:30"), 1); !got.Equal(cst("2027-01-04 09:01")) {
		t.Fatalf("with 元旦 2027 entered, Thursday evening + 1 minute = %s", got.In(chinaday.Zone))
	}
	if !c.IsWorkday(day("2027-02-06")) || c.IsWorkday(day("2027-02-08")) || !c.IsWorkday(day("2026-10-01")) {
		t.Fatal("overrides not applied")
	}
	got, _ := c.Add(cst("2027-02-05 18:00"), 450+1)
	if !got.Equal(cst("2027-02-09 09:01")) {
		t.Fatalf("Friday evening + a day and a minute = %s", got.In(chinaday.Zone))
	}
}

// TestBetweenUndoesAdd: for 20,000 random starts and durations, the
// working minutes between a start and its deadline are the duration.
func TestBetweenUndoesAdd(t *testing.T) {
	c := mustNew(t, nil)
	r := rand.New(rand.NewPCG(1, 2))
	base := cst("2024-01-01 00:00")
	for range 20000 {
		from := base.Add(time.Duration(r.IntN(3*365*24*60)) * time.Minute)
		m := r.IntN(20 * 450)
		to, err := c.Add(from, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Between(from, to); got != m {
			t.Fatalf("Between(%s, Add(%d) = %s) = %d", from.In(chinaday.Zone), m, to.In(chinaday.Zone), got)
		}
	}
}

func TestBadWorkingHours(t *testing.T) {
	for _, hours := range [][]workcal.Interval{nil, {{From: 600, To: 600}}, {{From: 540, To: 720}, {From: 700, To: 800}}, {{From: -1, To: 60}}, {{From: 0, To: 24*60 + 1}}} {
		if _, err := workcal.New(hours, nil); err == nil {
			t.Errorf("hours %v accepted", hours)
		}
	}
	c := mustNew(t, nil)
	if _, err := c.Add(cst("2026-01-01 00:00"), -1); err == nil {
		t.Error("negative minutes accepted")
	}
	off := map[chinaday.Day]bool{}
	for d := day("2026-01-01"); d < day("2037-01-01"); d++ {
		off[d] = false
	}
	never := mustNew(t, off)
	if _, err := never.Add(cst("2026-01-01 00:00"), 1); err == nil {
		t.Error("a calendar with no workday for ten years gave a deadline")
	}
}

// BenchmarkDeadlines100k computes the deadlines of 100,000 open tickets
// (first response within 2 to 24 working hours, opened over a year).
func BenchmarkDeadlines100k(b *testing.B) {
	c := mustNew(b, nil)
	r := rand.New(rand.NewPCG(3, 4))
	base := cst("2026-01-01 00:00")
	type ticket struct {
		opened  time.Time
		minutes int
	}
	tickets := make([]ticket, 100000)
	for i := range tickets {
		tickets[i] = ticket{base.Add(time.Duration(r.IntN(365*24*60)) * time.Minute), 60 * (2 + r.IntN(23))}
	}
	b.ResetTimer()
	for range b.N {
		for _, tk := range tickets {
			if _, err := c.Add(tk.opened, tk.minutes); err != nil {
				b.Fatal(err)
			}
		}
	}
}
