package order_test

import (
	"context"
	"fmt"
	"testing"

	addrbook "github.com/kaidian/kaidian/internal/address"
	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/freight"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/shop"
)

// book gives checkout the address service's addresses (what server wires).
type book struct{ svc *addrbook.Service }

func (b book) Snapshot(ctx context.Context, shopID, memberID, id int64) (order.Address, error) {
	a, err := b.svc.Get(ctx, shopID, memberID, id)
	return order.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.County, Detail: a.Detail,
		ProvinceCode: a.ProvinceCode, CityCode: a.CityCode, DistrictCode: a.CountyCode}, err
}

// freightEnv is env with freight templates: the dress (skus[0] at 10000
// fen, 800 g; skus[1] at 2500 fen, 300 g) ships by piece, a second
// product (one SKU at 5000 fen, 700 g) by weight, a third at the shop's
// flat fee (800 fen).
type freightEnv struct {
	*env
	book              *addrbook.Service
	fs                *freight.Service
	byWeight, flat    int64 // SKU ids
	pieceID, weightID int64 // template ids
}

func newFreightEnv(t *testing.T, d *db.DB) *freightEnv {
	e := newEnv(t, d, shop.Enterprise, 1000)
	ctx := e.ctx
	fs := freight.NewService(d)
	piece, err := fs.Create(ctx, e.shopID, freight.Input{Name: "按件", Basis: freight.ByPiece,
		Default: freight.Rule{FirstUnits: 1, FirstFee: 1000, ExtraUnits: 1, ExtraFee: 500},
		Rules:   []freight.Rule{{Regions: []string{"330000"}, FirstUnits: 1, FirstFee: 600, ExtraUnits: 1, ExtraFee: 300}},
		Free:    []freight.Free{{MinAmount: 30000}}, NoDelivery: []string{"540000"}})
	if err != nil {
		t.Fatal(err)
	}
	weight, err := fs.Create(ctx, e.shopID, freight.Input{Name: "按重", Basis: freight.ByWeight,
		Default: freight.Rule{FirstUnits: 1000, FirstFee: 1200, ExtraUnits: 500, ExtraFee: 300}})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.NewService(d, e.shops)
	c, err := cat.CreateCategory(ctx, e.shopID, catalog.CategoryInput{Name: ptr("食品")}, false)
	if err != nil {
		t.Fatal(err)
	}
	newProduct := func(title string, templateID, grams int64) int64 {
		p, err := cat.CreateProduct(ctx, e.shopID, catalog.ProductInput{CategoryID: c.ID, Title: title, OnShelf: true, FreightTemplateID: templateID,
			SKUs: []catalog.SKUInput{{Price: 5000, Stock: 1000, WeightGrams: grams}}})
		if err != nil {
			t.Fatal(err)
		}
		if p.FreightTemplateID != templateID || p.SKUs[0].WeightGrams != grams {
			t.Fatalf("the product's template and weight were not kept: %+v", p)
		}
		return p.SKUs[0].ID
	}
	fe := &freightEnv{env: e, book: addrbook.NewService(d), fs: fs, pieceID: piece.ID, weightID: weight.ID,
		byWeight: newProduct("大米", weight.ID, 700), flat: newProduct("茶叶", 0, 0)}
	for sku, grams := range map[int64]int64{e.skus[0]: 800, e.skus[1]: 300} {
		if _, err := d.Exec(ctx, `UPDATE skus SET weight_grams = ? WHERE id = ?`, grams, sku); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Exec(ctx, `UPDATE spus SET freight_template_id = ? WHERE id = (SELECT spu_id FROM skus WHERE id = ?)`, piece.ID, e.skus[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, `UPDATE shops SET shipping_fee = 800 WHERE id = ?`, e.shopID); err != nil {
		t.Fatal(err)
	}
	fe.orders.SetFreight(fs)
	fe.orders.SetAddressBook(book{fe.book})
	return fe
}

var beijing = order.Address{Name: "李四", Phone: "13900139000", ProvinceCode: "110000", CityCode: "110100", DistrictCode: "110105",
	Province: "x", City: "x", Detail: "建国路 1 号"}

var tibet = order.Address{Name: "王五", Phone: "13700137000", Province: "西藏", City: "拉萨", District: "城关区", Detail: "北京中路 1 号"}

// TestFreightPreviewEqualsOrder prices a table of checkouts with freight
// templates: the preview's shipping and total are the order's, and the
// shipping is what the templates say (by piece with a province rule and
// free shipping above 300 yuan, by weight, at the flat fee, summed per
// template). On PostgreSQL buy-now orders take the one-statement path.
func TestFreightPreviewEqualsOrder(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newFreightEnv(t, d)
		buyer := e.member()
		saved, err := e.book.Create(e.ctx, e.shopID, buyer, addrbook.Input{Name: "赵六", Phone: "0571-88888888",
			ProvinceCode: "330000", CityCode: "330100", CountyCode: "330106", Detail: "文三路 2 号"})
		if err != nil {
			t.Fatal(err)
		}
		dress, cheap := e.skus[0], e.skus[1]
		cases := []struct {
			name      string
			items     []order.Item
			addr      order.Address
			addressID int64
			shipping  int64
		}{
			{"piece, province rule (names matched)", []order.Item{{SKUID: cheap, Quantity: 1}}, address, 0, 600},
			{"piece, extra pieces (codes)", []order.Item{{SKUID: cheap, Quantity: 3}}, beijing, 0, 1000 + 2*500},
			{"piece, free above 300 yuan", []order.Item{{SKUID: dress, Quantity: 3}}, beijing, 0, 0},
			{"piece, lines of one template add up", []order.Item{{SKUID: dress, Quantity: 1}, {SKUID: cheap, Quantity: 2}}, beijing, 0, 1000 + 2*500},
			{"weight: 3 × 700 g", []order.Item{{SKUID: e.byWeight, Quantity: 3}}, beijing, 0, 1200 + 3*300},
			{"two templates: summed", []order.Item{{SKUID: cheap, Quantity: 1}, {SKUID: e.byWeight, Quantity: 1}}, beijing, 0, 1000 + 1200},
			{"a flat-fee product adds the flat fee", []order.Item{{SKUID: cheap, Quantity: 1}, {SKUID: e.flat, Quantity: 2}}, beijing, 0, 1000 + 800},
			{"flat fee only", []order.Item{{SKUID: e.flat, Quantity: 1}}, beijing, 0, 800},
			{"address book", []order.Item{{SKUID: cheap, Quantity: 2}}, order.Address{}, saved.ID, 600 + 300},
		}
		for i, c := range cases {
			pv := order.PreviewInput{Items: c.items, AddressID: c.addressID}
			if c.addressID == 0 {
				pv.Address = &c.addr
			}
			p, err := e.orders.Preview(e.ctx, e.shopID, buyer, pv)
			if err != nil {
				t.Fatalf("%s: preview: %v", c.name, err)
			}
			o, err := e.orders.Create(e.ctx, e.shopID, buyer, fmt.Sprintf("freight-%02d", i),
				order.CreateInput{Items: c.items, Address: c.addr, AddressID: c.addressID})
			if err != nil {
				t.Fatalf("%s: order: %v", c.name, err)
			}
			if p.Breakdown.ShippingFee != c.shipping || o.ShippingFee != c.shipping || p.Total != o.TotalAmount ||
				o.TotalAmount != o.GoodsAmount+c.shipping {
				t.Errorf("%s: preview shipping %d total %d, order shipping %d total %d (goods %d); want shipping %d",
					c.name, p.Breakdown.ShippingFee, p.Total, o.ShippingFee, o.TotalAmount, o.GoodsAmount, c.shipping)
			}
			stored, err := e.orders.Get(e.ctx, e.shopID, o.ID, buyer)
			if err != nil {
				t.Fatal(err)
			}
			if stored.ShippingFee != c.shipping || stored.Address.ProvinceCode == "" || stored.Address.CityCode == "" {
				t.Errorf("%s: the stored order: shipping %d, address %+v", c.name, stored.ShippingFee, stored.Address)
			}
		}
		// The snapshot from the book keeps the codes and the table's names.
		o, err := e.orders.Create(e.ctx, e.shopID, buyer, "freight-book", order.CreateInput{Items: []order.Item{{SKUID: cheap, Quantity: 1}}, AddressID: saved.ID})
		if err != nil {
			t.Fatal(err)
		}
		if a := o.Address; a.DistrictCode != "330106" || a.District != "西湖区" || a.Phone != "0571-88888888" || a.Name != "赵六" {
			t.Fatalf("snapshot from the book: %+v", a)
		}
		// With no address, the preview prices with the default rules.
		p, err := e.orders.Preview(e.ctx, e.shopID, buyer, order.PreviewInput{Items: []order.Item{{SKUID: cheap, Quantity: 1}}})
		if err != nil || p.Breakdown.ShippingFee != 1000 {
			t.Fatalf("preview without an address: %v %+v", err, p.Breakdown)
		}
	})
}

