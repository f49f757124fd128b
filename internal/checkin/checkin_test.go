package checkin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) days(n int)      { c.set(c.now().AddDate(0, 0, n)) }

// earned records what Earn was asked, once per key like the points ledger.
type earned struct {
	mu    sync.Mutex
	calls int
	keys  map[string]int64
	fail  error
}

func (e *earned) Earn(_ context.Context, tx *db.Tx, shopID, memberID, points int64, reason, sourceID, key string) error {
	if tx == nil || reason != "checkin" || sourceID == "" {
		return fmt.Errorf("bad Earn call: tx %v reason %q source %q", tx, reason, sourceID)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fail != nil {
		return e.fail
	}
	e.calls++
	if e.keys == nil {
		e.keys = map[string]int64{}
	}
	e.keys[key] += points
	return nil
}

// cst makes an Asia/Shanghai time.
func cst(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, china)
}

type fixture struct {
	svc                      *Service
	clock                    *clock
	rewards                  *earned
	shopA, a1, a2, shopB, b1 int64
}

func setup(t *testing.T, d *db.DB) fixture {
	t.Helper()
	shop := func(appid string) int64 { return db.TestShop(t, d, appid) }
	member := func(shopID int64, openid string) int64 { return db.TestMember(t, d, shopID, openid) }
	f := fixture{clock: &clock{t: cst(2026, 12, 7, 9, 0, 0)}, rewards: &earned{}}
	f.svc = NewService(d, f.rewards)
	f.svc.SetClock(f.clock.now)
	f.shopA, f.shopB = shop("wx00000000000000a1"), shop("wx00000000000000b1")
	f.a1, f.a2, f.b1 = member(f.shopA, "a1"), member(f.shopA, "a2"), member(f.shopB, "b1")
	return f
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTheDayTurnsAtShanghaiMidnight(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		checkIn := must[Result](t)
		// 00:00:30 on the 7th in Shanghai is still the 6th in UTC.
		f.clock.set(cst(2026, 12, 7, 0, 0, 30))
		r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1))
		if r.Day != "2026-12-07" || r.Streak != 1 || r.AlreadyCheckedIn {
			t.Fatalf("first check-in: %+v", r)
		}
		f.clock.set(cst(2026, 12, 7, 23, 59, 59))
		if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); !r.AlreadyCheckedIn || r.Day != "2026-12-07" {
			t.Fatalf("the same Shanghai day: %+v", r)
		}
		// 00:00 on the 8th in Shanghai is 16:00 on the 7th in UTC: a new day.
		f.clock.set(time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC))
		r = checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1))
		if r.Day != "2026-12-08" || r.Streak != 2 || r.AlreadyCheckedIn {
			t.Fatalf("after midnight: %+v", r)
		}
		// A server whose clock is a moment behind, just before midnight:
		// the check-in already made for the 8th answers, nothing is added.
		f.clock.set(cst(2026, 12, 7, 23, 59, 59))
		if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); !r.AlreadyCheckedIn || r.Day != "2026-12-08" || r.Streak != 2 {
			t.Fatalf("a clock behind: %+v", r)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM checkins WHERE shop_id = ? AND member_id = ?`, f.shopA, f.a1); n != 2 {
			t.Fatalf("%d rows", n)
		}
	})
}

func TestStreaksGapsAndTheCalendar(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		checkIn := must[Result](t)
		f.clock.set(cst(2026, 11, 28, 8, 0, 0))
		for i := 1; i <= 5; i++ { // Nov 28 … Dec 2
			if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); r.Streak != i {
				t.Fatalf("day %d: %+v", i, r)
			}
			f.clock.days(1)
		}
		f.clock.days(1) // Dec 3 missed: the streak breaks
		if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); r.Streak != 1 || r.Day != "2026-12-04" {
			t.Fatalf("after a gap: %+v", r)
		}
		f.clock.days(1)
		cal := must[Calendar](t)(f.svc.Calendar(ctx, f.shopA, f.a1, ""))
		if cal.Month != "2026-12" || cal.CheckedInToday || cal.Streak != 1 || cal.LongestStreak != 5 || cal.TotalDays != 6 || len(cal.Days) != 3 {
			t.Fatalf("calendar on Dec 5 before checking in: %+v", cal)
		}
		checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1))
		cal = must[Calendar](t)(f.svc.Calendar(ctx, f.shopA, f.a1, "2026-12"))
		if !cal.CheckedInToday || cal.Streak != 2 || len(cal.Days) != 4 || cal.Days[0].Day != "2026-12-01" || cal.Days[3].Day != "2026-12-05" {
			t.Fatalf("calendar after checking in: %+v", cal)
		}
		nov := must[Calendar](t)(f.svc.Calendar(ctx, f.shopA, f.a1, "2026-11"))
		if len(nov.Days) != 3 || nov.Days[0].Day != "2026-11-28" {
			t.Fatalf("November: %+v", nov.Days)
		}
		f.clock.days(2) // two days later with no check-in: broken
		if cal := must[Calendar](t)(f.svc.Calendar(ctx, f.shopA, f.a1, "")); cal.Streak != 0 || cal.LongestStreak != 5 {
			t.Fatalf("broken streak: %+v", cal)
		}
		for _, bad := range []string{"2026-13", "2026-1", "1999-12", "x", "2026-12-01"} {
			_, err := f.svc.Calendar(ctx, f.shopA, f.a1, bad)
			wantCode(t, err, "invalid_month")
		}
		// Another member of the shop and the other shop saw nothing.
		if cal := must[Calendar](t)(f.svc.Calendar(ctx, f.shopA, f.a2, "2026-12")); len(cal.Days) != 0 || cal.TotalDays != 0 {
			t.Fatalf("another member: %+v", cal)
		}
	})
}

func TestRewardsFollowTheVersionedRules(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		checkIn := must[Result](t)
		if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); r.Points != 0 || r.RuleVersion != 0 || f.rewards.calls != 0 {
			t.Fatalf("the defaults give nothing: %+v", r)
		}
		v1 := must[Rules](t)(f.svc.SaveRules(ctx, f.shopA, 7, RulesInput{DailyPoints: 1, MakeupDays: 3, MakeupPerMonth: 2,
			Rewards: []Reward{{Day: 7, Points: 30, Label: "周"}, {Day: 3, Points: 10, Label: "三天"}}}))
		if v1.Version != 1 || v1.Rewards[0].Day != 3 || v1.CreatedBy != 7 {
			t.Fatalf("saved: %+v", v1)
		}
		want := []int64{1, 10, 1, 1, 1, 30, 1} // streak 2 … 8
		for i, p := range want {
			f.clock.days(1)
			r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1))
			if r.Points != p || r.Streak != i+2 || r.RuleVersion != 1 {
				t.Fatalf("streak %d: %+v, want %d points", i+2, r, p)
			}
		}
		if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); !r.AlreadyCheckedIn || r.Points != 1 {
			t.Fatalf("again: %+v", r)
		}
		if f.rewards.calls != 7 || f.rewards.keys[fmt.Sprintf("checkin:%d:2026-12-13", f.a1)] != 30 {
			t.Fatalf("rewards: %+v", f.rewards)
		}
		// Cyclic: a 3-day ladder repeats, streak 9 counts as day 3.
		v2 := must[Rules](t)(f.svc.SaveRules(ctx, f.shopA, 7, RulesInput{DailyPoints: 2, Cyclic: true,
			Rewards: []Reward{{Day: 1, Points: 5}, {Day: 3, Points: 20, Label: "三"}}}))
		cal := must[Calendar](t)(f.svc.Calendar(ctx, f.shopA, f.a1, ""))
		if cal.NextCheckinPoints != 20 || cal.NextReward == nil || cal.NextReward.StreakDay != 9 || cal.NextReward.InDays != 1 || cal.RuleVersion != 2 {
			t.Fatalf("next reward: %+v %+v", cal, cal.NextReward)
		}
		f.clock.days(1)
		if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); r.Points != 20 || r.Streak != 9 || r.RuleVersion != v2.Version || r.Reward != "三" {
			t.Fatalf("cyclic day 9: %+v", r)
		}
		f.clock.days(1)
		if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); r.Points != 5 {
			t.Fatalf("cyclic day 10: %+v", r)
		}
		versions := must[[]Rules](t)(f.svc.RuleVersions(ctx, f.shopA, 0, 10))
		if len(versions) != 2 || versions[0].Version != 2 || versions[1].DailyPoints != 1 {
			t.Fatalf("versions: %+v", versions)
		}
		if other := must[[]Rules](t)(f.svc.RuleVersions(ctx, f.shopB, 0, 10)); len(other) != 0 {
			t.Fatalf("the other shop's versions: %+v", other)
		}
		if r := must[Rules](t)(f.svc.CurrentRules(ctx, f.shopB)); r.Version != 0 {
			t.Fatalf("the other shop's rules: %+v", r)
		}
	})
}

func TestRulesAreValidated(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		many := make([]Reward, MaxRewards+1)
		for i := range many {
			many[i] = Reward{Day: i + 1, Points: 1}
		}
		cases := []struct {
			in   RulesInput
			code string
		}{
			{RulesInput{Rewards: []Reward{{Day: 3, Points: 1}, {Day: 3, Points: 2}}}, "reward_day_duplicate"},
			{RulesInput{Rewards: many}, "too_many_rewards"},
			{RulesInput{Rewards: []Reward{{Day: 0, Points: 1}}}, "invalid_fields"},
			{RulesInput{Rewards: []Reward{{Day: 367, Points: 1}}}, "invalid_fields"},
			{RulesInput{Rewards: []Reward{{Day: 1, Points: -1}}}, "invalid_fields"},
			{RulesInput{Rewards: []Reward{{Day: 1, Points: 1 << 40}}}, "invalid_fields"},
			{RulesInput{Rewards: []Reward{{Day: 1, Label: "一二三四五六七八九十一二三四五六七八九十一"}}}, "invalid_fields"},
			{RulesInput{DailyPoints: -5}, "invalid_fields"},
			{RulesInput{MakeupDays: 31}, "invalid_fields"},
			{RulesInput{MakeupPerMonth: -1}, "invalid_fields"},
		}
		for i, c := range cases {
			_, err := f.svc.SaveRules(ctx, f.shopA, 1, c.in)
			if !errs.Is(err, c.code) {
				t.Fatalf("case %d: got %v, want %s", i, err, c.code)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM checkin_rule_versions`); n != 0 {
			t.Fatalf("%d versions stored", n)
		}
	})
}

