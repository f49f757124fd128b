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

func TestSearchAndFilter(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		women := e.category(s, 0, "女装")
		dresses := e.category(s, women, "连衣裙")
		long := e.category(s, dresses, "长裙")
		tops := e.category(s, women, "上衣")
		men := e.category(s, 0, "男装")

		floral := e.create(s, gridInput(dresses, "F")) // 夏季新款碎花连衣裙
		maxi := e.create(s, simpleInput(long, "法式复古长款连衣裙", true))
		tee := e.create(s, simpleInput(tops, "纯棉T恤", true))
		shirt := e.create(s, simpleInput(men, "男士商务衬衫", true))
		winter := e.create(s, simpleInput(dresses, "冬季加绒连衣裙", false))

		cases := []struct {
			name string
			q    catalog.ListQuery
			want []int64 // newest first
		}{
			{"all, buyer", catalog.ListQuery{}, []int64{shirt.ID, tee.ID, maxi.ID, floral.ID}},
			{"all, staff", catalog.ListQuery{Staff: true}, []int64{winter.ID, shirt.ID, tee.ID, maxi.ID, floral.ID}},
			{"连衣裙, buyer", catalog.ListQuery{Text: "连衣裙"}, []int64{maxi.ID, floral.ID}},
			{"连衣裙, staff", catalog.ListQuery{Text: "连衣裙", Staff: true}, []int64{winter.ID, maxi.ID, floral.ID}},
			{"two words", catalog.ListQuery{Text: "碎花 连衣裙"}, []int64{floral.ID}},
			{"subtitle", catalog.ListQuery{Text: "雪纺"}, []int64{floral.ID}},
			{"case and width fold", catalog.ListQuery{Text: "ｔ恤"}, []int64{tee.ID}},
			{"no match", catalog.ListQuery{Text: "连衣裙 衬衫"}, nil},
			{"top category has subcategories", catalog.ListQuery{CategoryID: women}, []int64{tee.ID, maxi.ID, floral.ID}},
			{"mid category", catalog.ListQuery{CategoryID: dresses, Staff: true}, []int64{winter.ID, maxi.ID, floral.ID}},
			{"leaf category", catalog.ListQuery{CategoryID: long}, []int64{maxi.ID}},
			{"category and text", catalog.ListQuery{CategoryID: women, Text: "纯棉"}, []int64{tee.ID}},
			{"other branch", catalog.ListQuery{CategoryID: men, Text: "连衣裙"}, nil},
			{"staff, off the shelf", catalog.ListQuery{Staff: true, OffShelf: true}, []int64{winter.ID}},
			{"staff, on the shelf", catalog.ListQuery{Staff: true, OnShelf: true, Text: "连衣裙"}, []int64{maxi.ID, floral.ID}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if got := e.listIDs(e.cat, s, tc.q); !slices.Equal(got, tc.want) {
					t.Fatalf("List(%+v) = %v, want %v", tc.q, got, tc.want)
				}
			})
		}

		page, err := e.cat.List(e.ctx, s, catalog.ListQuery{Text: "碎花", Limit: 10})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("page = %+v, %v", page, err)
		}
		if it := page.Items[0]; it.Title != floral.Title || it.PriceMin != 9900 || it.PriceMax != 12900 ||
			it.Image != floral.Images[0] || !it.OnShelf || it.CategoryID != dresses {
			t.Fatalf("summary = %+v", it)
		}

		_, err = e.cat.List(e.ctx, s, catalog.ListQuery{CategoryID: 999999})
		wantErr(t, err, errs.NotFound, "category_not_found")
	})
}

func TestSearchQueryLength(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "裙")
		e.create(s, simpleInput(cat, strings.Repeat("裙", 50), true))

		_, err := e.cat.List(e.ctx, s, catalog.ListQuery{Text: strings.Repeat("裙", 51)})
		wantErr(t, err, errs.Invalid, "query_too_long", "q")
		page, err := e.cat.List(e.ctx, s, catalog.ListQuery{Text: strings.Repeat("裙", 50), Limit: 10})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("50-rune query: %+v, %v", page, err)
		}
	})
}

