package levels

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
	d            *db.DB
	s            *Service
	shop, member int64
	clock        time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d, s: NewService(d), clock: time.Date(2026, 6, 1, 12, 0, 0, 0, shanghai)}
	f.s.SetClock(func() time.Time { return f.clock })
	f.shop = db.TestShop(t, d, "wx00000000000000l1")
	f.member = db.TestMember(t, d, f.shop, "m1")
	if _, err := d.Exec(ctx, `UPDATE members SET birthday = '06-02' WHERE id = ?`, f.member); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.SaveLevels(ctx, f.shop, LevelsInput{Levels: []LevelInput{
		{Name: "银卡", GrowthMin: 100, DiscountBP: 9800, PointsBP: 10000},
		{Name: "金卡", GrowthMin: 1000, DiscountBP: 9500, FreeShipping: true, PointsBP: 15000, BirthdayPoints: 200},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) grow(t *testing.T, n int64, key string) {
	t.Helper()
	if err := f.d.InTx(context.Background(), func(tx *db.Tx) error {
		return f.s.Grow(context.Background(), tx, f.shop, f.member, n, "测试", "", key)
	}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) level(t *testing.T) MemberLevel {
	t.Helper()
	m, err := f.s.Member(context.Background(), f.shop, f.member)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLevelsRiseAtOnceAndFallOnlyAfterNotice(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		var notices []FallNotice
		f.s.OnFallAnnounced(func(_ context.Context, _ *db.Tx, n FallNotice) error {
			notices = append(notices, n)
			return nil
		})
		f.grow(t, 150, "a")
		f.grow(t, 150, "a") // the same key counts once
		if m := f.level(t); m.Rank != 1 || m.Growth != 150 || m.Next.Name != "金卡" || m.ToNext != 850 {
			t.Fatalf("after 150 growth: %+v", m)
		}
		f.grow(t, 900, "b")
		if m := f.level(t); m.Rank != 2 || m.Name != "金卡" || !m.Benefits.FreeShipping || m.Next != nil {
			t.Fatalf("after 1050 growth: %+v", m)
		}
		// 2027 keeps 2026's growth; 2028 drops it: the fall is announced.
		f.clock = time.Date(2027, 12, 31, 12, 0, 0, 0, shanghai)
		if n, err := f.s.Review(ctx); err != nil || n != 1 {
			t.Fatalf("review in 2027: %d, %v", n, err)
		}
		if m := f.level(t); m.Rank != 2 || m.Pending != nil {
			t.Fatalf("in 2027: %+v", m)
		}
		f.clock = time.Date(2028, 1, 1, 0, 30, 0, 0, shanghai)
		if _, err := f.s.Review(ctx); err != nil {
			t.Fatal(err)
		}
		m := f.level(t)
		due := f.clock.Add(NoticeDays * 24 * time.Hour)
		if m.Rank != 2 || m.Pending == nil || m.Pending.Rank != 0 || !m.Pending.At.Equal(due) {
			t.Fatalf("on 1 January 2028 the fall must be announced for %v: %+v", due, m)
		}
		if len(notices) != 1 || notices[0].Level != "金卡" || notices[0].NewLevel != "" || !notices[0].At.Equal(due) {
			t.Fatalf("the member must be told once: %+v", notices)
		}
		if n, _ := f.s.ApplyFalls(ctx); n != 0 {
			t.Fatalf("a fall applied before its notice ran out: %d", n)
		}
		// Growth back to 银卡 within the notice: the fall is to 银卡, at the same date.
		f.grow(t, 200, "c")
		if m := f.level(t); m.Rank != 2 || m.Pending == nil || m.Pending.Rank != 1 || !m.Pending.At.Equal(due) {
			t.Fatalf("growth of 200 during the notice: %+v", m)
		}
		if len(notices) != 1 {
			t.Fatalf("a changed fall during its notice told the member again: %+v", notices)
		}
		f.clock = due.Add(time.Minute)
		if n, err := f.s.ApplyFalls(ctx); err != nil || n != 1 {
			t.Fatalf("ApplyFalls after the notice: %d, %v", n, err)
		}
		if m := f.level(t); m.Rank != 1 || m.Pending != nil || m.Growth != 200 {
			t.Fatalf("after the notice: %+v", m)
		}
	})
}

func TestAFallIsDroppedWhenTheGrowthComesBack(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.grow(t, 120, "a")
		f.clock = time.Date(2028, 1, 2, 9, 0, 0, 0, shanghai)
		if _, err := f.s.Review(ctx); err != nil {
			t.Fatal(err)
		}
		if m := f.level(t); m.Pending == nil {
			t.Fatalf("no fall announced: %+v", m)
		}
		f.grow(t, 100, "b")
		f.clock = f.clock.Add(40 * 24 * time.Hour)
		if _, err := f.s.ApplyFalls(ctx); err != nil {
			t.Fatal(err)
		}
		if m := f.level(t); m.Rank != 1 || m.Pending != nil {
			t.Fatalf("the member grew back to 银卡 before the date: %+v", m)
		}
	})
}

