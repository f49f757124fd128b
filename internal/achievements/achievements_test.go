package achievements

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/checkin"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

var china = time.FixedZone("CST", 8*3600)

// ledger stands for the points ledger: once per key, in the caller's tx.
type ledger struct {
	mu   sync.Mutex
	keys map[string]int64
}

func (l *ledger) Earn(_ context.Context, tx *db.Tx, _, _, points int64, _, _, key string) error {
	if tx == nil {
		return fmt.Errorf("Earn outside a transaction")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.keys[key]; !ok {
		l.keys[key] = points
	}
	return nil
}

func (l *ledger) total() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, p := range l.keys {
		n += p
	}
	return n
}

func (l *ledger) Earned(context.Context, int64, int64) (int64, error) { return l.total(), nil }

type fixture struct {
	d            *db.DB
	s            *Service
	pts          *ledger
	now          time.Time
	shop, other  int64
	member, late int64
	outsider     int64
	nextOrder    int64
}

// signup is the members' signup: 2026-12-01 10:00 in Shanghai.
var signup = time.Date(2026, 12, 1, 10, 0, 0, 0, china)

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d, pts: &ledger{keys: map[string]int64{}}, now: signup.Add(time.Hour)}
	f.s = NewService(d, f.pts, f.pts)
	f.s.SetClock(func() time.Time { return f.now })
	shop := func(appid string) int64 {
		var id int64
		if err := d.QueryRow(ctx, `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES (?, ?, 'enterprise', 0, 0) RETURNING id`,
			"店"+appid, appid).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.shop, f.other = shop("wx00000000000000t1"), shop("wx00000000000000t2")
	all := TasksInput{}
	for _, d := range taskDefs {
		all.Tasks = append(all.Tasks, TaskInput{Task: d.Task, Enabled: true, Points: d.Points})
	}
	if _, err := f.s.SaveTasks(ctx, f.shop, all); err != nil {
		t.Fatal(err)
	}
	f.member, f.late = f.newMember(t, f.shop, "m1", signup), f.newMember(t, f.shop, "m2", signup.AddDate(0, 0, -30))
	f.outsider = f.newMember(t, f.other, "o1", signup)
	return f
}

func (f *fixture) newMember(t *testing.T, shopID int64, openid string, at time.Time) int64 {
	t.Helper()
	var id int64
	if err := f.d.QueryRow(context.Background(), `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
		shopID, openid, at.UnixMilli(), at.UnixMilli()).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) tx(t *testing.T, fn func(tx *db.Tx) error) {
	t.Helper()
	if err := f.d.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) paid(t *testing.T, memberID, orderID int64) {
	t.Helper()
	f.tx(t, func(tx *db.Tx) error {
		return f.s.OrderPaid(context.Background(), tx, order.PaidOrder{ShopID: f.shop, OrderID: orderID, MemberID: memberID, Amount: 1000, PaidAt: f.now})
	})
}

func (f *fixture) received(t *testing.T, memberID, orderID, paid int64) {
	t.Helper()
	f.tx(t, func(tx *db.Tx) error {
		return f.s.OrderReceived(context.Background(), tx, order.CompletedOrder{ShopID: f.shop, OrderID: orderID, MemberID: memberID,
			PaidAmount: paid, GoodsPaid: paid, CompletedAt: f.now})
	})
}

func (f *fixture) checkedIn(t *testing.T, memberID int64, streak, longest int, madeUp bool) {
	t.Helper()
	day := checkin.DayOf(f.now)
	f.tx(t, func(tx *db.Tx) error {
		return f.s.CheckedIn(context.Background(), tx, checkin.CheckedIn{ShopID: f.shop, MemberID: memberID, Day: day, MadeUp: madeUp,
			Streak: streak, LongestStreak: longest, LastDay: day})
	})
}

func (f *fixture) setProfile(t *testing.T, memberID int64, nickname, birthday, phone string) {
	t.Helper()
	if _, err := f.d.Exec(context.Background(), `UPDATE members SET nickname = ?, birthday = ?, phone = ? WHERE id = ?`,
		nickname, birthday, phone, memberID); err != nil {
		t.Fatal(err)
	}
	if err := f.s.ProfileChanged(context.Background(), f.shop, memberID); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) statuses(t *testing.T, memberID int64) map[string]string {
	t.Helper()
	bt, err := f.s.MemberTasks(context.Background(), f.shop, memberID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, x := range bt.Tasks {
		out[x.Task] = x.Status
	}
	return out
}

func TestEachTaskRewardsOnceWithinTheFirstWeek(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		if _, err := f.s.SaveTasks(ctx, f.shop, TasksInput{Tasks: []TaskInput{{Task: TaskFirstPurchase, Enabled: true, Points: 88}}}); err != nil {
			t.Fatal(err)
		}
		if st := f.statuses(t, f.member); st[TaskProfile] != StatusOpen || st[TaskFirstPurchase] != StatusOpen || len(st) != 4 {
			t.Fatalf("a new member's tasks: %v", st)
		}
		f.setProfile(t, f.member, "小明", "", "")
		if st := f.statuses(t, f.member); st[TaskProfile] != StatusOpen {
			t.Fatalf("a nickname without a birthday completed the profile: %v", st)
		}
		f.setProfile(t, f.member, "小明", "07-21", "13800138000")
		f.setProfile(t, f.member, "小明", "07-21", "13800138000") // the event twice
		f.now = signup.AddDate(0, 0, 6).Add(13 * time.Hour)     // 23:00 on the 7th day
		f.paid(t, f.member, 1)
		f.paid(t, f.member, 1) // the same payment applied twice
		f.paid(t, f.member, 2) // a second purchase
		f.checkedIn(t, f.member, 1, 1, false)
		f.checkedIn(t, f.member, 1, 1, false)
		if st := f.statuses(t, f.member); st[TaskProfile] != StatusDone || st[TaskPhone] != StatusDone ||
			st[TaskFirstPurchase] != StatusDone || st[TaskFirstCheckin] != StatusDone {
			t.Fatalf("every task done: %v", st)
		}
		want := map[string]int64{
			fmt.Sprintf("task:%d:profile", f.member): 20, fmt.Sprintf("task:%d:phone", f.member): 20,
			fmt.Sprintf("task:%d:first_purchase", f.member): 88, fmt.Sprintf("task:%d:first_checkin", f.member): 10,
		}
		for k, v := range want {
			if f.pts.keys[k] != v {
				t.Fatalf("reward %s = %d, want %d (all: %v)", k, f.pts.keys[k], v, f.pts.keys)
			}
		}
		if len(f.pts.keys) != 4 {
			t.Fatalf("rewards: %v", f.pts.keys)
		}
		var rows int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM member_tasks WHERE member_id = ?`, f.member).Scan(&rows); err != nil || rows != 4 {
			t.Fatalf("task rows %d %v", rows, err)
		}
	})
}

