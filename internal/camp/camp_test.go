package camp

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

var text = CheckinInput{Text: "今天六点起床了"}

// TestDayOpensAtShanghaiMidnight: day 1 opens at 00:00 Asia/Shanghai of the
// start date (16:00 UTC the day before); a check-in for a day not open yet
// is refused and writes nothing.
func TestDayOpensAtShanghaiMidnight(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c := f.camp(t, f.shopA, input("2026-12-08", 7))
		f.join(t, f.shopA, f.a1, c.ID)
		f.clock.set(cst(2026, 12, 7, 23, 59, 59))
		_, err := f.checkIn(f.shopA, f.a1, c.ID, 1, text)
		wantCode(t, err, "day_not_open")
		if n := count(t, d, `SELECT COUNT(*) FROM camp_checkins`); n != 0 {
			t.Fatalf("a refused check-in wrote %d rows", n)
		}
		v := must[MyCamp](t)(f.svc.Mine(ctx, f.shopA, f.a1, c.ID))
		if v.DaysOpen != 0 || v.Days[0].Status != DayLocked || v.Days[0].Body != "" {
			t.Fatalf("before the start: %+v", v.Days[0])
		}
		// 00:00 on the 8th in Shanghai is 16:00 on the 7th in UTC.
		f.clock.set(time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC))
		res := must[CheckinResult](t)(f.checkIn(f.shopA, f.a1, c.ID, 1, text))
		if res.AlreadyCheckedIn || res.Checkin.MadeUp || res.Checkin.Status != Published || res.Checkin.Day != 1 {
			t.Fatalf("day 1 at midnight: %+v", res)
		}
		_, err = f.checkIn(f.shopA, f.a1, c.ID, 2, text)
		wantCode(t, err, "day_not_open")
		_, err = f.checkIn(f.shopA, f.a1, c.ID, 8, text)
		wantCode(t, err, "day_out_of_range")
		// The next Shanghai day: day 2 opens; day 1 checked in stays done.
		f.clock.set(cst(2026, 12, 9, 0, 0, 1))
		v = must[MyCamp](t)(f.svc.Mine(ctx, f.shopA, f.a1, c.ID))
		if v.DaysOpen != 2 || v.Days[0].Status != DayDone || v.Days[1].Status != DayOpen || v.Days[2].Status != DayLocked || v.Streak != 1 {
			t.Fatalf("day 2: %+v", v)
		}
		must[CheckinResult](t)(f.checkIn(f.shopA, f.a1, c.ID, 2, text))
		v = must[MyCamp](t)(f.svc.Mine(ctx, f.shopA, f.a1, c.ID))
		if v.Streak != 2 || v.DaysDone != 2 {
			t.Fatalf("after day 2: streak %d done %d", v.Streak, v.DaysDone)
		}
		// Day 4 with day 3 missed: missed, and the streak is broken.
		f.clock.set(cst(2026, 12, 11, 8, 0, 0))
		v = must[MyCamp](t)(f.svc.Mine(ctx, f.shopA, f.a1, c.ID))
		if v.Days[2].Status != DayMissed || v.Days[3].Status != DayOpen || v.Streak != 0 {
			t.Fatalf("day 4: %+v streak %d", v.Days[:4], v.Streak)
		}
	})
}

