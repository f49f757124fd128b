package points

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

type fixture struct {
	d               *db.DB
	s               *Service
	shop, other     int64
	member, member2 int64
	outsider        int64 // a member of the other shop
	clock           time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d, s: NewService(d), clock: time.Date(2026, 6, 1, 12, 0, 0, 0, shanghai)}
	f.s.SetClock(func() time.Time { return f.clock })
	shop := func(appid string) int64 { return db.TestShop(t, d, appid) }
	f.shop, f.other = shop("wx00000000000000p1"), shop("wx00000000000000p2")
	f.member, f.member2, f.outsider = f.newMember(t, f.shop, "m1"), f.newMember(t, f.shop, "m2"), f.newMember(t, f.other, "o1")
	if _, err := f.s.SaveSettings(ctx, f.shop, Settings{Enabled: true, EarnPerYuan: 1, RedeemPerYuan: 100, RedeemCapBP: 5000, Expiry: ExpireEndOfNextYear}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) newMember(t *testing.T, shopID int64, openid string) int64 {
	return db.TestMember(t, f.d, shopID, openid)
}

func (f *fixture) earn(t *testing.T, memberID, n int64, key string) {
	t.Helper()
	if err := f.d.InTx(context.Background(), func(tx *db.Tx) error {
		return f.s.Earn(context.Background(), tx, f.shop, memberID, n, "测试奖励", key, "checkin:"+key)
	}); err != nil {
		t.Fatal(err)
	}
}

// spend takes n points as an adjustment-like spend and returns its id.
func (f *fixture) spend(t *testing.T, memberID, n int64, key string) (int64, error) {
	t.Helper()
	var id int64
	err := f.d.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		id, _, err = take(context.Background(), tx, change{shopID: f.shop, memberID: memberID, points: n, kind: KindSpend,
			reason: "测试", key: key}, f.clock.UnixMilli())
		return err
	})
	return id, err
}

// checkLedger asserts the ledger's invariants for a member: the balance is
// the sum of the entries and the sum of what is left of the lots, and
// never negative.
func (f *fixture) checkLedger(t *testing.T, memberID int64) int64 {
	t.Helper()
	var balance, sum, left int64
	ctx := context.Background()
	if err := f.d.QueryRow(ctx, `SELECT COALESCE((SELECT balance FROM points_accounts WHERE shop_id = ? AND member_id = ?), 0),
		(SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_entries WHERE shop_id = ? AND member_id = ?),
		(SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM points_entries WHERE shop_id = ? AND member_id = ?)`,
		f.shop, memberID, f.shop, memberID, f.shop, memberID).Scan(&balance, &sum, &left); err != nil {
		t.Fatal(err)
	}
	if balance != sum || balance != left || balance < 0 {
		t.Fatalf("ledger broken: balance %d, sum of entries %d, left in lots %d", balance, sum, left)
	}
	return balance
}

func TestSpendsTakeTheSoonestExpiringLotsAndComeBackToThem(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.earn(t, f.member, 100, "a") // 2026: expires 2028-01-01
		f.clock = time.Date(2027, 3, 1, 12, 0, 0, 0, shanghai)
		f.earn(t, f.member, 50, "b") // 2027: expires 2029-01-01
		id, err := f.spend(t, f.member, 120, "spend-1")
		if err != nil {
			t.Fatal(err)
		}
		exp, err := f.s.ExpiringSoon(ctx, f.shop, f.member)
		if err != nil {
			t.Fatal(err)
		}
		if len(exp) != 1 || exp[0].Points != 30 || !exp[0].ExpiresAt.Equal(time.Date(2029, 1, 1, 0, 0, 0, 0, shanghai)) {
			t.Fatalf("after spending 120 of 100 (2028) + 50 (2029), expiring = %+v, want 30 at 2029-01-01", exp)
		}
		if b := f.checkLedger(t, f.member); b != 30 {
			t.Fatalf("balance %d, want 30", b)
		}
		// Giving back 70 fills the later lot first, then 50 of the earlier.
		err = d.InTx(ctx, func(tx *db.Tx) error {
			_, err := giveBack(ctx, tx, change{shopID: f.shop, memberID: f.member, points: 70, kind: KindReturn, reason: "退回", key: "back-1"}, id, f.clock.UnixMilli())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		exp, _ = f.s.ExpiringSoon(ctx, f.shop, f.member)
		if len(exp) != 2 || exp[0].Points != 50 || exp[1].Points != 50 {
			t.Fatalf("after giving back 70, expiring = %+v, want 50 (2028) and 50 (2029)", exp)
		}
		if b := f.checkLedger(t, f.member); b != 100 {
			t.Fatalf("balance %d, want 100", b)
		}
		// The spend has 50 left to give back: asking for 51 fails and changes nothing.
		err = d.InTx(ctx, func(tx *db.Tx) error {
			_, err := giveBack(ctx, tx, change{shopID: f.shop, memberID: f.member, points: 51, kind: KindReturn, reason: "退回", key: "back-2"}, id, f.clock.UnixMilli())
			return err
		})
		if err == nil {
			t.Fatal("gave back more than was spent")
		}
		f.checkLedger(t, f.member)
	})
}

