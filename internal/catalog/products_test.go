package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/shop"
)

func TestCreateProductWithSpecGrid(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		in := gridInput(cat, "D")
		in.Title = "  夏季新款碎花连衣裙 " // trimmed
		p := e.create(s, in)

		if p.ID == 0 || p.CategoryID != cat || p.Title != "夏季新款碎花连衣裙" || p.Subtitle != "雪纺 显瘦" || !p.OnShelf || p.Deleted {
			t.Fatalf("product = %+v", p)
		}
		if p.PriceMin != 9900 || p.PriceMax != 12900 {
			t.Fatalf("price range = %d..%d, want 9900..12900", p.PriceMin, p.PriceMax)
		}
		if !slices.Equal(p.Images, in.Images) || len(p.Specs) != 2 || p.Specs[0].Name != "颜色" ||
			!slices.Equal(p.Specs[1].Values, []string{"S", "M", "L"}) {
			t.Fatalf("images/specs = %v / %+v", p.Images, p.Specs)
		}
		if len(p.SKUs) != 6 {
			t.Fatalf("%d SKUs, want 6", len(p.SKUs))
		}
		for i, k := range p.SKUs {
			want := in.SKUs[i]
			if k.ID == 0 || !slices.Equal(k.SpecValues, want.SpecValues) || k.Price != want.Price || k.Stock != 10 || k.Code != want.Code {
				t.Fatalf("SKU %d = %+v, want %+v", i, k, want)
			}
		}
		if p.CreatedAt.IsZero() || p.UpdatedAt.Before(p.CreatedAt) {
			t.Fatalf("times = %v / %v", p.CreatedAt, p.UpdatedAt)
		}

		// The stored product reads back the same, for staff and buyers.
		for _, staff := range []bool{true, false} {
			got, err := e.cat.Product(e.ctx, s, p.ID, staff)
			if err != nil || got.PriceMin != 9900 || len(got.SKUs) != 6 || got.SKUs[5].Code != "D-蓝-L" {
				t.Fatalf("Product(staff=%v) = %+v, %v", staff, got, err)
			}
		}
		if n := e.count("skus"); n != 6 {
			t.Fatalf("%d sku rows, want 6", n)
		}
	})
}