// TestOneCheckinPerDayUnderConcurrency: many simultaneous check-ins of one
// learner for one day write one row; every answer is that check-in.
func TestOneCheckinPerDayUnderConcurrency(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		c := f.camp(t, f.shopA, input("2026-12-07", 5))
		f.join(t, f.shopA, f.a1, c.ID)
		const n = 24
		results := make([]CheckinResult, n)
		errors := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errors[i] = f.checkIn(f.shopA, f.a1, c.ID, 1, CheckinInput{Text: fmt.Sprintf("第%d次", i)})
			}()
		}
		wg.Wait()
		fresh := 0
		for i := range n {
			if errors[i] != nil {
				t.Fatal(errors[i])
			}
			if !results[i].AlreadyCheckedIn {
				fresh++
			}
			if results[i].Checkin.ID != results[0].Checkin.ID || results[i].Checkin.Text != results[0].Checkin.Text {
				t.Fatalf("answers differ: %+v vs %+v", results[i], results[0])
			}
		}
		if fresh != 1 {
			t.Fatalf("%d check-ins were new, want 1", fresh)
		}
		if rows := count(t, d, `SELECT COUNT(*) FROM camp_checkins WHERE member_id = ?`, f.a1); rows != 1 {
			t.Fatalf("%d rows", rows)
		}
		if done := count(t, d, `SELECT days_done FROM camp_enrolments WHERE member_id = ?`, f.a1); done != 1 {
			t.Fatalf("days_done %d", done)
		}
	})
}

// TestMakeupAllowanceNeverNegative: a learner with 3 make-ups fills 9
// missed days at once: exactly 3 succeed and the allowance ends at 0.
func TestMakeupAllowanceNeverNegative(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		in := input("2026-12-01", 10)
		in.Makeups = 3
		c := f.camp(t, f.shopA, in)
		if e := f.join(t, f.shopA, f.a1, c.ID); e.MakeupsLeft != 3 {
			t.Fatalf("joined with %d make-ups", e.MakeupsLeft)
		}
		f.clock.set(cst(2026, 12, 10, 12, 0, 0)) // day 10: days 1-9 missed
		var wg sync.WaitGroup
		errors := make([]error, 9)
		for i := range 9 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errors[i] = f.checkIn(f.shopA, f.a1, c.ID, i+1, text)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errors {
			if err == nil {
				ok++
			} else if !errs.Is(err, "no_makeups_left") {
				t.Fatal(err)
			}
		}
		if ok != 3 {
			t.Fatalf("%d make-ups succeeded, want 3", ok)
		}
		v := must[MyCamp](t)(f.svc.Mine(ctx, f.shopA, f.a1, c.ID))
		if v.MakeupsLeft != 0 || v.DaysDone != 3 {
			t.Fatalf("after the race: left %d done %d", v.MakeupsLeft, v.DaysDone)
		}
		if rows := count(t, d, `SELECT COUNT(*) FROM camp_checkins WHERE made_up = TRUE`); rows != 3 {
			t.Fatalf("%d made-up rows", rows)
		}
		// Today's check-in needs no make-up.
		res := must[CheckinResult](t)(f.checkIn(f.shopA, f.a1, c.ID, 10, text))
		if res.Checkin.MadeUp || res.MakeupsLeft != 0 {
			t.Fatalf("today: %+v", res)
		}
	})
}

// TestCapacityNeverOversold: 30 learners race for 5 seats.
func TestCapacityNeverOversold(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		in := input("2026-12-10", 3)
		in.Capacity, in.PriceFen = 5, 100
		c := f.camp(t, f.shopA, in)
		members := make([]int64, 30)
		for i := range members {
			members[i] = db.TestMember(t, d, f.shopA, fmt.Sprintf("m%d", i))
			f.held.grant(members[i], c.ID)
		}
		var wg sync.WaitGroup
		errors := make([]error, len(members))
		for i, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errors[i] = f.svc.Join(ctx, f.shopA, m, c.ID)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errors {
			if err == nil {
				ok++
			} else if !errs.Is(err, "camp_full") {
				t.Fatal(err)
			}
		}
		got := must[Camp](t)(f.svc.Get(ctx, f.shopA, c.ID))
		rows := count(t, d, `SELECT COUNT(*) FROM camp_enrolments WHERE camp_id = ?`, c.ID)
		if ok != 5 || got.Enrolled != 5 || rows != 5 {
			t.Fatalf("joined %d, counter %d, rows %d; want 5", ok, got.Enrolled, rows)
		}
		_, _, err := f.svc.Offer(ctx, f.shopA, c.ID)
		wantCode(t, err, "camp_full")
	})
}

