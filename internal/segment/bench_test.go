package segment

import (
	"context"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// seedBench writes, in SQLite's SQL, 100,000 members of one shop (a tenth
// tagged, sources spread, joined over two years), two orders each (three
// in four paid, over a year) and their lines.
func seedBench(b *testing.B, f *fixture, tagID int64) {
	ctx := context.Background()
	spuOther, skuOther := f.product(b, f.shopA, f.catOther) // a tenth of the lines
	for _, q := range []string{
		`INSERT INTO members (shop_id, openid, phone, nickname, source_kind, last_login_at, created_at, updated_at)
		WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
		SELECT ?1, 'bench' || i, printf('138%08d', i), '买家' || i,
			CASE i % 6 WHEN 0 THEN 'share' WHEN 1 THEN 'promoter' WHEN 2 THEN 'poster' WHEN 3 THEN 'campaign' WHEN 4 THEN 'search' ELSE 'other' END,
			?2 - (i % 700) * ?3 + (i % 50) * ?3, ?2 - (i % 700) * ?3, 0 FROM n`,
		`INSERT INTO member_tag_links (shop_id, tag_id, member_id, created_at) SELECT ?1, ?4, id, 0 FROM members WHERE shop_id = ?1 AND id % 10 = 0`,
		`INSERT INTO orders (shop_id, member_id, order_no, status, goods_amount, shipping_fee, total_amount, paid_amount,
			address, idempotency_key, pay_deadline, paid_at, created_at, updated_at)
		SELECT ?1, m.id, 'B' || m.id || '-' || j.j, CASE WHEN (m.id + j.j) % 4 = 0 THEN 'pending_payment' ELSE 'paid' END, 100, 0, 100,
			CASE WHEN (m.id + j.j) % 4 = 0 THEN 0 ELSE 1000 + (m.id * 37) % 50000 END, '{}', 'k' || j.j, 0,
			CASE WHEN (m.id + j.j) % 4 = 0 THEN NULL ELSE ?2 - ((m.id + j.j) % 365) * ?3 END, 0, 0
		FROM members m, (SELECT 0 AS j UNION ALL SELECT 1) j WHERE m.shop_id = ?1`,
		`INSERT INTO order_lines (shop_id, order_id, spu_id, sku_id, title, unit_price, quantity, amount)
		SELECT ?1, o.id, CASE WHEN o.id % 10 = 0 THEN ?7 ELSE ?5 END, CASE WHEN o.id % 10 = 0 THEN ?8 ELSE ?6 END, 'p', 100, 1, 100
		FROM orders o WHERE o.shop_id = ?1`,
		`ANALYZE`,
	} {
		if _, err := f.d.ExecContext(ctx, q, f.shopA, now.UnixMilli(), dayMs, tagID, f.spuLeaf, f.skuLeaf, spuOther, skuOther); err != nil && q != "ANALYZE" {
			b.Fatal(err)
		}
	}
	f.d.ExecContext(ctx, "ANALYZE")
}

// BenchmarkCount counts segments over 100,000 members on SQLite:
// go test ./internal/segment -run XXX -bench Count -benchtime 20x
func BenchmarkCount(b *testing.B) {
	d := db.OpenTest(b, db.SQLite)
	f := newFixture(b, d)
	ctx := context.Background()
	tag, err := f.s.CreateTag(ctx, f.shopA, TagInput{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	seedBench(b, f, tag.ID)
	for _, c := range []struct {
		name string
		rule Rule
	}{
		{"all", Rule{}},
		{"spent_at_least", Rule{All: []Condition{cond(SpentAtLeast, 30000.0)}}},
		{"spent_at_most", Rule{All: []Condition{cond(SpentAtMost, 10000.0)}}},
		{"bought_category_90pct", Rule{All: []Condition{cond(BoughtCategory, float64(f.catRoot))}}},
		{"bought_category_10pct", Rule{All: []Condition{cond(BoughtCategory, float64(f.catOther))}}},
		{"inactive_30", Rule{All: []Condition{cond(InactiveDays, 30.0)}}},
		{"has_tag", Rule{All: []Condition{cond(HasTag, float64(tag.ID))}}},
		{"joined_30_source", Rule{All: []Condition{cond(JoinedWithinDays, 30.0), cond(SourceKindIs, "share")}}},
		{"combined", Rule{All: []Condition{cond(SpentAtLeast, 5000.0), cond(InactiveDays, 30.0), cond(BoughtCategory, float64(f.catLeaf))},
			Any: []Condition{cond(HasTag, float64(tag.ID)), cond(SourceKindIs, "promoter")}}},
	} {
		rule, err := normalize(c.rule)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			var n int64
			for range b.N {
				p, err := f.s.count(ctx, f.shopA, rule, false)
				if err != nil {
					b.Fatal(err)
				}
				n = p
			}
			b.ReportMetric(float64(n), "members")
		})
	}
}