func TestConcurrentGrowthCountsEveryEntryOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := d.InTx(context.Background(), func(tx *db.Tx) error {
					return f.s.Grow(context.Background(), tx, f.shop, f.member, 50, "并发", "", fmt.Sprintf("k%d", i%10))
				}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if m := f.level(t); m.Growth != 500 || m.Rank != 1 {
			t.Fatalf("20 grows over 10 keys of 50: %+v", m)
		}
	})
}

func TestLadderValidation(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, bad := range []LevelsInput{
			{Levels: []LevelInput{{Name: "a", GrowthMin: 10, DiscountBP: 10000, PointsBP: 10000}, {Name: "b", GrowthMin: 10, DiscountBP: 10000, PointsBP: 10000}}},
			{Levels: []LevelInput{{Name: "a", GrowthMin: 0, DiscountBP: 500, PointsBP: 10000}}},
			{Levels: []LevelInput{{Name: "", GrowthMin: 0, DiscountBP: 10000, PointsBP: 10000}}},
			{Levels: []LevelInput{{Name: "a", GrowthMin: -1, DiscountBP: 10000, PointsBP: 10000}}},
			{Levels: []LevelInput{{Name: "a", GrowthMin: 0, DiscountBP: 10000, PointsBP: 9000}}},
			{Levels: []LevelInput{{Name: "a", GrowthMin: 0, DiscountBP: 10000, PointsBP: 10000}, {Name: "a", GrowthMin: 5, DiscountBP: 10000, PointsBP: 10000}}},
		} {
			if _, err := f.s.SaveLevels(context.Background(), f.shop, bad); !errs.Is(err, "invalid_fields") {
				t.Errorf("SaveLevels(%+v) = %v", bad, err)
			}
		}
		if l, _ := f.s.Levels(context.Background(), f.shop); len(l) != 2 {
			t.Fatalf("a refused ladder changed the levels: %+v", l)
		}
	})
}

type rewards struct {
	mu   sync.Mutex
	keys map[string]int64
}

func (r *rewards) Earn(_ context.Context, _ *db.Tx, _, _, points int64, _, _, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[key] += points
	return nil
}

func TestBirthdayPointsByLevel(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.grow(t, 1000, "a")
		r := &rewards{keys: map[string]int64{}}
		f.clock = time.Date(2026, 6, 2, 8, 0, 0, 0, shanghai)
		if n, err := f.s.GiveBirthdayPoints(context.Background(), r); err != nil || n != 1 {
			t.Fatalf("GiveBirthdayPoints = %d, %v", n, err)
		}
		if got := r.keys[fmt.Sprintf("birthday:%d:2026", f.member)]; got != 200 {
			t.Fatalf("birthday points %v", r.keys)
		}
	})
}
