package recs

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

var seq atomic.Int64

// fixture is a shop with products and buyers written straight to the
// tables, and the real catalog read model over them.
type fixture struct {
	t    testing.TB
	ctx  context.Context
	d    *db.DB
	cat  *catalog.Service
	shop int64
	cats map[string]int64
	spus map[string]int64 // by name
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	f := &fixture{t: t, ctx: context.Background(), d: d, cats: map[string]int64{}, spus: map[string]int64{}}
	f.shop = f.id(`INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES (?, ?, 'enterprise', 0, 0) RETURNING id`,
		"店", fmt.Sprintf("wx%016d", seq.Add(1)))
	return f
}

func (f *fixture) id(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.d.QueryRow(f.ctx, q, args...).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.d.Exec(f.ctx, q, args...); err != nil {
		f.t.Fatal(err)
	}
}

// product adds a product (and its SKU) in category cat.
func (f *fixture) product(name, cat string, onShelf bool) int64 {
	c, ok := f.cats[cat]
	if !ok {
		c = f.id(`INSERT INTO categories (shop_id, name, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`, f.shop, cat)
		f.cats[cat] = c
	}
	now := time.Now().UnixMilli()
	id := f.id(`INSERT INTO spus (shop_id, category_id, title, on_shelf, price_min, price_max, created_at, updated_at)
		VALUES (?, ?, ?, ?, 100, 100, ?, ?) RETURNING id`, f.shop, c, name, onShelf, now, now)
	f.exec(`INSERT INTO skus (shop_id, spu_id, price, stock, created_at, updated_at) VALUES (?, ?, 100, 10, 0, 0)`, f.shop, id)
	f.spus[name] = id
	return id
}