// TestModerationOutcomes: passed text shows in the feed; text to review is
// held (its author sees it pending, others do not) until approved; blocked
// text is refused and writes nothing; a rejected check-in undoes the day,
// which may be checked in again.
func TestModerationOutcomes(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c := f.camp(t, f.shopA, input("2026-12-07", 3))
		f.join(t, f.shopA, f.a1, c.ID)
		f.join(t, f.shopA, f.a2, c.ID)
		_, err := f.checkIn(f.shopA, f.a1, c.ID, 1, CheckinInput{Text: "这是违禁内容"})
		wantCode(t, err, "content_blocked")
		if errs.As(err).Kind != errs.Unprocessable || count(t, d, `SELECT COUNT(*) FROM camp_checkins`) != 0 {
			t.Fatalf("blocked: %v", err)
		}
		held := must[CheckinResult](t)(f.checkIn(f.shopA, f.a1, c.ID, 1, CheckinInput{Text: "待审的内容",
			Images: []string{fmt.Sprintf("shop/%d/abc123.jpg", f.shopA)}}))
		if held.Checkin.Status != Pending || len(held.Checkin.Images) != 1 {
			t.Fatalf("held: %+v", held)
		}
		must[CheckinResult](t)(f.checkIn(f.shopA, f.a2, c.ID, 1, text))
		feed := must[[]FeedItem](t)(f.svc.Feed(ctx, f.shopA, f.a2, c.ID, 1, 0, 20))
		if len(feed) != 1 || !feed[0].Mine || feed[0].Text != text.Text {
			t.Fatalf("feed before approval: %+v", feed)
		}
		if v := must[MyCamp](t)(f.svc.Mine(ctx, f.shopA, f.a1, c.ID)); v.Days[0].Checkin == nil || v.Days[0].Checkin.Status != Pending || v.Days[0].Status != DayDone {
			t.Fatalf("the author's view: %+v", v.Days[0])
		}
		pending := must[[]StaffCheckin](t)(f.svc.Checkins(ctx, f.shopA, c.ID, 0, Pending, 0, 20))
		if len(pending) != 1 || pending[0].MemberID != f.a1 {
			t.Fatalf("pending queue: %+v", pending)
		}
		ok := must[StaffCheckin](t)(f.svc.Review(ctx, f.shopA, held.Checkin.ID, 9, true))
		if ok.Status != Published || ok.ReviewedBy != 9 {
			t.Fatalf("approved: %+v", ok)
		}
		_, err = f.svc.Review(ctx, f.shopA, held.Checkin.ID, 9, true)
		wantCode(t, err, "checkin_already_published")
		feed = must[[]FeedItem](t)(f.svc.Feed(ctx, f.shopA, f.a2, c.ID, 1, 0, 20))
		if len(feed) != 2 || feed[1].Mine || feed[1].Text != "待审的内容" {
			t.Fatalf("feed after approval: %+v", feed)
		}
		// Rejected: hidden, the day not done, and it may be checked in again.
		must[StaffCheckin](t)(f.svc.Review(ctx, f.shopA, held.Checkin.ID, 9, false))
		v := must[MyCamp](t)(f.svc.Mine(ctx, f.shopA, f.a1, c.ID))
		if v.Days[0].Status != DayOpen || v.DaysDone != 0 {
			t.Fatalf("after rejection: %+v done %d", v.Days[0], v.DaysDone)
		}
		if feed = must[[]FeedItem](t)(f.svc.Feed(ctx, f.shopA, f.a2, c.ID, 1, 0, 20)); len(feed) != 1 {
			t.Fatalf("feed after rejection: %+v", feed)
		}
		again := must[CheckinResult](t)(f.checkIn(f.shopA, f.a1, c.ID, 1, CheckinInput{Text: "重新打卡"}))
		if again.AlreadyCheckedIn || again.Checkin.ID != held.Checkin.ID || again.Checkin.Status != Published {
			t.Fatalf("again: %+v", again)
		}
		if v := must[MyCamp](t)(f.svc.Mine(ctx, f.shopA, f.a1, c.ID)); v.DaysDone != 1 {
			t.Fatalf("days done %d", v.DaysDone)
		}
		// Rejected again and replaced the next day: now a missed day, it
		// needs a make-up, and this camp gives none.
		must[StaffCheckin](t)(f.svc.Review(ctx, f.shopA, held.Checkin.ID, 9, false))
		f.clock.set(cst(2026, 12, 8, 9, 0, 0))
		_, err = f.checkIn(f.shopA, f.a1, c.ID, 1, CheckinInput{Text: "迟到的补交"})
		wantCode(t, err, "no_makeups_left")
		if got := must[[]StaffCheckin](t)(f.svc.Checkins(ctx, f.shopA, c.ID, 1, Rejected, 0, 20)); len(got) != 1 || got[0].Text != "重新打卡" {
			t.Fatalf("a refused replacement changed the check-in: %+v", got)
		}
	})
}

