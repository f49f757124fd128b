package catalog_test

import (
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/shop"
)

// treeShape renders a tree as "name(child,child)" in order, for comparison.
func treeShape(cats []catalog.Category) string {
	parts := make([]string, len(cats))
	for i, c := range cats {
		parts[i] = c.Name
		if len(c.Children) > 0 {
			parts[i] += "(" + treeShape(c.Children) + ")"
		}
	}
	return strings.Join(parts, ",")
}

func TestCategoryTreeOrder(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		mk := func(parent int64, name string, sort int64) int64 {
			c, err := e.cat.CreateCategory(e.ctx, s, catalog.CategoryInput{ParentID: &parent, Name: &name, Sort: &sort}, false)
			if err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			if c.ID == 0 || c.ParentID != parent || c.Name != name || c.Sort != sort {
				t.Fatalf("created %+v, want %s under %d sort %d", c, name, parent, sort)
			}
			return c.ID
		}
		clothes := mk(0, "服装", 0)
		mk(0, "数码", 10)
		mk(0, "食品", 0) // same sort as 服装: the older one first
		women := mk(clothes, "女装", 1)
		mk(clothes, "男装", 5)
		mk(women, "连衣裙", 0)
		mk(women, "半身裙", 3)

		tree, err := e.cat.CategoryTree(e.ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		want := "数码,服装(男装,女装(半身裙,连衣裙)),食品"
		if got := treeShape(tree); got != want {
			t.Fatalf("tree = %s, want %s", got, want)
		}
		if tree[1].Children[1].ID != women || tree[1].Children[1].ParentID != clothes {
			t.Fatalf("女装 node = %+v", tree[1].Children[1])
		}

		// Re-sorting moves a node; another shop's tree is empty.
		if _, err := e.cat.UpdateCategory(e.ctx, s, clothes, catalog.CategoryInput{Sort: ptr(int64(100))}, false); err != nil {
			t.Fatal(err)
		}
		tree, _ = e.cat.CategoryTree(e.ctx, s)
		if got := treeShape(tree); !strings.HasPrefix(got, "服装(") {
			t.Fatalf("after re-sort tree = %s, want 服装 first", got)
		}
		other, err := e.cat.CategoryTree(e.ctx, e.shop(shop.Enterprise))
		if err != nil || len(other) != 0 {
			t.Fatalf("other shop's tree = %v, %v; want empty", other, err)
		}
	})
}

func TestCategoryNameValidation(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		_, err := e.cat.CreateCategory(e.ctx, s, catalog.CategoryInput{}, false)
		wantErr(t, err, errs.Invalid, "required", "name")
		_, err = e.cat.CreateCategory(e.ctx, s, catalog.CategoryInput{Name: ptr("   ")}, false)
		wantErr(t, err, errs.Invalid, "invalid_fields", "name")
		_, err = e.cat.CreateCategory(e.ctx, s, catalog.CategoryInput{Name: ptr(strings.Repeat("裙", 31))}, false)
		wantErr(t, err, errs.Invalid, "invalid_fields", "name")
		_, err = e.cat.CreateCategory(e.ctx, s, catalog.CategoryInput{Name: ptr("裙"), Sort: ptr(int64(1_000_001))}, false)
		wantErr(t, err, errs.Invalid, "invalid_fields", "sort")
		c, err := e.cat.CreateCategory(e.ctx, s, catalog.CategoryInput{Name: ptr("  " + strings.Repeat("裙", 30) + " ")}, false)
		if err != nil || c.Name != strings.Repeat("裙", 30) {
			t.Fatalf("30-rune name: %+v, %v", c, err)
		}
		if n := e.count("categories"); n != 1 {
			t.Fatalf("%d categories stored, want 1", n)
		}
	})
}