func TestPointsExpireAtTheEndOfTheNextYearInShanghai(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.earn(t, f.member, 100, "old") // earned 2026-06-01: gone at 2028-01-01 00:00 Shanghai
		f.clock = time.Date(2027, 12, 31, 23, 59, 0, 0, shanghai)
		f.earn(t, f.member, 40, "new")
		if a, _ := f.s.Account(ctx, f.shop, f.member); a.Balance != 140 {
			t.Fatalf("balance before the end of 2027 = %d, want 140", a.Balance)
		}
		f.clock = time.Date(2028, 1, 1, 0, 0, 0, 0, shanghai) // = 2027-12-31 16:00 UTC
		// Shown as gone at once, before the job runs.
		if a, _ := f.s.Account(ctx, f.shop, f.member); a.Balance != 40 || a.Expired != 100 {
			t.Fatalf("at the deadline before the job: %+v, want balance 40, expired 100", a)
		}
		// A spend never takes expired points.
		if _, err := f.spend(t, f.member, 41, "too-much"); !errs.Is(err, "insufficient_points") {
			t.Fatalf("spending 41 of 40 live points: %v", err)
		}
		n, err := f.s.ExpireDue(ctx)
		if err != nil || n != 1 {
			t.Fatalf("ExpireDue = %d, %v; want 1 member", n, err)
		}
		if n, _ := f.s.ExpireDue(ctx); n != 0 {
			t.Fatalf("a second run expired %d members again", n)
		}
		if b := f.checkLedger(t, f.member); b != 40 {
			t.Fatalf("balance after expiry %d, want 40", b)
		}
		entries, _ := f.s.Entries(ctx, f.shop, f.member, 0, 10)
		if len(entries) != 3 || entries[0].Kind != KindExpire || entries[0].Delta != -100 {
			t.Fatalf("ledger after expiry: %+v", entries)
		}
	})
}

func TestTheSameKeyEarnsOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for range 3 {
			f.earn(t, f.member, 10, "day-1")
		}
		if b := f.checkLedger(t, f.member); b != 10 {
			t.Fatalf("three rewards under one key gave %d points, want 10", b)
		}
	})
}

func TestConcurrentSpendersNeverOverdraw(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.earn(t, f.member, 60, "a")
		f.clock = f.clock.Add(24 * time.Hour)
		f.earn(t, f.member, 40, "b")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, short := 0, 0
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.spend(t, f.member, 10, fmt.Sprintf("race-%d", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errs.Is(err, "insufficient_points"):
					short++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok != 10 || short != 14 {
			t.Fatalf("24 spends of 10 from 100: %d went through, %d refused; want 10 and 14", ok, short)
		}
		if b := f.checkLedger(t, f.member); b != 0 {
			t.Fatalf("balance %d, want 0", b)
		}
	})
}

func TestStaffAdjustments(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a, err := f.s.Adjust(ctx, f.shop, f.member, 7, "adjust-key-1", AdjustInput{Delta: 500, Reason: "活动补发"})
		if err != nil || a.Balance != 500 {
			t.Fatalf("adjust +500: %+v %v", a, err)
		}
		if a, _ := f.s.Adjust(ctx, f.shop, f.member, 7, "adjust-key-1", AdjustInput{Delta: 500, Reason: "活动补发"}); a.Balance != 500 {
			t.Fatalf("a retried adjustment applied twice: %+v", a)
		}
		for _, bad := range []struct {
			in   AdjustInput
			key  string
			code string
		}{
			{AdjustInput{Delta: 0, Reason: "x"}, "adjust-key-2", "invalid_fields"},
			{AdjustInput{Delta: 5, Reason: ""}, "adjust-key-3", "invalid_fields"},
			{AdjustInput{Delta: MaxPoints + 1, Reason: "x"}, "adjust-key-4", "invalid_fields"},
			{AdjustInput{Delta: -501, Reason: "扣减"}, "adjust-key-5", "insufficient_points"},
			{AdjustInput{Delta: 5, Reason: "x"}, "short", "idempotency_key_required"},
		} {
			if _, err := f.s.Adjust(ctx, f.shop, f.member, 7, bad.key, bad.in); !errs.Is(err, bad.code) {
				t.Errorf("Adjust(%+v) = %v, want %s", bad.in, err, bad.code)
			}
		}
		if _, err := f.s.Adjust(ctx, f.shop, f.outsider, 7, "adjust-key-6", AdjustInput{Delta: 5, Reason: "跨店"}); !errs.Is(err, "member_not_found") {
			t.Fatalf("adjusting another shop's member: %v", err)
		}
		a, err = f.s.Adjust(ctx, f.shop, f.member, 7, "adjust-key-7", AdjustInput{Delta: -200, Reason: "扣减"})
		if err != nil || a.Balance != 300 {
			t.Fatalf("adjust −200: %+v %v", a, err)
		}
		entries, _ := f.s.Entries(ctx, f.shop, f.member, 0, 10)
		if len(entries) != 2 || entries[0].ActorID != 7 || entries[0].Reason != "扣减" || entries[0].Delta != -200 {
			t.Fatalf("the ledger does not show who adjusted and why: %+v", entries)
		}
		f.checkLedger(t, f.member)
	})
}