func TestCreateProductValidation(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		existing := e.create(s, gridInput(cat, "OLD"))
		spus, skus := e.count("spus"), e.count("skus")

		cases := []struct {
			name   string
			edit   func(in *catalog.ProductInput)
			kind   errs.Kind
			code   string
			field  string
			substr string // in the field's message, when set
		}{
			{"negative price", func(in *catalog.ProductInput) { in.SKUs[1].Price = -1 },
				errs.Invalid, "invalid_fields", "skus[1].price", ""},
			{"price over max", func(in *catalog.ProductInput) { in.SKUs[2].Price = catalog.MaxPriceFen + 1 },
				errs.Invalid, "invalid_fields", "skus[2].price", ""},
			{"negative stock", func(in *catalog.ProductInput) { in.SKUs[0].Stock = -1 },
				errs.Invalid, "invalid_fields", "skus[0].stock", ""},
			{"stock over max", func(in *catalog.ProductInput) { in.SKUs[0].Stock = catalog.MaxStock + 1 },
				errs.Invalid, "invalid_fields", "skus[0].stock", ""},
			{"spec value not in dims", func(in *catalog.ProductInput) { in.SKUs[3].SpecValues = []string{"绿", "S"} },
				errs.Invalid, "invalid_fields", "skus[3].spec_values", "one value of each"},
			{"too few spec values", func(in *catalog.ProductInput) { in.SKUs[3].SpecValues = []string{"蓝"} },
				errs.Invalid, "invalid_fields", "skus[3].spec_values", "one value of each"},
			{"values in the wrong order", func(in *catalog.ProductInput) { in.SKUs[3].SpecValues = []string{"S", "蓝"} },
				errs.Invalid, "invalid_fields", "skus[3].spec_values", "one value of each"},
			{"duplicate spec combination", func(in *catalog.ProductInput) { in.SKUs[4].SpecValues = []string{"红", "S"} },
				errs.Invalid, "invalid_fields", "skus[4].spec_values", "same spec values"},
			{"duplicate SKU code", func(in *catalog.ProductInput) { in.SKUs[5].Code = in.SKUs[0].Code },
				errs.Invalid, "invalid_fields", "skus[5].code", ""},
			{"SKU code of another product", func(in *catalog.ProductInput) { in.SKUs[5].Code = existing.SKUs[2].Code },
				errs.Invalid, "sku_code_taken", "skus", ""},
			{"empty title", func(in *catalog.ProductInput) { in.Title = "  " },
				errs.Invalid, "invalid_fields", "title", ""},
			{"title too long", func(in *catalog.ProductInput) { in.Title = strings.Repeat("裙", catalog.MaxTitleRunes+1) },
				errs.Invalid, "invalid_fields", "title", ""},
			{"too many dims", func(in *catalog.ProductInput) {
				in.Specs = append(in.Specs, catalog.SpecDim{Name: "材质", Values: []string{"棉"}}, catalog.SpecDim{Name: "款式", Values: []string{"长"}})
				for i := range in.SKUs {
					in.SKUs[i].SpecValues = append(in.SKUs[i].SpecValues, "棉", "长")
				}
			}, errs.Invalid, "invalid_fields", "specs", ""},
			{"duplicate dim name", func(in *catalog.ProductInput) { in.Specs[1].Name = "颜色" },
				errs.Invalid, "invalid_fields", "specs[1].name", ""},
			{"duplicate dim value", func(in *catalog.ProductInput) { in.Specs[1].Values = []string{"S", "M", "S"} },
				errs.Invalid, "invalid_fields", "specs[1].values", ""},
			{"no SKUs", func(in *catalog.ProductInput) { in.SKUs = nil },
				errs.Invalid, "invalid_fields", "skus", ""},
			{"javascript image", func(in *catalog.ProductInput) { in.Images = []string{"javascript:alert(1)"} },
				errs.Invalid, "invalid_fields", "images[0]", ""},
			{"relative image", func(in *catalog.ProductInput) { in.Images = []string{"https://ok.example.com/a.jpg", "/a.jpg"} },
				errs.Invalid, "invalid_fields", "images[1]", ""},
			{"no category", func(in *catalog.ProductInput) { in.CategoryID = 0 },
				errs.Invalid, "invalid_fields", "category_id", ""},
			{"unknown category", func(in *catalog.ProductInput) { in.CategoryID = 987654 },
				errs.Invalid, "category_not_found", "category_id", ""},
			{"unknown category, draft", func(in *catalog.ProductInput) { in.CategoryID = 987654; in.OnShelf = false },
				errs.Invalid, "category_not_found", "category_id", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := gridInput(cat, "NEW")
				tc.edit(&in)
				_, err := e.cat.CreateProduct(e.ctx, s, in)
				got := wantErr(t, err, tc.kind, tc.code, tc.field)
				if tc.substr != "" && !strings.Contains(got.Fields[tc.field], tc.substr) {
					t.Fatalf("%s: %q does not say %q", tc.field, got.Fields[tc.field], tc.substr)
				}
				if n, m := e.count("spus"), e.count("skus"); n != spus || m != skus {
					t.Fatalf("failed create left rows: spus %d→%d, skus %d→%d", spus, n, skus, m)
				}
			})
		}

		// Every problem is reported at once.
		in := gridInput(cat, "NEW")
		in.Title, in.SKUs[0].Price, in.Images = "", -5, []string{"ftp://x"}
		wantErr(t, errOf(e.cat.CreateProduct(e.ctx, s, in)), errs.Invalid, "invalid_fields", "title", "skus[0].price", "images[0]")

		// A missing shop is not found.
		_, err := e.cat.CreateProduct(e.ctx, 424242, gridInput(cat, "X"))
		wantErr(t, err, errs.NotFound, "shop_not_found")
	})
}

func errOf[T any](_ T, err error) error { return err }

func TestSKUCodesAreUniquePerShop(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a, b := e.shop(shop.Enterprise), e.shop(shop.Enterprise)
		catA, catB := e.category(a, 0, "连衣裙"), e.category(b, 0, "连衣裙")
		e.create(a, gridInput(catA, "SAME"))

		_, err := e.cat.CreateProduct(e.ctx, a, gridInput(catA, "SAME"))
		wantErr(t, err, errs.Invalid, "sku_code_taken", "skus")
		// Another shop may use the same codes.
		pb := e.create(b, gridInput(catB, "SAME"))
		if pb.SKUs[0].Code != "SAME-红-S" {
			t.Fatalf("shop B SKU code = %q", pb.SKUs[0].Code)
		}
		// Empty codes never clash.
		in := gridInput(catA, "")
		for i := range in.SKUs {
			in.SKUs[i].Code = ""
		}
		e.create(a, in)
		e.create(a, in)
		if n, m := e.count("spus"), e.count("skus"); n != 4 || m != 24 {
			t.Fatalf("rows = %d spus, %d skus; want 4, 24", n, m)
		}
	})
}