func TestLateEventsCompleteNothing(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// Midnight after the 7th day in Shanghai: the week is over.
		f.now = time.Date(2026, 12, 8, 0, 0, 1, 0, china)
		f.paid(t, f.member, 1)
		f.checkedIn(t, f.member, 1, 1, false)
		f.setProfile(t, f.member, "小红", "01-02", "13900139000")
		f.paid(t, f.late, 2) // a member who joined a month ago
		bt, err := f.s.MemberTasks(context.Background(), f.shop, f.member)
		if err != nil {
			t.Fatal(err)
		}
		if bt.Open || !bt.EndsAt.Equal(time.Date(2026, 12, 8, 0, 0, 0, 0, china)) {
			t.Fatalf("the week: open %v, ends %v", bt.Open, bt.EndsAt)
		}
		for _, x := range bt.Tasks {
			if x.Status != StatusExpired {
				t.Fatalf("after the week: %+v", x)
			}
		}
		if len(f.pts.keys) != 0 {
			t.Fatalf("late events rewarded: %v", f.pts.keys)
		}
	})
}

func TestDisabledTasksAreNotOfferedNorRewarded(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		if _, err := f.s.SaveTasks(ctx, f.shop, TasksInput{Tasks: []TaskInput{{Task: TaskFirstCheckin, Enabled: false, Points: 5}}}); err != nil {
			t.Fatal(err)
		}
		f.checkedIn(t, f.member, 1, 1, false)
		if st := f.statuses(t, f.member); st[TaskFirstCheckin] != "" || len(f.pts.keys) != 0 {
			t.Fatalf("a disabled task: %v, rewards %v", st, f.pts.keys)
		}
		for _, in := range []TasksInput{{}, {Tasks: []TaskInput{{Task: "bogus"}}}, {Tasks: []TaskInput{{Task: TaskPhone, Points: -1}}},
			{Tasks: []TaskInput{{Task: TaskPhone}, {Task: TaskPhone}}}, {Tasks: []TaskInput{{Task: TaskPhone, Points: MaxTaskPoints + 1}}}} {
			if _, err := f.s.SaveTasks(ctx, f.shop, in); !errs.Is(err, "invalid_fields") {
				t.Fatalf("SaveTasks(%+v): %v", in, err)
			}
		}
		// The other shop's settings are its own: off, with suggested points.
		st, err := f.s.Tasks(ctx, f.other)
		if err != nil || st.Tasks[3].Enabled || st.Tasks[3].Points != 10 {
			t.Fatalf("other shop: %+v %v", st, err)
		}
	})
}