// TestLearnersFurthestBehindFirst: the teacher's list orders by days done,
// then by the oldest last check-in (never first), and pages with a cursor.
func TestLearnersFurthestBehindFirst(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		in := input("2026-12-01", 10)
		in.Makeups = 10
		c := f.camp(t, f.shopA, in)
		m := []int64{f.a1, f.a2, db.TestMember(t, d, f.shopA, "a3"), db.TestMember(t, d, f.shopA, "a4")}
		for _, id := range m {
			f.join(t, f.shopA, id, c.ID)
		}
		f.clock.set(cst(2026, 12, 5, 9, 0, 0)) // 5 days open
		checkin := func(member int64, day, hour int) {
			f.clock.set(cst(2026, 12, 5, hour, 0, 0))
			must[CheckinResult](t)(f.checkIn(f.shopA, member, c.ID, day, text))
		}
		checkin(m[0], 1, 8) // a1: 3 days, last at 12
		checkin(m[0], 2, 9)
		checkin(m[0], 5, 12)
		checkin(m[1], 5, 10) // a2: 1 day, last at 10
		checkin(m[3], 4, 11) // a4: 1 day, last at 11
		// a3: never
		want := []struct {
			id         int64
			done, left int
		}{{m[2], 0, 5}, {m[1], 1, 4}, {m[3], 1, 4}, {m[0], 3, 2}}
		var got []Learner
		var after []int64
		for {
			page := must[[]Learner](t)(f.svc.Learners(ctx, f.shopA, c.ID, after, 2))
			if len(page) > 2 {
				got, after = append(got, page[:2]...), LearnerKeys(page[1])
				continue
			}
			got = append(got, page...)
			break
		}
		if len(got) != len(want) {
			t.Fatalf("%d learners: %+v", len(got), got)
		}
		for i, w := range want {
			if got[i].MemberID != w.id || got[i].DaysDone != w.done || got[i].Behind != w.left || got[i].DaysOpen != 5 {
				t.Fatalf("learner %d: %+v, want %+v", i, got[i], w)
			}
		}
		if got[0].LastCheckinAt != nil || got[1].LastCheckinAt == nil || !got[1].LastCheckinAt.Equal(cst(2026, 12, 5, 10, 0, 0)) {
			t.Fatalf("last check-ins: %v %v", got[0].LastCheckinAt, got[1].LastCheckinAt)
		}
	})
}