// TestFreightTemplateChangesReachCheckout: checkout caches decoded
// templates by version, so a change (two in one millisecond included) is
// priced by the next checkout.
func TestFreightTemplateChangesReachCheckout(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newFreightEnv(t, d)
		buyer := e.member()
		items := []order.Item{{SKUID: e.skus[1], Quantity: 1}}
		for i, fee := range []int64{1000, 1700, 1900, 2300} {
			if i > 0 {
				in := freight.Input{Name: "按件", Default: freight.Rule{FirstUnits: 1, FirstFee: fee, ExtraUnits: 1, ExtraFee: 500}}
				if _, err := e.fs.Update(e.ctx, e.shopID, e.pieceID, in); err != nil {
					t.Fatal(err)
				}
			}
			if i == 2 {
				continue // the next change follows within the same millisecond, most likely
			}
			p, err := e.orders.Preview(e.ctx, e.shopID, buyer, order.PreviewInput{Items: items, Address: &beijing})
			if err != nil {
				t.Fatal(err)
			}
			o, err := e.orders.Create(e.ctx, e.shopID, buyer, fmt.Sprintf("change-%02d", i), order.CreateInput{Items: items, Address: beijing})
			if err != nil {
				t.Fatal(err)
			}
			if p.Breakdown.ShippingFee != fee || o.ShippingFee != fee {
				t.Fatalf("after change %d: preview %d, order %d, want %d", i, p.Breakdown.ShippingFee, o.ShippingFee, fee)
			}
		}
	})
}