func (f *fixture) badge(t *testing.T, name, kind string, threshold, points int64) Badge {
	t.Helper()
	b, err := f.s.CreateBadge(context.Background(), f.shop, BadgeInput{Name: name, Kind: kind, Threshold: threshold, Points: points})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) held(t *testing.T, memberID int64) map[string]bool {
	t.Helper()
	list, err := f.s.MemberBadges(context.Background(), f.shop, memberID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, b := range list {
		out[b.Name] = true
	}
	return out
}

func TestBadgesAtTheirThresholdsOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		week := f.badge(t, "连签7天", KindStreak, 7, 30)
		f.badge(t, "十单达人", KindOrders, 10, 0)
		f.badge(t, "消费千元", KindSpent, 100000, 100)
		// The member who joined a month ago collects badges: they have no window.
		for i := 1; i <= 6; i++ {
			f.checkedIn(t, f.late, i, i, false)
		}
		if h := f.held(t, f.late); len(h) != 0 {
			t.Fatalf("6 days: %v", h)
		}
		f.checkedIn(t, f.late, 7, 7, true) // a make-up that makes the run 7 counts
		f.checkedIn(t, f.late, 7, 7, false)
		f.checkedIn(t, f.late, 1, 7, false) // a broken streak keeps the badge
		for i := int64(1); i <= 9; i++ {
			f.received(t, f.late, 100+i, 10000)
		}
		f.received(t, f.late, 101, 10000) // a duplicate event
		if h := f.held(t, f.late); !h["连签7天"] || h["十单达人"] || h["消费千元"] {
			t.Fatalf("after 9 orders (90000 fen): %v", h)
		}
		f.received(t, f.late, 110, 10000)
		if h := f.held(t, f.late); !h["十单达人"] || !h["消费千元"] || len(h) != 3 {
			t.Fatalf("after 10 orders (100000 fen): %v", h)
		}
		f.received(t, f.late, 111, 10000)
		if got := f.pts.keys[fmt.Sprintf("badge:%d:%d", f.late, week.ID)]; got != 30 || len(f.pts.keys) != 2 {
			t.Fatalf("badge points: %v", f.pts.keys)
		}
		r, err := f.s.Record(ctx, f.shop, f.late)
		if err != nil || r.Badges != 3 || r.OrdersReceived != 11 || r.Spent != 110000 {
			t.Fatalf("record %+v %v", r, err)
		}
		// Held badges cannot be deleted; the buyer sees progress toward the rest.
		if err := f.s.DeleteBadge(ctx, f.shop, week.ID); !errs.Is(err, "badge_awarded") {
			t.Fatalf("delete a held badge: %v", err)
		}
		if err := f.s.DeleteBadge(ctx, f.other, week.ID); !errs.Is(err, "badge_not_found") {
			t.Fatalf("delete another shop's badge: %v", err)
		}
		list, err := f.s.BuyerBadges(ctx, f.shop, f.member)
		if err != nil || len(list) != 3 || list[0].Earned || list[0].Progress != 0 {
			t.Fatalf("a new member's badges: %+v %v", list, err)
		}
		if _, err := f.s.MemberBadges(ctx, f.shop, f.outsider); !errs.Is(err, "member_not_found") {
			t.Fatalf("another shop's member: %v", err)
		}
		for _, in := range []BadgeInput{{Kind: KindStreak, Threshold: 1}, {Name: "x", Kind: "reviews", Threshold: 1},
			{Name: "x", Kind: KindStreak, Threshold: 0}, {Name: "x", Kind: KindStreak, Threshold: 1, Points: -1},
			{Name: "x", Kind: KindSpent, Threshold: MaxThreshold + 1}} {
			if _, err := f.s.CreateBadge(ctx, f.shop, in); !errs.Is(err, "invalid_fields") {
				t.Fatalf("CreateBadge(%+v): %v", in, err)
			}
		}
	})
}