func TestExpiryRunsOverManyMembersInBatches(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		const n = 2500 // more than two batches of due lots
		ids := make([]int64, n)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for i := range ids {
				if err := tx.QueryRow(ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
					f.shop, fmt.Sprintf("bulk-%d", i)).Scan(&ids[i]); err != nil {
					return err
				}
				if err := f.s.Earn(ctx, tx, f.shop, ids[i], int64(1+i%7), "批量", "", fmt.Sprintf("checkin:bulk:%d", i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.clock = time.Date(2028, 1, 1, 0, 0, 1, 0, shanghai)
		got, err := f.s.ExpireDue(ctx)
		if err != nil || got != n {
			t.Fatalf("ExpireDue = %d, %v; want %d", got, err, n)
		}
		var balances, expired int64
		if err := d.QueryRow(ctx, `SELECT CAST(SUM(balance) AS BIGINT), CAST(SUM(expired) AS BIGINT) FROM points_accounts WHERE shop_id = ?`, f.shop).Scan(&balances, &expired); err != nil {
			t.Fatal(err)
		}
		if balances != 0 || expired == 0 {
			t.Fatalf("after expiry: balances %d, expired %d", balances, expired)
		}
		f.checkLedger(t, ids[n-1])
	})
}

// TestSpendsAndGiveBacksRace: give-backs and new spends of one member at
// once (on PostgreSQL a give-back that locked the lots before the account
// could deadlock with a spend) keep the ledger whole.
func TestSpendsAndGiveBacksRace(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.earn(t, f.member, 600, "a")
		f.clock = f.clock.Add(24 * time.Hour)
		f.earn(t, f.member, 400, "b")
		var spends []int64
		for i := range 10 {
			id, err := f.spend(t, f.member, 50, fmt.Sprintf("first-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			spends = append(spends, id)
		}
		var wg sync.WaitGroup
		for i, id := range spends {
			wg.Add(2)
			go func() {
				defer wg.Done()
				err := d.InTx(ctx, func(tx *db.Tx) error {
					_, err := giveBack(ctx, tx, change{shopID: f.shop, memberID: f.member, points: 50, kind: KindReturn, reason: "退回",
						key: fmt.Sprintf("back-%d", i)}, id, f.clock.UnixMilli())
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}()
			go func() {
				defer wg.Done()
				if _, err := f.spend(t, f.member, 50, fmt.Sprintf("second-%d", i)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if b := f.checkLedger(t, f.member); b != 500 {
			t.Fatalf("balance %d, want 1000 − 500 + 500 − 500 = 500", b)
		}
	})
}

// TestMembersAreToldOfPointsExpiringSoon: every member with live points
// expiring within the window is handed to the hook once per pass, their
// same-day lots summed; points expiring later or spent are not.
func TestMembersAreToldOfPointsExpiringSoon(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		got := map[int64]ExpiringSoon{}
		calls := 0
		f.s.OnExpiringSoon(func(_ context.Context, _ *db.Tx, e ExpiringSoon) error {
			calls++
			got[e.MemberID] = e
			return nil
		})
		f.earn(t, f.member, 10, "a")
		f.earn(t, f.member, 20, "b")
		f.earn(t, f.member2, 7, "c")
		if _, err := d.Exec(ctx, `UPDATE points_entries SET expires_at = ? WHERE shop_id = ? AND member_id = ?`,
			time.Date(2029, 1, 1, 0, 0, 0, 0, shanghai).UnixMilli(), f.shop, f.member2); err != nil {
			t.Fatal(err)
		}
		const n = 1100 // more than two batches
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for i := range n {
				var id int64
				if err := tx.QueryRow(ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
					f.shop, fmt.Sprintf("soon-%d", i)).Scan(&id); err != nil {
					return err
				}
				if err := f.s.Earn(ctx, tx, f.shop, id, 5, "批量", "", fmt.Sprintf("checkin:soon:%d", i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.clock = time.Date(2027, 12, 20, 12, 0, 0, 0, shanghai) // 2028-01-01 is 12 days away
		if k, err := f.s.NotifyExpiring(ctx); err != nil || k != 0 {
			t.Fatalf("12 days before: %d, %v", k, err)
		}
		f.clock = time.Date(2027, 12, 28, 12, 0, 0, 0, shanghai)
		if k, err := f.s.NotifyExpiring(ctx); err != nil || k != n+1 {
			t.Fatalf("NotifyExpiring = %d, %v; want %d", k, err, n+1)
		}
		if calls != n+1 || len(got) != n+1 {
			t.Fatalf("%d calls for %d members", calls, len(got))
		}
		if e := got[f.member]; e.Points != 30 || e.Day != 20280101 || e.ShopID != f.shop {
			t.Fatalf("member's notice %+v", e)
		}
		if _, told := got[f.member2]; told {
			t.Fatal("points expiring in a year were announced")
		}
	})
}