func TestListPagination(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		var onShelf, all []int64
		for i := range 7 {
			p := e.create(s, simpleInput(cat, "连衣裙 款"+string(rune('A'+i)), i%3 != 0))
			all = append([]int64{p.ID}, all...)
			if p.OnShelf {
				onShelf = append([]int64{p.ID}, onShelf...)
			}
		}
		for _, tc := range []struct {
			q    catalog.ListQuery
			want []int64
		}{
			{catalog.ListQuery{Limit: 2, Staff: true}, all},
			{catalog.ListQuery{Limit: 2}, onShelf},
			{catalog.ListQuery{Limit: 2, Text: "连衣裙", Staff: true}, all},
			{catalog.ListQuery{Limit: 3, CategoryID: cat}, onShelf},
		} {
			var got []int64
			pages := 0
			q := tc.q
			for {
				page, err := e.cat.List(e.ctx, s, q)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(page.Items) > q.Limit || pages > len(tc.want)+1 {
					t.Fatalf("%+v: page %d has %d items", tc.q, pages, len(page.Items))
				}
				for _, it := range page.Items {
					got = append(got, it.ID)
				}
				if page.Next == 0 {
					break
				}
				q.After = page.Next
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%+v walked %v, want each of %v once, newest first", tc.q, got, tc.want)
			}
			if wantPages := (len(tc.want) + tc.q.Limit - 1) / tc.q.Limit; pages < wantPages {
				t.Fatalf("%+v: %d pages, want at least %d", tc.q, pages, wantPages)
			}
		}
	})
}

func TestListTenancy(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a, b := e.shop(shop.Enterprise), e.shop(shop.Enterprise)
		catA, catB := e.category(a, 0, "连衣裙"), e.category(b, 0, "连衣裙")
		pa := e.create(a, gridInput(catA, "A"))
		draftA := e.create(a, simpleInput(catA, "连衣裙 草稿", false))
		pb := e.create(b, simpleInput(catB, "B店连衣裙", true))

		for _, q := range []catalog.ListQuery{{}, {Staff: true}, {Text: "连衣裙", Staff: true}, {Text: "碎花", Staff: true}} {
			got := e.listIDs(e.cat, b, q)
			if slices.Contains(got, pa.ID) || slices.Contains(got, draftA.ID) {
				t.Fatalf("shop B List(%+v) = %v includes shop A's products", q, got)
			}
		}
		if got := e.listIDs(e.cat, b, catalog.ListQuery{Staff: true}); !slices.Equal(got, []int64{pb.ID}) {
			t.Fatalf("shop B list = %v, want [%d]", got, pb.ID)
		}
		for _, staff := range []bool{false, true} {
			_, err := e.cat.Product(e.ctx, b, pa.ID, staff)
			wantErr(t, err, errs.NotFound, "product_not_found")
		}
		_, err := e.cat.List(e.ctx, b, catalog.ListQuery{CategoryID: catA})
		wantErr(t, err, errs.NotFound, "category_not_found")
		if got := e.listIDs(e.cat, 987654, catalog.ListQuery{Staff: true}); len(got) != 0 {
			t.Fatalf("unknown shop lists %v", got)
		}
	})
}