// TestConcurrentEventsOfOneMember: the same events delivered many times at
// once, mixed with check-ins and other orders, count once each.
func TestConcurrentEventsOfOneMember(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.badge(t, "三单", KindOrders, 3, 5)
		f.badge(t, "连签2天", KindStreak, 2, 7)
		var wg sync.WaitGroup
		errc := make(chan error, 128)
		run := func(fn func(tx *db.Tx) error) {
			defer wg.Done()
			errc <- d.InTx(ctx, fn)
		}
		day := checkin.DayOf(f.now)
		for i := 0; i < 8; i++ {
			for o := int64(1); o <= 4; o++ {
				wg.Add(2)
				go run(func(tx *db.Tx) error {
					return f.s.OrderPaid(ctx, tx, order.PaidOrder{ShopID: f.shop, OrderID: o, MemberID: f.member, PaidAt: f.now})
				})
				go run(func(tx *db.Tx) error {
					return f.s.OrderReceived(ctx, tx, order.CompletedOrder{ShopID: f.shop, OrderID: o, MemberID: f.member, PaidAmount: 500})
				})
			}
			wg.Add(1)
			go run(func(tx *db.Tx) error {
				return f.s.CheckedIn(ctx, tx, checkin.CheckedIn{ShopID: f.shop, MemberID: f.member, Day: day, Streak: 2, LongestStreak: 2, LastDay: day})
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		r, err := f.s.Record(ctx, f.shop, f.member)
		if err != nil || r.OrdersReceived != 4 || r.Spent != 2000 || r.DaysActive != 1 || r.Badges != 2 || r.Streak != 2 {
			t.Fatalf("record after concurrent events: %+v %v", r, err)
		}
		// 50 first purchase + 10 first check-in + 5 + 7 badge points.
		if r.PointsEarned != 72 || len(f.pts.keys) != 4 {
			t.Fatalf("rewards: %v", f.pts.keys)
		}
	})
}

// TestRecordAfterAScriptedHistory: days active count check-in and pay days
// once, the streak lapses when a day is missed, made-up days are not active.
func TestRecordAfterAScriptedHistory(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.checkedIn(t, f.member, 1, 1, false) // day 1: check-in and an order
		f.paid(t, f.member, 1)
		f.now = f.now.AddDate(0, 0, 1)
		f.checkedIn(t, f.member, 2, 2, false) // day 2
		f.now = f.now.AddDate(0, 0, 1)
		f.paid(t, f.member, 2) // day 3: an order only
		f.received(t, f.member, 1, 3000)
		f.received(t, f.member, 2, 4500)
		f.checkedIn(t, f.member, 3, 3, true) // day 3 made up later: not active twice
		r, err := f.s.Record(ctx, f.shop, f.member)
		if err != nil {
			t.Fatal(err)
		}
		want := Record{DaysActive: 3, Streak: 3, LongestStreak: 3, OrdersReceived: 2, Spent: 7500, PointsEarned: 60}
		if r != want {
			t.Fatalf("record %+v, want %+v", r, want)
		}
		f.now = f.now.AddDate(0, 0, 2) // a missed day: the streak lapses, the longest stays
		if r, _ := f.s.Record(ctx, f.shop, f.member); r.Streak != 0 || r.LongestStreak != 3 {
			t.Fatalf("after a missed day: %+v", r)
		}
		if r, _ := f.s.Record(ctx, f.other, f.member); r != (Record{PointsEarned: 60}) {
			t.Fatalf("another shop's view: %+v", r)
		}
	})
}

// TestALostProfileHookIsMadeUpOnRead: the profile hook runs after the
// member's change commits; had it failed, reading the tasks within the
// week completes them.
func TestALostProfileHookIsMadeUpOnRead(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if _, err := d.Exec(context.Background(), `UPDATE members SET phone = '13800138000' WHERE id = ?`, f.member); err != nil {
			t.Fatal(err)
		}
		if st := f.statuses(t, f.member); st[TaskPhone] != StatusDone || st[TaskProfile] != StatusOpen {
			t.Fatalf("tasks read after a lost hook: %v", st)
		}
		if f.pts.keys[fmt.Sprintf("task:%d:phone", f.member)] != 20 || len(f.pts.keys) != 1 {
			t.Fatalf("rewards: %v", f.pts.keys)
		}
	})
}

// TestRefundsAfterReceiptLowerSpent: a succeeded refund lowers what a
// received order counts in spent, once per amount; a refund of an order
// not received yet changes nothing (its receipt counts what is left).
func TestRefundsAfterReceiptLowerSpent(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		refund := func(orderID, paid, ok int64) {
			t.Helper()
			f.tx(t, func(tx *db.Tx) error {
				return f.s.OrderRefunded(ctx, tx, order.RefundedOrder{ShopID: f.shop, OrderID: orderID, MemberID: f.member, PaidAmount: paid, RefundedOK: ok})
			})
		}
		spent := func() int64 {
			t.Helper()
			r, err := f.s.Record(ctx, f.shop, f.member)
			if err != nil {
				t.Fatal(err)
			}
			return r.Spent
		}
		f.received(t, f.member, 1, 10000)
		f.received(t, f.member, 2, 5000)
		refund(1, 10000, 4000)
		refund(1, 10000, 4000) // the same success applied twice
		if got := spent(); got != 11000 {
			t.Fatalf("spent after a 4000 refund: %d", got)
		}
		refund(3, 8000, 8000) // not received
		refund(1, 10000, 12000)
		if got := spent(); got != 5000 {
			t.Fatalf("spent after refunding order 1 entirely: %d", got)
		}
	})
}