// TestFreightRefusals: a region a template does not deliver to, another
// buyer's address, unknown region codes and unmatched names are refused by
// preview and order creation alike, and nothing is written.
func TestFreightRefusals(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newFreightEnv(t, d)
		buyer, other := e.member(), e.member()
		theirs, err := e.book.Create(e.ctx, e.shopID, other, addrbook.Input{Name: "别人", Phone: "13800138001",
			ProvinceCode: "110000", CityCode: "110100", CountyCode: "110105", Detail: "别人家"})
		if err != nil {
			t.Fatal(err)
		}
		badCode := beijing
		badCode.DistrictCode = "330106" // a county of another city
		nowhere := address
		nowhere.Province, nowhere.City, nowhere.District = "火星省", "奥林匹斯市", "山区"
		cheap := []order.Item{{SKUID: e.skus[1], Quantity: 1}}
		cases := []struct {
			name      string
			items     []order.Item
			addr      order.Address
			addressID int64
			code      string
		}{
			{"not delivered to Tibet", cheap, tibet, 0, "region_not_delivered"},
			{"not delivered, with a flat-fee line", append([]order.Item{{SKUID: e.flat, Quantity: 1}}, cheap...), tibet, 0, "region_not_delivered"},
			{"another buyer's address", cheap, order.Address{}, theirs.ID, "address_not_found"},
			{"no such address", cheap, order.Address{}, 999999, "address_not_found"},
			{"codes that do not nest", cheap, badCode, 0, "invalid_region"},
			{"names that match no region", cheap, nowhere, 0, "invalid_region"},
		}
		for i, c := range cases {
			pv := order.PreviewInput{Items: c.items, AddressID: c.addressID}
			if c.addressID == 0 {
				pv.Address = &c.addr
			}
			if _, err := e.orders.Preview(e.ctx, e.shopID, buyer, pv); !isCode(err, c.code) {
				t.Errorf("%s: preview: %v, want %s", c.name, err, c.code)
			}
			_, err := e.orders.Create(e.ctx, e.shopID, buyer, fmt.Sprintf("refused-%02d", i),
				order.CreateInput{Items: c.items, Address: c.addr, AddressID: c.addressID})
			if !isCode(err, c.code) {
				t.Errorf("%s: order: %v, want %s", c.name, err, c.code)
			}
		}
		// Names that match no region are fine for products at the flat fee.
		if _, err := e.orders.Create(e.ctx, e.shopID, buyer, "flat-anywhere", order.CreateInput{Items: []order.Item{{SKUID: e.flat, Quantity: 1}}, Address: nowhere}); err != nil {
			t.Fatalf("flat fee to unmatched names: %v", err)
		}
		var n int64
		d.QueryRow(e.ctx, `SELECT COUNT(*) FROM orders WHERE shop_id = ? AND member_id = ?`, e.shopID, buyer).Scan(&n)
		if n != 1 {
			t.Fatalf("%d orders written, want 1", n)
		}
	})
}

func isCode(err error, code string) bool { return errs.Is(err, code) }
