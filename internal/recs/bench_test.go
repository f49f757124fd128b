package recs

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// BenchmarkBuild is the job's computation over 1,000,000 order lines of
// 100,000 buyers and 10,000 products (generated in memory; reading them
// from the database is measured by BenchmarkRead's setup on a smaller shop).
//
//	go test ./internal/recs -run XXX -bench Build -benchtime 1x
func BenchmarkBuild(b *testing.B) {
	now := time.Now().UnixMilli()
	lines, cats := Generate(GenSpec{Users: 100_000, Products: 10_000, Lines: 1_000_000, Seed: 1, Now: now})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := slices.Clone(lines)
		m := Build(in, cats, Params{HalfLife: 90 * 24 * time.Hour, Keep: 40, Now: now})
		if len(m.Together) == 0 {
			b.Fatal("empty model")
		}
	}
	b.ReportMetric(float64(len(lines)), "lines")
}

// BenchmarkRead times the product route's service call on each engine: a
// logged-in buyer (their recent purchases read from the database to
// exclude), a 10,000-product shop in the real catalog read model, the
// model built from 1,000,000 generated lines. It reports p50 and p99.
//
//	go test ./internal/recs -run XXX -bench Read -benchtime 20000x
func BenchmarkRead(b *testing.B) {
	for _, engine := range db.TestEngines() {
		b.Run(string(engine), func(b *testing.B) {
			benchRead(b, db.OpenTest(b, engine))
		})
	}
}