// TestSecondProcessSeesChangesAfterSync runs two catalogs on one database,
// as two server processes would, and checks that writes through the first
// reach the second's read model with Sync.
func TestSecondProcessSeesChangesAfterSync(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		before := e.create(s, simpleInput(cat, "早就有的连衣裙", true))
		second := e.newCatalog() // Load picks up what exists
		sees := func(q catalog.ListQuery) []int64 {
			t.Helper()
			return e.listIDs(second, s, q)
		}
		sync := func() {
			t.Helper()
			if err := second.Sync(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := sees(catalog.ListQuery{}); !slices.Equal(got, []int64{before.ID}) {
			t.Fatalf("after Load: %v", got)
		}

		p := e.create(s, gridInput(cat, "D"))
		if got := sees(catalog.ListQuery{Text: "碎花"}); len(got) != 0 {
			t.Fatalf("second catalog saw the product before Sync: %v", got)
		}
		sync()
		if got := sees(catalog.ListQuery{Text: "连衣裙"}); !slices.Equal(got, []int64{p.ID, before.ID}) {
			t.Fatalf("after Sync, 连衣裙 = %v", got)
		}

		in := gridInput(cat, "D")
		in.Title = "秋季格纹半身裙"
		in.SKUs = skuInputs(p)
		if _, err := e.cat.ReplaceProduct(e.ctx, s, p.ID, in); err != nil {
			t.Fatal(err)
		}
		sync()
		if got := sees(catalog.ListQuery{Text: "碎花"}); len(got) != 0 {
			t.Fatalf("old title still found after edit: %v", got)
		}
		if got := sees(catalog.ListQuery{Text: "格纹"}); !slices.Equal(got, []int64{p.ID}) {
			t.Fatalf("new title not found after edit: %v", got)
		}

		if _, err := e.cat.SetShelf(e.ctx, s, p.ID, false); err != nil {
			t.Fatal(err)
		}
		sync()
		if got := sees(catalog.ListQuery{}); !slices.Equal(got, []int64{before.ID}) {
			t.Fatalf("off-shelf product visible to buyers: %v", got)
		}
		if got := sees(catalog.ListQuery{Staff: true}); !slices.Equal(got, []int64{p.ID, before.ID}) {
			t.Fatalf("staff list = %v", got)
		}

		if err := e.cat.DeleteProduct(e.ctx, s, p.ID); err != nil {
			t.Fatal(err)
		}
		sync()
		if got := sees(catalog.ListQuery{Staff: true}); !slices.Equal(got, []int64{before.ID}) {
			t.Fatalf("deleted product still listed: %v", got)
		}
		if _, err := e.cat.RestoreProduct(e.ctx, s, p.ID); err != nil {
			t.Fatal(err)
		}
		sync()
		if got := sees(catalog.ListQuery{Staff: true, Text: "格纹"}); !slices.Equal(got, []int64{p.ID}) {
			t.Fatalf("restored product not listed: %v", got)
		}

		// Writes from the second process reach the first the same way.
		if err := second.DeleteProduct(e.ctx, s, before.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.cat.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.listIDs(e.cat, s, catalog.ListQuery{Staff: true}); !slices.Equal(got, []int64{p.ID}) {
			t.Fatalf("first catalog after the second deleted: %v", got)
		}
	})
}

// TestSyncSeesWriteInSameMillisecond: updated_at has millisecond
// resolution, so another process can change a product twice within one
// millisecond (or a clock can repeat). The second write must still reach
// the read model; here it is made directly in the database, keeping
// updated_at as it was.
func TestSyncSeesWriteInSameMillisecond(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		p := e.create(s, simpleInput(cat, "夏季连衣裙", false))
		second := e.newCatalog()
		if got := e.listIDs(second, s, catalog.ListQuery{Staff: true}); !slices.Equal(got, []int64{p.ID}) {
			t.Fatalf("after Load: %v", got)
		}

		if _, err := d.Exec(e.ctx, `UPDATE spus SET title = ?, on_shelf = TRUE WHERE id = ?`, "秋季风衣", p.ID); err != nil {
			t.Fatal(err)
		}
		if err := second.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.listIDs(second, s, catalog.ListQuery{Text: "风衣"}); !slices.Equal(got, []int64{p.ID}) {
			t.Fatalf("same-millisecond edit not seen: 风衣 = %v", got)
		}

		if _, err := d.Exec(e.ctx, `UPDATE spus SET deleted_at = updated_at, on_shelf = FALSE WHERE id = ?`, p.ID); err != nil {
			t.Fatal(err)
		}
		if err := second.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.listIDs(second, s, catalog.ListQuery{Staff: true}); len(got) != 0 {
			t.Fatalf("same-millisecond delete not seen: %v", got)
		}
	})
}