func (f *fixture) member() int64 {
	return f.id(`INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
		f.shop, fmt.Sprintf("openid-%d", seq.Add(1)))
}

// order writes an order of member with status paid at at, one line per product.
func (f *fixture) order(member int64, status string, at time.Time, products ...string) {
	no := fmt.Sprintf("N%d", seq.Add(1))
	id := f.id(`INSERT INTO orders (shop_id, member_id, order_no, status, goods_amount, shipping_fee, total_amount, paid_amount,
		address, idempotency_key, pay_deadline, paid_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 100, 0, 100, 100, '{}', ?, 0, ?, ?, ?) RETURNING id`,
		f.shop, member, no, status, no, at.UnixMilli(), at.UnixMilli(), at.UnixMilli())
	for _, p := range products {
		var sku int64
		if err := f.d.QueryRow(f.ctx, `SELECT id FROM skus WHERE spu_id = ?`, f.spus[p]).Scan(&sku); err != nil {
			f.t.Fatal(err)
		}
		f.exec(`INSERT INTO order_lines (shop_id, order_id, spu_id, sku_id, title, unit_price, quantity, amount)
			VALUES (?, ?, ?, ?, ?, 100, 1, 100)`, f.shop, id, f.spus[p], sku, p)
	}
}

func (f *fixture) service() *Service {
	f.t.Helper()
	f.cat = catalog.NewService(f.d, nil)
	if err := f.cat.Load(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	return NewService(f.d, f.cat)
}

// names turns an answer into "source:name" strings.
func (f *fixture) names(r Recommendations, err error) []string {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	byID := map[int64]string{}
	for n, id := range f.spus {
		byID[id] = n
	}
	out := []string{}
	for _, it := range r.Items {
		out = append(out, it.Source+":"+byID[it.Product.ID])
	}
	return out
}

func wantNames(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// shopWithHistory: tea and cups go together; a refunded order and a
// cancelled one must not count; 糖 (sugar) is off the shelf.
func shopWithHistory(t *testing.T, d *db.DB) *fixture {
	f := newFixture(t, d)
	for _, p := range []struct{ name, cat string }{{"茶", "饮"}, {"杯", "器"}, {"壶", "器"}, {"盘", "器"}, {"水", "饮"}, {"碗", "器"}} {
		f.product(p.name, p.cat, true)
	}
	f.product("糖", "饮", false)
	now := time.Now()
	a, b, c := f.member(), f.member(), f.member()
	f.order(a, "paid", now.Add(-time.Hour), "茶", "杯")
	f.order(b, "completed", now.Add(-2*time.Hour), "茶", "杯", "糖")
	f.order(c, "shipped", now.Add(-3*time.Hour), "茶", "壶")
	f.order(c, "completed", now.Add(-400*24*time.Hour), "水")
	f.order(a, "refunded", now.Add(-time.Hour), "茶", "盘")
	f.order(b, "cancelled", now.Add(-time.Hour), "茶", "碗")
	return f
}

func TestRebuildStoreAndServe(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := shopWithHistory(t, d)
		s := f.service()
		ctx := f.ctx
		// Before any build: no model, the product answers nothing yet.
		wantNames(t, f.names(s.ForProduct(ctx, f.shop, 0, f.spus["茶"])))
		m, err := s.Rebuild(ctx, f.shop)
		if err != nil {
			t.Fatal(err)
		}
		if m.Lines != 8 {
			t.Fatalf("learned from %d lines, want 8 (refunded and cancelled orders skipped)", m.Lines)
		}
		// 杯 twice with 茶, 壶 once; 水 was bought by 壶's buyer in another
		// order; then popular: 茶 is itself, 糖 is off the shelf; 盘 and 碗 never sold.
		wantNames(t, f.names(s.ForProduct(ctx, f.shop, 0, f.spus["茶"])),
			"bought_together:杯", "bought_together:壶", "also_bought:水")
		wantNames(t, f.names(s.ForProduct(ctx, f.shop, 0, f.spus["壶"])),
			"bought_together:茶", "also_bought:水", "popular_in_category:杯")
		// A product nobody bought: its category's popular products, then the shop's.
		wantNames(t, f.names(s.ForProduct(ctx, f.shop, 0, f.spus["碗"])),
			"popular_in_category:杯", "popular_in_category:壶", "popular:茶", "popular:水")

		// Another process loads the stored model and answers the same.
		other := NewService(d, f.cat)
		if err := other.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		wantNames(t, f.names(other.ForProduct(ctx, f.shop, 0, f.spus["茶"])),
			"bought_together:杯", "bought_together:壶", "also_bought:水")
		if other.Model(f.shop).BuiltAt != m.BuiltAt {
			t.Fatal("other process loaded another model")
		}
	})
}

func TestExclusionsAndTenancy(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := shopWithHistory(t, d)
		s := f.service()
		ctx := f.ctx
		if _, err := s.Rebuild(ctx, f.shop); err != nil {
			t.Fatal(err)
		}
		// A buyer who bought 杯 ten days ago is not shown it; one who
		// bought it 40 days ago is (the window is 30 days).
		recent, old := f.member(), f.member()
		f.order(recent, "paid", time.Now().Add(-10*24*time.Hour), "杯")
		f.order(old, "paid", time.Now().Add(-40*24*time.Hour), "杯")
		wantNames(t, f.names(s.ForProduct(ctx, f.shop, recent, f.spus["茶"])),
			"bought_together:壶", "also_bought:水")
		wantNames(t, f.names(s.ForProduct(ctx, f.shop, old, f.spus["茶"])),
			"bought_together:杯", "bought_together:壶", "also_bought:水")

		// Off the shelf, deleted, unknown, another shop's: 404.
		g := newFixture(t, d)
		foreign := g.product("外", "饮", true)
		s2 := f.service()
		if _, err := s2.Rebuild(ctx, f.shop); err != nil {
			t.Fatal(err)
		}
		f.exec(`UPDATE spus SET deleted_at = 1, updated_at = ? WHERE id = ?`, time.Now().UnixMilli()+1000, f.spus["壶"])
		if err := f.cat.Load(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{f.spus["糖"], f.spus["壶"], foreign, 999999} {
			if _, err := s2.ForProduct(ctx, f.shop, 0, id); !errs.Is(err, "product_not_found") {
				t.Fatalf("product %d: %v, want product_not_found", id, err)
			}
		}
		// The deleted product is not recommended any more, though the model still has it.
		wantNames(t, f.names(s2.ForProduct(ctx, f.shop, 0, f.spus["茶"])), "bought_together:杯", "also_bought:水")
	})
}

func TestRepeatPurchaseNotExcluded(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.product("米", "粮", true)
		f.product("油", "粮", true)
		now := time.Now()
		var last int64
		for i := 0; i < 3; i++ { // everyone buys 米 again and again, 油 once
			last = f.member()
			f.order(last, "completed", now.Add(-48*time.Hour), "米", "油")
			f.order(last, "completed", now.Add(-24*time.Hour), "米")
		}
		s := f.service()
		m, err := s.Rebuild(f.ctx, f.shop)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Repeat[f.spus["米"]] {
			t.Fatal("米 not seen as a repeat purchase")
		}
		// The buyer bought both yesterday: 米 is shown again, 油 is not.
		wantNames(t, f.names(s.ForProduct(f.ctx, f.shop, last, f.spus["油"])), "bought_together:米")
		wantNames(t, f.names(s.ForProduct(f.ctx, f.shop, last, f.spus["米"])))
		// For the buyer: 米 (like 油, bought again by everyone), never 油.
		wantNames(t, f.names(s.ForMember(f.ctx, f.shop, last)), "for_you:米")
	})
}

func TestSettings(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := shopWithHistory(t, d)
		s := f.service()
		ctx := f.ctx
		if st, err := s.Settings(ctx, f.shop); err != nil || st != DefaultSettings {
			t.Fatalf("defaults: %+v %v", st, err)
		}
		for _, bad := range []Settings{{HalfLifeDays: 0, TopK: 10}, {HalfLifeDays: 90, TopK: 0}, {HalfLifeDays: 90, TopK: 51},
			{HalfLifeDays: 90, TopK: 10, ExcludeBoughtDays: -1}, {HalfLifeDays: 1 << 40, TopK: 10}} {
			if _, err := s.SetSettings(ctx, f.shop, bad); !errs.Is(err, "invalid_fields") {
				t.Fatalf("%+v: %v", bad, err)
			}
		}
		st, err := s.SetSettings(ctx, f.shop, Settings{Enabled: true, HalfLifeDays: 30, TopK: 1, ExcludeBoughtDays: 0})
		if err != nil || st.TopK != 1 {
			t.Fatalf("set: %+v %v", st, err)
		}
		var jobs int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = ? AND shop_id = ?`, RebuildKind, f.shop).Scan(&jobs); err != nil || jobs != 1 {
			t.Fatalf("rebuild jobs = %d, %v", jobs, err)
		}
		if _, err := s.Rebuild(ctx, f.shop); err != nil {
			t.Fatal(err)
		}
		wantNames(t, f.names(s.ForProduct(ctx, f.shop, 0, f.spus["茶"])), "bought_together:杯")
		if _, err := s.SetSettings(ctx, f.shop, Settings{Enabled: false, HalfLifeDays: 30, TopK: 1}); err != nil {
			t.Fatal(err)
		}
		wantNames(t, f.names(s.ForProduct(ctx, f.shop, 0, f.spus["茶"])))
		// Disabled shops are skipped by the periodic rebuild.
		f.exec(`DELETE FROM recs_models`)
		if err := s.RebuildAll(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM recs_models WHERE shop_id = ?`, f.shop).Scan(&n); err != nil || n != 0 {
			t.Fatalf("disabled shop rebuilt: %d %v", n, err)
		}
	})
}

func TestRecentlyViewed(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := shopWithHistory(t, d)
		s := f.service()
		ctx := f.ctx
		buyer, other := f.member(), f.member()
		clock := time.Now()
		s.now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
		s.RecordView(f.shop, buyer, f.spus["茶"])
		s.RecordView(f.shop, buyer, f.spus["杯"])
		s.RecordView(f.shop, buyer, f.spus["糖"]) // off the shelf: recorded, not shown
		s.RecordView(f.shop, other, f.spus["水"])
		viewed := func(member int64) []int64 {
			t.Helper()
			r, err := s.RecentlyViewed(ctx, f.shop, member)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, p := range r.Items {
				ids = append(ids, p.ID)
			}
			return ids
		}
		want := fmt.Sprint([]int64{f.spus["杯"], f.spus["茶"]})
		if got := fmt.Sprint(viewed(buyer)); got != want { // not flushed yet: from memory
			t.Fatalf("before flush %s, want %s", got, want)
		}
		if err := s.FlushViews(ctx); err != nil {
			t.Fatal(err)
		}
		s.RecordView(f.shop, buyer, f.spus["茶"]) // viewed again: first
		want = fmt.Sprint([]int64{f.spus["茶"], f.spus["杯"]})
		if got := fmt.Sprint(viewed(buyer)); got != want {
			t.Fatalf("after flush %s, want %s", got, want)
		}
		if got := viewed(other); len(got) != 1 || got[0] != f.spus["水"] {
			t.Fatalf("other buyer sees %v", got)
		}
		// Views seed the buyer's own recommendations (no model yet: none),
		// and are not recommended back (the buyer has them in this list).
		wantNames(t, f.names(s.ForMember(ctx, f.shop, buyer)))
		if _, err := s.Rebuild(ctx, f.shop); err != nil {
			t.Fatal(err)
		}
		got := f.names(s.ForMember(ctx, f.shop, buyer))
		if len(got) < 2 || got[0] != "for_you:壶" && got[0] != "for_you:水" {
			t.Fatalf("for the viewer of 茶 and 杯: %v", got)
		}
		for _, g := range got {
			if g == "for_you:茶" || g == "for_you:杯" || g == "popular:茶" || g == "popular:杯" {
				t.Fatalf("viewed product recommended back: %v", got)
			}
		}
	})
}

// TestViewsCappedUnderConcurrency records views from many goroutines while
// flushing: every buyer ends with their newest maxViewed, nothing lost.
func TestViewsCappedUnderConcurrency(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var ids []int64
		for i := 0; i < maxViewed+10; i++ {
			ids = append(ids, f.product(fmt.Sprintf("p%d", i), "c", true))
		}
		s := f.service()
		var tick atomic.Int64
		base := time.Now().UnixMilli()
		s.now = func() time.Time { return time.UnixMilli(base + tick.Add(1)) } // distinct times: an exact cut
		buyers := []int64{f.member(), f.member(), f.member(), f.member()}
		var wg sync.WaitGroup
		for _, b := range buyers {
			wg.Add(1)
			go func(b int64) {
				defer wg.Done()
				for _, id := range ids {
					s.RecordView(f.shop, b, id)
				}
			}(b)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if err := s.FlushViews(f.ctx); err != nil {
					t.Error(err)
				}
			}
		}()
		wg.Wait()
		if err := s.FlushViews(f.ctx); err != nil {
			t.Fatal(err)
		}
		for _, b := range buyers {
			var n int
			if err := d.QueryRow(f.ctx, `SELECT COUNT(*) FROM recent_views WHERE shop_id = ? AND member_id = ?`, f.shop, b).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != maxViewed {
				t.Fatalf("buyer %d keeps %d views, want %d", b, n, maxViewed)
			}
			r, err := s.RecentlyViewed(f.ctx, f.shop, b)
			if err != nil || len(r.Items) != maxViewed || r.Items[0].ID != ids[len(ids)-1] || r.Items[maxViewed-1].ID != ids[len(ids)-maxViewed] {
				t.Fatalf("recently viewed: %d items (%v), want the newest %d", len(r.Items), err, maxViewed)
			}
		}
	})
}

func TestEnsureBuiltQueuesTheFirstBuildOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := shopWithHistory(t, d)
		s := f.service()
		count := func() int {
			var n int
			if err := d.QueryRow(f.ctx, `SELECT COUNT(*) FROM jobs WHERE kind = ?`, RebuildAllKind).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for i := 0; i < 2; i++ { // two processes start: one job
			if err := s.EnsureBuilt(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(); n != 1 {
			t.Fatalf("%d first builds queued, want 1", n)
		}
		if _, err := s.Rebuild(f.ctx, f.shop); err != nil {
			t.Fatal(err)
		}
		f.exec(`DELETE FROM jobs`)
		if err := s.EnsureBuilt(f.ctx); err != nil || count() != 0 {
			t.Fatalf("a model is stored, yet a first build was queued (%v)", err)
		}
	})
}