func TestMakeupCardsRepairTheStreak(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		checkIn := must[Result](t)
		must[Rules](t)(f.svc.SaveRules(ctx, f.shopA, 1, RulesInput{DailyPoints: 1, MakeupDays: 3, MakeupPerMonth: 2}))
		f.clock.set(cst(2026, 12, 1, 10, 0, 0))
		checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)) // Dec 1
		f.clock.days(1)
		checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)) // Dec 2
		f.clock.days(2)                            // Dec 3 missed
		checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)) // Dec 4: streak 1
		f.clock.days(1)                            // Dec 5, not checked in yet

		_, err := f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: "2026-12-03"})
		wantCode(t, err, "no_makeup_cards")
		_, err = f.svc.GrantCards(ctx, f.shopA, f.b1, 1, "grant-key-0001", GrantInput{Count: 1, Reason: "x"})
		wantCode(t, err, "member_not_found") // another shop's member
		_, err = f.svc.GrantCards(ctx, f.shopA, f.a1, 1, "grant-key-0002", GrantInput{Count: 0, Reason: "x"})
		wantCode(t, err, "invalid_fields")
		_, err = f.svc.GrantCards(ctx, f.shopA, f.a1, 1, "grant-key-0003", GrantInput{Count: 1, Reason: " "})
		wantCode(t, err, "invalid_fields")
		g := must[CardEntry](t)(f.svc.GrantCards(ctx, f.shopA, f.a1, 9, "grant-key-0004", GrantInput{Count: 3, Reason: "活动奖励"}))
		if g.Delta != 3 || g.Balance != 3 || g.ActorID != 9 {
			t.Fatalf("grant: %+v", g)
		}
		// A retry under the same key grants nothing more; the key cannot
		// name another grant; a short key is refused.
		if again := must[CardEntry](t)(f.svc.GrantCards(ctx, f.shopA, f.a1, 9, "grant-key-0004", GrantInput{Count: 3, Reason: "活动奖励"})); again != g {
			t.Fatalf("replay: %+v, first %+v", again, g)
		}
		_, err = f.svc.GrantCards(ctx, f.shopA, f.a1, 9, "grant-key-0004", GrantInput{Count: 4, Reason: "活动奖励"})
		wantCode(t, err, "idempotency_key_reused")
		_, err = f.svc.GrantCards(ctx, f.shopA, f.a2, 9, "grant-key-0004", GrantInput{Count: 3, Reason: "活动奖励"})
		wantCode(t, err, "idempotency_key_reused")
		_, err = f.svc.GrantCards(ctx, f.shopA, f.a1, 9, "short", GrantInput{Count: 3, Reason: "活动奖励"})
		wantCode(t, err, "idempotency_key_required")

		for day, code := range map[string]string{"2026-12-05": "makeup_day_not_past", "2026-12-06": "makeup_day_not_past",
			"2026-12-01": "makeup_out_of_reach", "2026-12-04": "already_checked_in", "2026-12-32": "invalid_day", "": "invalid_day"} {
			_, err := f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: day})
			wantCode(t, err, code)
		}
		res := must[MakeupResult](t)(f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: "2026-12-03"}))
		if res.Streak != 4 || res.LongestStreak != 4 || res.Cards != 2 || res.MakeupsLeftThisMonth != 1 {
			t.Fatalf("make-up: %+v", res)
		}
		if r := checkIn(f.svc.CheckIn(ctx, f.shopA, f.a1)); r.Streak != 5 {
			t.Fatalf("the repaired streak continues: %+v", r)
		}
		cal := must[Calendar](t)(f.svc.Calendar(ctx, f.shopA, f.a1, "2026-12"))
		if cal.Streak != 5 || cal.TotalDays != 5 || cal.Cards != 2 || !cal.Days[2].MadeUp || cal.Days[2].Points != 0 || cal.MakeupsLeftThisMonth != 1 {
			t.Fatalf("calendar: %+v", cal)
		}
		// A second make-up uses this month's allowance; the third is refused.
		f.clock.days(3) // Dec 8: Dec 6 and 7 missed
		must[MakeupResult](t)(f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: "2026-12-06"}))
		_, err = f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: "2026-12-07"})
		wantCode(t, err, "makeup_monthly_limit")
		view := must[MemberCheckin](t)(f.svc.ForStaff(ctx, f.shopA, f.a1, ""))
		if view.Calendar.Cards != 1 || len(view.CardLedger) != 3 || view.CardLedger[0].Day != "2026-12-06" || view.CardLedger[2].Delta != 3 {
			t.Fatalf("staff view: %+v", view)
		}
		if view.Calendar.Streak != 0 || view.Calendar.LongestStreak != 6 {
			t.Fatalf("Dec 1–6 is a run of 6, broken by Dec 7: %+v", view.Calendar)
		}
		_, err = f.svc.ForStaff(ctx, f.shopB, f.a1, "")
		wantCode(t, err, "member_not_found")
		// A new month, a new allowance.
		f.clock.set(cst(2027, 1, 2, 9, 0, 0))
		must[MakeupResult](t)(f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: "2026-12-31"}))
		if n := count(t, d, `SELECT cards FROM checkin_summaries WHERE shop_id = ? AND member_id = ?`, f.shopA, f.a1); n != 0 {
			t.Fatalf("cards left: %d", n)
		}
		_, err = f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: "2027-01-01"})
		wantCode(t, err, "no_makeup_cards")
	})
}

func TestConcurrentCheckInsCountOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		must[Rules](t)(f.svc.SaveRules(ctx, f.shopA, 1, RulesInput{DailyPoints: 3}))
		f.clock.set(cst(2026, 12, 8, 0, 0, 0))
		const n = 50
		results := make([]Result, n)
		errors := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errors[i] = f.svc.CheckIn(ctx, f.shopA, f.a1)
			}()
		}
		wg.Wait()
		first := 0
		for i, r := range results {
			if errors[i] != nil {
				t.Fatal(errors[i])
			}
			if !r.AlreadyCheckedIn {
				first++
			}
			if r.Day != "2026-12-08" || r.Streak != 1 || r.Points != 3 {
				t.Fatalf("result %d: %+v", i, r)
			}
		}
		if first != 1 || f.rewards.calls != 1 {
			t.Fatalf("%d first check-ins, %d rewards", first, f.rewards.calls)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM checkins WHERE member_id = ?`, f.a1); n != 1 {
			t.Fatalf("%d rows", n)
		}
		if n := count(t, d, `SELECT total_days FROM checkin_summaries WHERE member_id = ?`, f.a1); n != 1 {
			t.Fatalf("total_days %d", n)
		}
	})
}

func TestConcurrentMakeupsNeverOverspendCards(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		must[Rules](t)(f.svc.SaveRules(ctx, f.shopA, 1, RulesInput{MakeupDays: 10, MakeupPerMonth: 31}))
		f.clock.set(cst(2026, 12, 20, 12, 0, 0))
		must[CardEntry](t)(f.svc.GrantCards(ctx, f.shopA, f.a1, 1, "grant-key-0005", GrantInput{Count: 2, Reason: "测试"}))
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, noCards := 0, 0
		for i := range 10 { // ten different missed days, a check-in racing them
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, err := f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: fmt.Sprintf("2026-12-%02d", 10+i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errs.Is(err, "no_makeup_cards"):
					noCards++
				default:
					t.Errorf("make-up: %v", err)
				}
			}()
			go func() {
				defer wg.Done()
				if _, err := f.svc.CheckIn(ctx, f.shopA, f.a1); err != nil {
					t.Errorf("check-in: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 2 || noCards != 8 {
			t.Fatalf("%d make-ups, %d refused", ok, noCards)
		}
		if n := count(t, d, `SELECT cards FROM checkin_summaries WHERE member_id = ?`, f.a1); n != 0 {
			t.Fatalf("cards %d", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM checkins WHERE member_id = ?`, f.a1); n != 3 {
			t.Fatalf("%d rows", n)
		}
		if n := count(t, d, `SELECT total_days FROM checkin_summaries WHERE member_id = ?`, f.a1); n != 3 {
			t.Fatalf("total_days %d", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM checkin_card_ledger WHERE member_id = ? AND delta < 0`, f.a1); n != 2 {
			t.Fatalf("%d uses", n)
		}
	})
}

func TestAFailedRewardUndoesTheCheckIn(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		must[Rules](t)(f.svc.SaveRules(ctx, f.shopA, 1, RulesInput{DailyPoints: 1}))
		f.rewards.fail = errors.New("points down")
		if _, err := f.svc.CheckIn(ctx, f.shopA, f.a1); err == nil {
			t.Fatal("no error")
		}
		if n := count(t, d, `SELECT COUNT(*) FROM checkins`); n != 0 {
			t.Fatalf("%d rows", n)
		}
		f.rewards.fail = nil
		if r := must[Result](t)(f.svc.CheckIn(ctx, f.shopA, f.a1)); r.AlreadyCheckedIn || r.Streak != 1 {
			t.Fatalf("retry: %+v", r)
		}
	})
}

// TestOnCheckedInRunsInTheCheckinsTransaction: the hook sees each new
// check-in and make-up with the summary after it, never a repeat, and its
// error undoes the check-in.
func TestOnCheckedInRunsInTheCheckinsTransaction(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var seen []CheckedIn
		var fail error
		f.svc.OnCheckedIn(func(_ context.Context, tx *db.Tx, c CheckedIn) error {
			if tx == nil {
				return fmt.Errorf("no transaction")
			}
			seen = append(seen, c)
			return fail
		})
		must[Result](t)(f.svc.CheckIn(ctx, f.shopA, f.a1))
		must[Result](t)(f.svc.CheckIn(ctx, f.shopA, f.a1)) // a repeat: no event
		f.clock.days(2)
		fail = errors.New("hook failed")
		if _, err := f.svc.CheckIn(ctx, f.shopA, f.a1); err == nil {
			t.Fatal("a failing hook did not fail the check-in")
		}
		if n := count(t, d, `SELECT COUNT(*) FROM checkins WHERE member_id = ?`, f.a1); n != 1 {
			t.Fatalf("the failed check-in was kept: %d rows", n)
		}
		fail = nil
		must[Result](t)(f.svc.CheckIn(ctx, f.shopA, f.a1))
		must[CardEntry](t)(f.svc.GrantCards(ctx, f.shopA, f.a1, 1, "hook-test-key", GrantInput{Count: 1, Reason: "测试"}))
		must[MakeupResult](t)(f.svc.Makeup(ctx, f.shopA, f.a1, MakeupInput{Day: f.svc.Today().Date().AddDate(0, 0, -1).Format(time.DateOnly)}))
		if len(seen) != 4 || seen[0].Streak != 1 || seen[0].MadeUp || seen[2].Streak != 1 ||
			!seen[3].MadeUp || seen[3].Streak != 3 || seen[3].LongestStreak != 3 || seen[3].LastDay != f.svc.Today() {
			t.Fatalf("events: %+v", seen)
		}
	})
}