func benchRead(b *testing.B, d *db.DB) {
	ctx := context.Background()
	f := &fixture{t: b, ctx: ctx, d: d, cats: map[string]int64{}, spus: map[string]int64{}}
	var shopID int64
	if err := d.QueryRow(ctx, `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES ('店', ?, 'enterprise', 0, 0) RETURNING id`,
		fmt.Sprintf("wx%016d", seq.Add(1))).Scan(&shopID); err != nil {
		b.Fatal(err)
	}
	f.shop = shopID
	const products = 10_000
	ids := make([]int64, products)
	now := time.Now().UnixMilli()
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var cat int64
		if err := tx.QueryRow(ctx, `INSERT INTO categories (shop_id, name, created_at, updated_at) VALUES (?, '类', 0, 0) RETURNING id`, shopID).Scan(&cat); err != nil {
			return err
		}
		for i := range ids {
			if err := tx.QueryRow(ctx, `INSERT INTO spus (shop_id, category_id, title, images, on_shelf, price_min, price_max, created_at, updated_at)
				VALUES (?, ?, ?, '["https://img.example.com/a.jpg"]', TRUE, 9900, 19900, ?, ?) RETURNING id`, shopID, cat, fmt.Sprintf("商品%d", i), now, now).Scan(&ids[i]); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO skus (shop_id, spu_id, price, stock, created_at, updated_at) VALUES (?, ?, 9900, 10, 0, 0)`, shopID, ids[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	lines, gcats := Generate(GenSpec{Users: 100_000, Products: products, Lines: 1_000_000, Seed: 1, Now: now})
	cats := make(map[int64]int64, len(gcats))
	for id, c := range gcats {
		cats[ids[id-1]] = c
	}
	for i := range lines {
		lines[i].SPU = ids[lines[i].SPU-1]
	}
	cat := catalog.NewService(d, nil)
	if err := cat.Load(ctx); err != nil {
		b.Fatal(err)
	}
	s := NewService(d, cat)
	s.install(shopID, Build(lines, cats, DefaultSettings.params(time.Now())))
	// A buyer with a dozen paid orders.
	f.spus = map[string]int64{}
	for i := 0; i < 12; i++ {
		f.spus[fmt.Sprint(i)] = ids[i*7]
	}
	var member int64
	if err := d.QueryRow(ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, 'bench', 0, 0) RETURNING id`, shopID).Scan(&member); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		f.order(member, "paid", time.Now().Add(-time.Duration(i)*24*time.Hour), fmt.Sprint(i))
	}
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r, err := s.ForProduct(ctx, shopID, member, ids[(i*7919)%products])
		if err != nil || len(r.Items) != 10 {
			b.Fatalf("read: %d items, %v", len(r.Items), err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkRebuildFromDatabase is the whole job for one shop: read
// 1,000,000 paid order lines (100,000 buyers, 10,000 products) from the
// database, build, store. Loading the data takes longer than the job.
//
//	go test ./internal/recs -run XXX -bench RebuildFromDatabase -benchtime 1x
func BenchmarkRebuildFromDatabase(b *testing.B) {
	for _, engine := range db.TestEngines() {
		b.Run(string(engine), func(b *testing.B) {
			d := db.OpenTest(b, engine)
			shopID := loadHistory(b, d, 100_000, 10_000, 1_000_000)
			s := NewService(d, nil)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m, err := s.Rebuild(context.Background(), shopID)
				if err != nil || m.Lines < 900_000 {
					b.Fatalf("rebuild: %v", err)
				}
				b.ReportMetric(float64(m.Lines), "lines")
			}
		})
	}
}

// loadHistory writes a generated history to the tables with multi-row inserts.
func loadHistory(b *testing.B, d *db.DB, users, products, lineCount int) int64 {
	ctx := context.Background()
	now := time.Now().UnixMilli()
	lines, cats := Generate(GenSpec{Users: users, Products: products, Lines: lineCount, Seed: 1, Now: now})
	var shopID int64
	if err := d.QueryRow(ctx, `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES ('店', ?, 'enterprise', 0, 0) RETURNING id`,
		fmt.Sprintf("wx%016d", seq.Add(1))).Scan(&shopID); err != nil {
		b.Fatal(err)
	}
	batch := func(head string, n, width int, row func(i int) []any) {
		const per = 400
		for start := 0; start < n; start += per {
			end := min(start+per, n)
			q := head + " VALUES "
			var args []any
			for i := start; i < end; i++ {
				if i > start {
					q += ","
				}
				q += "(?" + repeat(",?", width-1) + ")"
				args = append(args, row(i)...)
			}
			if _, err := d.Exec(ctx, q, args...); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Ids chosen by the loader (a fresh database per benchmark), offset past
	// whatever the template holds.
	base := int64(1_000_000)
	batch(`INSERT INTO categories (id, shop_id, name, created_at, updated_at)`, 1, 5, func(int) []any { return []any{base, shopID, "类", 0, 0} })
	batch(`INSERT INTO spus (id, shop_id, category_id, title, on_shelf, price_min, price_max, created_at, updated_at)`, products, 9,
		func(i int) []any { return []any{base + int64(i) + 1, shopID, base, "商品", true, 100, 100, now, now} })
	batch(`INSERT INTO skus (id, shop_id, spu_id, price, stock, created_at, updated_at)`, products, 7,
		func(i int) []any { return []any{base + int64(i) + 1, shopID, base + int64(i) + 1, 100, 10, 0, 0} })
	batch(`INSERT INTO members (id, shop_id, openid, created_at, updated_at)`, users, 5,
		func(i int) []any { return []any{base + int64(i) + 1, shopID, fmt.Sprintf("o%d", i), 0, 0} })
	type ord struct{ id, member, at int64 }
	var orders []ord
	for i, l := range lines {
		if i == 0 || l.OrderID != lines[i-1].OrderID {
			orders = append(orders, ord{l.OrderID, l.MemberID, l.At})
		}
	}
	batch(`INSERT INTO orders (id, shop_id, member_id, order_no, status, goods_amount, shipping_fee, total_amount, paid_amount,
		address, idempotency_key, pay_deadline, paid_at, created_at, updated_at)`, len(orders), 15, func(i int) []any {
		o := orders[i]
		return []any{base + o.id, shopID, base + o.member, fmt.Sprintf("B%d", o.id), "completed", 100, 0, 100, 100, "{}", fmt.Sprintf("k%d", o.id), 0, o.at, o.at, o.at}
	})
	batch(`INSERT INTO order_lines (shop_id, order_id, spu_id, sku_id, title, unit_price, quantity, amount)`, len(lines), 8, func(i int) []any {
		l := lines[i]
		return []any{shopID, base + l.OrderID, base + l.SPU, base + l.SPU, "商品", 100, 1, 100}
	})
	_ = cats
	return shopID
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

// BenchmarkRecordView is what the product route adds for a logged-in
// buyer: one map write under a mutex (100,000 buyers viewing in parallel).
//
//	go test ./internal/recs -run XXX -bench RecordView
func BenchmarkRecordView(b *testing.B) {
	s := NewService(nil, nil)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			s.RecordView(1, i%100_000, i%10_000)
			if i%50_000 == 0 { // a flush takes the map away, as Run does every second
				s.views.mu.Lock()
				s.views.pending, s.views.n = map[buyer]map[int64]int64{}, 0
				s.views.mu.Unlock()
			}
		}
	})
}