func TestCategoryDepthAndCycles(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		l1 := e.category(s, 0, "服装")
		l2 := e.category(s, l1, "女装")
		l3 := e.category(s, l2, "连衣裙")

		// A fourth level is refused, on create and on move.
		_, err := e.cat.CreateCategory(e.ctx, s, catalog.CategoryInput{ParentID: &l3, Name: ptr("长裙")}, false)
		wantErr(t, err, errs.Invalid, "invalid_fields", "parent_id")
		home := e.category(s, 0, "家居")
		_, err = e.cat.UpdateCategory(e.ctx, s, home, catalog.CategoryInput{ParentID: &l3}, false)
		wantErr(t, err, errs.Invalid, "invalid_fields", "parent_id")

		// Moving a category with children counts the levels below it too:
		// 家居 > 厨具 under 女装 would put 厨具 on level 4.
		kitchen := e.category(s, home, "厨具")
		_, err = e.cat.UpdateCategory(e.ctx, s, home, catalog.CategoryInput{ParentID: &l2}, false)
		wantErr(t, err, errs.Invalid, "invalid_fields", "parent_id")
		// Under 服装 it fits: 服装 > 家居 > 厨具.
		moved, err := e.cat.UpdateCategory(e.ctx, s, home, catalog.CategoryInput{ParentID: &l1}, false)
		if err != nil || moved.ParentID != l1 {
			t.Fatalf("move 家居 under 服装: %+v, %v", moved, err)
		}

		// Cycles: under itself, its child, its grandchild.
		for _, target := range []int64{l1, l2, l3, kitchen} {
			_, err := e.cat.UpdateCategory(e.ctx, s, l1, catalog.CategoryInput{ParentID: &target}, false)
			wantErr(t, err, errs.Invalid, "category_cycle", "parent_id")
		}
		// Moving back to the top level works and keeps the subtree.
		if _, err := e.cat.UpdateCategory(e.ctx, s, l2, catalog.CategoryInput{ParentID: ptr(int64(0))}, false); err != nil {
			t.Fatal(err)
		}
		tree, _ := e.cat.CategoryTree(e.ctx, s)
		if got, want := treeShape(tree), "服装(家居(厨具)),女装(连衣裙)"; got != want {
			t.Fatalf("tree = %s, want %s", got, want)
		}
		// A missing category cannot be updated.
		_, err = e.cat.UpdateCategory(e.ctx, s, 999999, catalog.CategoryInput{Name: ptr("x")}, false)
		wantErr(t, err, errs.NotFound, "category_not_found")
	})
}

func TestCategoryBrandAuthIsOperatorOnly(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Individual)
		yes, no := true, false

		_, err := e.cat.CreateCategory(e.ctx, s, catalog.CategoryInput{Name: ptr("美妆"), NeedsBrandAuth: &yes}, false)
		wantErr(t, err, errs.Forbidden, "operator_only")
		if n := e.count("categories"); n != 0 {
			t.Fatalf("refused create stored %d categories", n)
		}

		plain := e.category(s, 0, "服装")
		_, err = e.cat.UpdateCategory(e.ctx, s, plain, catalog.CategoryInput{NeedsBrandAuth: &yes}, false)
		wantErr(t, err, errs.Forbidden, "operator_only")
		// Sending the current value is not a change.
		if c, err := e.cat.UpdateCategory(e.ctx, s, plain, catalog.CategoryInput{Name: ptr("衣服"), NeedsBrandAuth: &no}, false); err != nil || c.NeedsBrandAuth {
			t.Fatalf("staff rename with unchanged flag: %+v, %v", c, err)
		}

		// An operator sets and clears it.
		gated := e.gatedCategory(s, "美妆")
		_, err = e.cat.UpdateCategory(e.ctx, s, gated, catalog.CategoryInput{NeedsBrandAuth: &no}, false)
		wantErr(t, err, errs.Forbidden, "operator_only")
		// Staff may still rename it; the flag stays.
		c, err := e.cat.UpdateCategory(e.ctx, s, gated, catalog.CategoryInput{Name: ptr("彩妆")}, false)
		if err != nil || !c.NeedsBrandAuth || c.Name != "彩妆" {
			t.Fatalf("staff rename of gated category: %+v, %v", c, err)
		}
		if c, err := e.cat.UpdateCategory(e.ctx, s, plain, catalog.CategoryInput{NeedsBrandAuth: &yes}, true); err != nil || !c.NeedsBrandAuth {
			t.Fatalf("operator sets flag: %+v, %v", c, err)
		}
		if c, err := e.cat.UpdateCategory(e.ctx, s, gated, catalog.CategoryInput{NeedsBrandAuth: &no}, true); err != nil || c.NeedsBrandAuth {
			t.Fatalf("operator clears flag: %+v, %v", c, err)
		}
		tree, _ := e.cat.CategoryTree(e.ctx, s)
		flags := map[string]bool{}
		for _, c := range tree {
			flags[c.Name] = c.NeedsBrandAuth
		}
		if !flags["衣服"] || flags["彩妆"] || len(flags) != 2 {
			t.Fatalf("stored flags = %v, want 衣服 gated, 彩妆 not", flags)
		}
	})
}

