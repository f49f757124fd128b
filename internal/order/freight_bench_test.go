package order_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/freight"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/shop"
)

// BenchmarkCreateWithFreight places buy-now orders one after another on
// SQLite (on PostgreSQL with KAIDIAN_BENCH_POSTGRES=1 and
// KAIDIAN_TEST_POSTGRES set), for a product at the flat fee and for one
// under a freight template with region rules: the difference is what
// freight costs order creation (loading the template in the order's
// transaction and pricing it).
func BenchmarkCreateWithFreight(b *testing.B) {
	engine := db.SQLite
	if os.Getenv("KAIDIAN_BENCH_POSTGRES") != "" {
		engine = db.Postgres
	}
	d := db.OpenTest(b, engine)
	ctx := context.Background()
	box, _ := secretbox.New(make([]byte, 32))
	shops := shop.NewService(d, box)
	sh, err := shops.Create(ctx, shop.CreateInput{Name: "店", AppID: fmt.Sprintf("wx%016x", time.Now().UnixNano()), SubjectType: shop.Enterprise})
	if err != nil {
		b.Fatal(err)
	}
	fs := freight.NewService(d)
	in := freight.Input{Name: "运费", Default: freight.Rule{FirstUnits: 1, FirstFee: 1000, ExtraUnits: 1, ExtraFee: 500},
		Free: []freight.Free{{MinAmount: 99900}}, NoDelivery: []string{"540000"}}
	for _, p := range []string{"650000", "150000", "630000", "640000", "620000", "330000", "320000", "310000"} {
		in.Rules = append(in.Rules, freight.Rule{Regions: []string{p}, FirstUnits: 1, FirstFee: 600, ExtraUnits: 1, ExtraFee: 300})
	}
	tpl, err := fs.Create(ctx, sh.ID, in)
	if err != nil {
		b.Fatal(err)
	}
	cat := catalog.NewService(d, shops)
	c, err := cat.CreateCategory(ctx, sh.ID, catalog.CategoryInput{Name: ptr("女装")}, false)
	if err != nil {
		b.Fatal(err)
	}
	sku := func(templateID int64) int64 {
		p, err := cat.CreateProduct(ctx, sh.ID, catalog.ProductInput{CategoryID: c.ID, Title: "连衣裙", OnShelf: true, FreightTemplateID: templateID,
			SKUs: []catalog.SKUInput{{Price: 9900, Stock: 10_000_000, WeightGrams: 500}}})
		if err != nil {
			b.Fatal(err)
		}
		return p.SKUs[0].ID
	}
	flat, templated := sku(0), sku(tpl.ID)
	orders := order.NewService(d, shops)
	orders.SetFreight(fs)
	var member int64
	if err := d.QueryRow(ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, 'bench', 0, 0) RETURNING id`, sh.ID).Scan(&member); err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, c := range []struct {
		name string
		sku  int64
	}{{"flat", flat}, {"template", templated}, {"flat-again", flat}, {"template-again", templated}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				n++
				o, err := orders.Create(ctx, sh.ID, member, fmt.Sprintf("bench-%09d", n), order.CreateInput{
					Items: []order.Item{{SKUID: c.sku, Quantity: 2}}, Address: address})
				if err != nil || o.ShippingFee == 0 && c.sku == templated {
					b.Fatal(err, o.ShippingFee)
				}
			}
		})
	}
}