// skuInputs turns a product's SKUs back into inputs that keep them.
func skuInputs(p catalog.Product) []catalog.SKUInput {
	out := make([]catalog.SKUInput, len(p.SKUs))
	for i, k := range p.SKUs {
		out[i] = catalog.SKUInput{ID: k.ID, SpecValues: k.SpecValues, Price: k.Price, Stock: k.Stock, Code: k.Code}
	}
	return out
}

func TestReplaceProductSKUs(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		p := e.create(s, gridInput(cat, "D"))
		old := skuInputs(p)

		// Keep 红/S, 红/M, 红/L, 蓝/S (the first with a new price and stock),
		// drop 蓝/M and 蓝/L, add 红/XL with the code 蓝/L had.
		in := gridInput(cat, "D")
		in.Title = "碎花连衣裙 改"
		in.Specs[1].Values = append(in.Specs[1].Values, "XL")
		in.SKUs = append(old[:4:4], catalog.SKUInput{SpecValues: []string{"红", "XL"}, Price: 20000, Stock: 3, Code: old[5].Code})
		in.SKUs[0].Price, in.SKUs[0].Stock = 5000, 42
		got, err := e.cat.ReplaceProduct(e.ctx, s, p.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "碎花连衣裙 改" || got.PriceMin != 5000 || got.PriceMax != 20000 || len(got.Specs[1].Values) != 4 {
			t.Fatalf("replaced product = %+v", got)
		}
		if len(got.SKUs) != 5 {
			t.Fatalf("%d SKUs after replace, want 5: %+v", len(got.SKUs), got.SKUs)
		}
		for i := range 4 {
			if got.SKUs[i].ID != old[i].ID || !slices.Equal(got.SKUs[i].SpecValues, old[i].SpecValues) {
				t.Fatalf("kept SKU %d = %+v, want id %d", i, got.SKUs[i], old[i].ID)
			}
		}
		if k := got.SKUs[0]; k.Price != 5000 || k.Stock != 42 {
			t.Fatalf("updated SKU = %+v", k)
		}
		added := got.SKUs[4]
		if added.ID == old[5].ID || added.ID == old[4].ID || added.Code != old[5].Code || added.Price != 20000 {
			t.Fatalf("added SKU = %+v", added)
		}
		// The retired SKUs are soft-deleted rows, not returned.
		var retired int
		if err := d.QueryRow(e.ctx, `SELECT COUNT(*) FROM skus WHERE spu_id = ? AND deleted_at IS NOT NULL`, p.ID).Scan(&retired); err != nil {
			t.Fatal(err)
		}
		if retired != 2 || e.count("skus") != 7 {
			t.Fatalf("retired = %d, rows = %d; want 2 of 7", retired, e.count("skus"))
		}
		again, _ := e.cat.Product(e.ctx, s, p.ID, true)
		for _, k := range again.SKUs {
			if k.ID == old[4].ID || k.ID == old[5].ID {
				t.Fatalf("retired SKU %d still returned", k.ID)
			}
		}
		// A retired SKU cannot be brought back by id.
		in2 := in
		in2.SKUs = append(skuInputs(again), catalog.SKUInput{ID: old[4].ID, SpecValues: []string{"蓝", "M"}, Price: 1, Stock: 1})
		_, err = e.cat.ReplaceProduct(e.ctx, s, p.ID, in2)
		wantErr(t, err, errs.Invalid, "sku_not_found", "skus")
	})
}