func TestDeleteCategory(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		parent := e.category(s, 0, "服装")
		child := e.category(s, parent, "女装")
		withProduct := e.category(s, 0, "食品")
		p := e.create(s, simpleInput(withProduct, "月饼", false))
		empty := e.category(s, 0, "空")

		wantErr(t, e.cat.DeleteCategory(e.ctx, s, parent), errs.Conflict, "category_not_empty")
		wantErr(t, e.cat.DeleteCategory(e.ctx, s, withProduct), errs.Conflict, "category_not_empty")
		// A product in the bin still holds its category.
		if err := e.cat.DeleteProduct(e.ctx, s, p.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.cat.DeleteCategory(e.ctx, s, withProduct), errs.Conflict, "category_not_empty")

		// Another shop cannot delete it.
		other := e.shop(shop.Enterprise)
		wantErr(t, e.cat.DeleteCategory(e.ctx, other, empty), errs.NotFound, "category_not_found")

		for _, id := range []int64{empty, child, parent} {
			if err := e.cat.DeleteCategory(e.ctx, s, id); err != nil {
				t.Fatalf("delete empty category %d: %v", id, err)
			}
		}
		wantErr(t, e.cat.DeleteCategory(e.ctx, s, empty), errs.NotFound, "category_not_found")
		tree, _ := e.cat.CategoryTree(e.ctx, s)
		if got := treeShape(tree); got != "食品" {
			t.Fatalf("tree after deletes = %s, want 食品", got)
		}
	})
}

func TestCategoriesStayInTheirShop(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a, b := e.shop(shop.Enterprise), e.shop(shop.Enterprise)
		catA := e.category(a, 0, "服装")
		catB := e.category(b, 0, "数码")

		_, err := e.cat.CreateCategory(e.ctx, b, catalog.CategoryInput{ParentID: &catA, Name: ptr("女装")}, false)
		wantErr(t, err, errs.Invalid, "invalid_fields", "parent_id")
		_, err = e.cat.UpdateCategory(e.ctx, b, catB, catalog.CategoryInput{ParentID: &catA}, false)
		wantErr(t, err, errs.Invalid, "invalid_fields", "parent_id")
		_, err = e.cat.UpdateCategory(e.ctx, b, catA, catalog.CategoryInput{Name: ptr("偷改")}, true)
		wantErr(t, err, errs.NotFound, "category_not_found")

		for _, onShelf := range []bool{false, true} {
			_, err = e.cat.CreateProduct(e.ctx, b, simpleInput(catA, "手机", onShelf))
			wantErr(t, err, errs.Invalid, "category_not_found", "category_id")
		}
		p := e.create(b, simpleInput(catB, "手机", true))
		_, err = e.cat.ReplaceProduct(e.ctx, b, p.ID, simpleInput(catA, "手机", true))
		wantErr(t, err, errs.Invalid, "category_not_found", "category_id")
		_, err = e.cat.List(e.ctx, b, catalog.ListQuery{CategoryID: catA})
		wantErr(t, err, errs.NotFound, "category_not_found")

		treeA, _ := e.cat.CategoryTree(e.ctx, a)
		if got := treeShape(treeA); got != "服装" {
			t.Fatalf("shop A tree = %s", got)
		}
		if n := e.count("spus"); n != 1 {
			t.Fatalf("%d products stored, want 1", n)
		}
	})
}