// TestPaidCampsNeedTheEntitlement: a paid camp is joined only by a member
// holding it; Offer tells the sale what it costs and refuses what is not
// for sale.
func TestPaidCampsNeedTheEntitlement(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		in := input("2026-12-10", 7)
		in.PriceFen, in.Status = 9900, Draft
		c := f.camp(t, f.shopA, in)
		_, _, err := f.svc.Offer(ctx, f.shopA, c.ID)
		wantCode(t, err, "camp_not_for_sale")
		_, err = f.svc.Join(ctx, f.shopA, f.a1, c.ID)
		wantCode(t, err, "camp_not_found")
		in.Status = Open
		must[Camp](t)(f.svc.Update(ctx, f.shopA, c.ID, in))
		title, price, err := f.svc.Offer(ctx, f.shopA, c.ID)
		if err != nil || title != in.Title || price != 9900 {
			t.Fatalf("offer: %q %d %v", title, price, err)
		}
		_, _, err = f.svc.Offer(ctx, f.shopB, c.ID)
		wantCode(t, err, "camp_not_for_sale")
		_, err = f.svc.Join(ctx, f.shopA, f.a1, c.ID)
		wantCode(t, err, "camp_not_purchased")
		f.held.grant(f.a1, c.ID)
		e := f.join(t, f.shopA, f.a1, c.ID)
		if e.Via != "entitlement" || e.AlreadyJoined {
			t.Fatalf("joined: %+v", e)
		}
		if e := f.join(t, f.shopA, f.a1, c.ID); !e.AlreadyJoined {
			t.Fatalf("again: %+v", e)
		}
		if got := must[Camp](t)(f.svc.Get(ctx, f.shopA, c.ID)); got.Enrolled != 1 {
			t.Fatalf("enrolled %d", got.Enrolled)
		}
		free := f.camp(t, f.shopA, input("2026-12-10", 3))
		_, _, err = f.svc.Offer(ctx, f.shopA, free.ID)
		wantCode(t, err, "camp_not_for_sale")
		// After its last day a camp is neither sold nor joined.
		f.clock.set(cst(2026, 12, 17, 0, 0, 0))
		_, _, err = f.svc.Offer(ctx, f.shopA, c.ID)
		wantCode(t, err, "camp_not_for_sale")
		_, err = f.svc.Join(ctx, f.shopA, f.a2, free.ID)
		wantCode(t, err, "camp_ended")
	})
}

// TestLeaveAndEditRules: leaving gives the seat back before the start and
// is refused after; edits keep what learners rely on.
func TestLeaveAndEditRules(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		in := input("2026-12-08", 5)
		in.Capacity = 2
		c := f.camp(t, f.shopA, in)
		f.join(t, f.shopA, f.a1, c.ID)
		f.join(t, f.shopA, f.a2, c.ID)
		must[struct{}](t)(struct{}{}, f.svc.Leave(ctx, f.shopA, f.a2, c.ID))
		wantCode(t, f.svc.Leave(ctx, f.shopA, f.a2, c.ID), "not_enrolled")
		if got := must[Camp](t)(f.svc.Get(ctx, f.shopA, c.ID)); got.Enrolled != 1 {
			t.Fatalf("enrolled %d after leaving", got.Enrolled)
		}
		bad := in
		bad.Capacity = 0
		bad.Status = Draft
		_, err := f.svc.Update(ctx, f.shopA, c.ID, bad)
		wantCode(t, err, "camp_has_learners")
		f.join(t, f.shopA, f.a2, c.ID)
		bad = in
		bad.Capacity = 1
		_, err = f.svc.Update(ctx, f.shopA, c.ID, bad)
		wantCode(t, err, "capacity_below_enrolled")
		f.clock.set(cst(2026, 12, 8, 0, 0, 0))
		wantCode(t, f.svc.Leave(ctx, f.shopA, f.a2, c.ID), "camp_started")
		bad = in
		bad.StartDate = "2026-12-09"
		_, err = f.svc.Update(ctx, f.shopA, c.ID, bad)
		wantCode(t, err, "camp_started")
		ok := in
		ok.Title, ok.Capacity, ok.Status = "改名了", 0, Closed
		got := must[Camp](t)(f.svc.Update(ctx, f.shopA, c.ID, ok))
		if got.Title != "改名了" || got.Version != 1 || len(got.Tasks) != 5 || got.Enrolled != 2 {
			t.Fatalf("updated: %+v", got)
		}
		_, err = f.svc.Join(ctx, f.shopA, db.TestMember(t, d, f.shopA, "late"), c.ID)
		wantCode(t, err, "camp_closed")
		// A closed camp's learners keep checking in.
		must[CheckinResult](t)(f.checkIn(f.shopA, f.a1, c.ID, 1, text))
	})
}