func TestReplaceProductRejects(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		p := e.create(s, gridInput(cat, "P"))
		q := e.create(s, gridInput(cat, "Q"))

		unchanged := func() {
			t.Helper()
			got, err := e.cat.Product(e.ctx, s, p.ID, true)
			if err != nil || got.Title != p.Title || len(got.SKUs) != 6 || got.SKUs[0].ID != p.SKUs[0].ID || got.PriceMin != p.PriceMin {
				t.Fatalf("product changed by a refused replace: %+v, %v", got, err)
			}
		}

		// A SKU id of another product.
		in := gridInput(cat, "P")
		in.Title = "改名"
		in.SKUs = skuInputs(p)
		in.SKUs[0].ID = q.SKUs[0].ID
		_, err := e.cat.ReplaceProduct(e.ctx, s, p.ID, in)
		wantErr(t, err, errs.Invalid, "sku_not_found", "skus")
		unchanged()

		// The same SKU id twice would silently merge two SKUs into one.
		in = gridInput(cat, "P")
		in.SKUs = skuInputs(p)
		in.SKUs[1].ID = in.SKUs[0].ID
		_, err = e.cat.ReplaceProduct(e.ctx, s, p.ID, in)
		wantErr(t, err, errs.Invalid, "invalid_fields", "skus[1].id")
		unchanged()

		// A code that another product of the shop uses.
		in = gridInput(cat, "P")
		in.Title = "改名"
		in.SKUs = skuInputs(p)
		in.SKUs[3].Code = q.SKUs[3].Code
		_, err = e.cat.ReplaceProduct(e.ctx, s, p.ID, in)
		wantErr(t, err, errs.Invalid, "sku_code_taken", "skus")
		unchanged()

		// Validation runs as on create.
		in = gridInput(cat, "P")
		in.SKUs = skuInputs(p)
		in.SKUs[2].Price = -1
		_, err = e.cat.ReplaceProduct(e.ctx, s, p.ID, in)
		wantErr(t, err, errs.Invalid, "invalid_fields", "skus[2].price")
		unchanged()

		// Unknown product, and another shop's product.
		_, err = e.cat.ReplaceProduct(e.ctx, s, 999999, gridInput(cat, "Z"))
		wantErr(t, err, errs.NotFound, "product_not_found")
		other := e.shop(shop.Enterprise)
		otherCat := e.category(other, 0, "连衣裙")
		_, err = e.cat.ReplaceProduct(e.ctx, other, p.ID, gridInput(otherCat, "Z"))
		wantErr(t, err, errs.NotFound, "product_not_found")
		unchanged()
		if n := e.count("skus"); n != 12 {
			t.Fatalf("%d sku rows after refused replaces, want 12", n)
		}
	})
}

// TestReplaceProductStock covers what the stock compare-and-set can see:
// staff's stock edits go through, and the stock is compared against the
// value read inside the replace transaction. A sale that happens between
// staff loading the product and saving it is NOT detected (the input has no
// "stock I saw" to compare against); see the report that came with these
// tests.
func TestReplaceProductStock(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		p := e.create(s, gridInput(cat, "D"))

		in := gridInput(cat, "D")
		in.SKUs = skuInputs(p)
		in.SKUs[0].Stock = 0
		in.SKUs[1].Stock = 500
		got, err := e.cat.ReplaceProduct(e.ctx, s, p.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.SKUs[0].Stock != 0 || got.SKUs[1].Stock != 500 || got.SKUs[2].Stock != 10 {
			t.Fatalf("stocks after replace = %d, %d, %d", got.SKUs[0].Stock, got.SKUs[1].Stock, got.SKUs[2].Stock)
		}
		var stock int64
		if err := d.QueryRow(e.ctx, `SELECT stock FROM skus WHERE id = ?`, p.SKUs[1].ID).Scan(&stock); err != nil || stock != 500 {
			t.Fatalf("stored stock = %d, %v", stock, err)
		}
	})
}

// TestReplaceProductKeepsConcurrentSales: with stock_seen, an edit never
// overwrites a sale made while the editor was open.
func TestReplaceProductKeepsConcurrentSales(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		p := e.create(s, gridInput(cat, "D"))
		seen := p.SKUs[0].Stock
		sell := func() {
			if _, err := d.Exec(e.ctx, `UPDATE skus SET stock = stock - 1 WHERE id = ?`, p.SKUs[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		stockNow := func() (n int64) {
			d.QueryRow(e.ctx, `SELECT stock FROM skus WHERE id = ?`, p.SKUs[0].ID).Scan(&n)
			return n
		}
		sell() // a buyer takes one while staff edit the title
		in := gridInput(cat, "D")
		in.Title = "改了标题"
		in.SKUs = skuInputs(p)
		in.SKUs[0].Stock, in.SKUs[0].StockSeen = seen, ptr(seen)
		if _, err := e.cat.ReplaceProduct(e.ctx, s, p.ID, in); err != nil {
			t.Fatal(err)
		}
		if got := stockNow(); got != seen-1 {
			t.Fatalf("stock after a title edit = %d, want %d: the sale was lost", got, seen-1)
		}
		sell() // another sale, then staff set a new stock from a stale view
		in.SKUs[0].Stock = 100
		_, err := e.cat.ReplaceProduct(e.ctx, s, p.ID, in)
		wantErr(t, err, errs.Conflict, "stock_changed")
		if got := stockNow(); got != seen-2 {
			t.Fatalf("a refused edit changed stock to %d", got)
		}
		in.SKUs[0].StockSeen = ptr(seen - 2) // reloaded
		if _, err := e.cat.ReplaceProduct(e.ctx, s, p.ID, in); err != nil || stockNow() != 100 {
			t.Fatalf("an edit from a fresh view: %v, stock %d", err, stockNow())
		}
	})
}
