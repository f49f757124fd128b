package catalog_test

import (
	"slices"
	"testing"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/shop"
)

// buyerSees reports whether a buyer finds product id, by id and in the list.
func (e *env) buyerSees(shopID, id int64) bool {
	e.t.Helper()
	_, err := e.cat.Product(e.ctx, shopID, id, false)
	listed := slices.Contains(e.listIDs(e.cat, shopID, catalog.ListQuery{}), id)
	if (err == nil) != listed {
		e.t.Fatalf("product %d: Product(buyer) err %v but listed = %v", id, err, listed)
	}
	if err != nil && !errs.Is(err, "product_not_found") {
		e.t.Fatalf("product %d: %v", id, err)
	}
	return listed
}

func TestPersonalShopCannotPublish(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Personal)
		cat := e.category(s, 0, "手作")

		_, err := e.cat.CreateProduct(e.ctx, s, simpleInput(cat, "手工皂", true))
		wantErr(t, err, errs.Forbidden, "subject_cannot_sell")
		if n := e.count("spus"); n != 0 {
			t.Fatalf("refused create stored %d products", n)
		}

		draft := e.create(s, simpleInput(cat, "手工皂", false))
		if draft.OnShelf {
			t.Fatal("draft is on the shelf")
		}
		_, err = e.cat.SetShelf(e.ctx, s, draft.ID, true)
		wantErr(t, err, errs.Forbidden, "subject_cannot_sell")
		_, err = e.cat.ReplaceProduct(e.ctx, s, draft.ID, simpleInput(cat, "手工皂", true))
		wantErr(t, err, errs.Forbidden, "subject_cannot_sell")
		// The draft can still be edited and taken off the shelf.
		if p, err := e.cat.ReplaceProduct(e.ctx, s, draft.ID, simpleInput(cat, "手工皂 改", false)); err != nil || p.Title != "手工皂 改" {
			t.Fatalf("edit draft: %+v, %v", p, err)
		}
		if p, err := e.cat.SetShelf(e.ctx, s, draft.ID, false); err != nil || p.OnShelf {
			t.Fatalf("shelf off: %+v, %v", p, err)
		}
		if e.buyerSees(s, draft.ID) {
			t.Fatal("buyer sees a personal shop's draft")
		}
		if !slices.Contains(e.listIDs(e.cat, s, catalog.ListQuery{Staff: true}), draft.ID) {
			t.Fatal("staff do not see the draft")
		}
	})
}

func TestIndividualShopBrandGate(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Individual)
		plain := e.category(s, 0, "服装")
		gated := e.gatedCategory(s, "美妆")

		ok := e.create(s, simpleInput(plain, "T恤", true))
		if !ok.OnShelf || !e.buyerSees(s, ok.ID) {
			t.Fatal("individual shop cannot sell in an ungated category")
		}
		_, err := e.cat.CreateProduct(e.ctx, s, simpleInput(gated, "口红", true))
		wantErr(t, err, errs.Forbidden, "brand_authorization_required")

		lipstick := e.create(s, simpleInput(gated, "口红", false)) // a draft is fine
		_, err = e.cat.SetShelf(e.ctx, s, lipstick.ID, true)
		wantErr(t, err, errs.Forbidden, "brand_authorization_required")
		// Moving an on-shelf product into the gated category is gated too.
		_, err = e.cat.ReplaceProduct(e.ctx, s, ok.ID, simpleInput(gated, "T恤", true))
		wantErr(t, err, errs.Forbidden, "brand_authorization_required")
		if e.buyerSees(s, lipstick.ID) {
			t.Fatal("buyer sees a gated draft")
		}

		if _, err := e.shops.Update(e.ctx, s, shop.UpdateInput{BrandAuthorized: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		p, err := e.cat.SetShelf(e.ctx, s, lipstick.ID, true)
		if err != nil || !p.OnShelf {
			t.Fatalf("after brand authorization: %+v, %v", p, err)
		}
		if !e.buyerSees(s, lipstick.ID) {
			t.Fatal("buyer does not see the authorized product")
		}
		e.create(s, simpleInput(gated, "眼影", true))
	})
}

func TestEnterpriseShopSellsInGatedCategory(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		gated := e.gatedCategory(s, "美妆")
		p := e.create(s, simpleInput(gated, "口红", true))
		if !p.OnShelf || !e.buyerSees(s, p.ID) {
			t.Fatal("enterprise product not on the shelf")
		}
		off, err := e.cat.SetShelf(e.ctx, s, p.ID, false)
		if err != nil || off.OnShelf || e.buyerSees(s, p.ID) {
			t.Fatalf("shelf off: %+v, %v", off, err)
		}
		on, err := e.cat.SetShelf(e.ctx, s, p.ID, true)
		if err != nil || !on.OnShelf || !e.buyerSees(s, p.ID) {
			t.Fatalf("shelf on: %+v, %v", on, err)
		}
		_, err = e.cat.SetShelf(e.ctx, s, 999999, true)
		wantErr(t, err, errs.NotFound, "product_not_found")
		_, err = e.cat.SetShelf(e.ctx, e.shop(shop.Enterprise), p.ID, false)
		wantErr(t, err, errs.NotFound, "product_not_found")
		if !e.buyerSees(s, p.ID) {
			t.Fatal("another shop took the product off the shelf")
		}
	})
}

func TestDeleteAndRestoreProduct(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		cat := e.category(s, 0, "连衣裙")
		keep := e.create(s, simpleInput(cat, "保留的裙子", true))
		gone := e.create(s, gridInput(cat, "G"))
		other := e.shop(shop.Enterprise)

		wantErr(t, e.cat.DeleteProduct(e.ctx, other, gone.ID), errs.NotFound, "product_not_found")
		if err := e.cat.DeleteProduct(e.ctx, s, gone.ID); err != nil {
			t.Fatal(err)
		}
		if e.buyerSees(s, gone.ID) {
			t.Fatal("buyer sees a deleted product")
		}
		for _, staff := range []bool{false, true} {
			ids := e.listIDs(e.cat, s, catalog.ListQuery{Staff: staff})
			if !slices.Equal(ids, []int64{keep.ID}) {
				t.Fatalf("List(staff=%v) = %v, want only %d", staff, ids, keep.ID)
			}
			if ids := e.listIDs(e.cat, s, catalog.ListQuery{Staff: staff, Text: "碎花"}); len(ids) != 0 {
				t.Fatalf("search finds deleted product: %v", ids)
			}
		}
		// Staff can still open it, marked deleted and off the shelf.
		p, err := e.cat.Product(e.ctx, s, gone.ID, true)
		if err != nil || !p.Deleted || p.OnShelf || len(p.SKUs) != 6 {
			t.Fatalf("staff view of deleted product: %+v, %v", p, err)
		}
		bin, err := e.cat.ListDeleted(e.ctx, s, nil, 100)
		if err != nil || len(bin) != 1 || bin[0].ID != gone.ID || bin[0].Title != gone.Title ||
			bin[0].PriceMin != 9900 || bin[0].Image != gone.Images[0] {
			t.Fatalf("ListDeleted = %+v, %v", bin, err)
		}
		if bin, _ := e.cat.ListDeleted(e.ctx, other, nil, 100); len(bin) != 0 {
			t.Fatalf("other shop's bin = %+v", bin)
		}
		// A deleted product cannot be deleted, edited or shelved again.
		wantErr(t, e.cat.DeleteProduct(e.ctx, s, gone.ID), errs.NotFound, "product_not_found")
		_, err = e.cat.ReplaceProduct(e.ctx, s, gone.ID, gridInput(cat, "G"))
		wantErr(t, err, errs.NotFound, "product_not_found")
		_, err = e.cat.SetShelf(e.ctx, s, gone.ID, true)
		wantErr(t, err, errs.NotFound, "product_not_found")
		// Only its own shop restores it, and only from the bin.
		_, err = e.cat.RestoreProduct(e.ctx, other, gone.ID)
		wantErr(t, err, errs.NotFound, "product_not_deleted")
		_, err = e.cat.RestoreProduct(e.ctx, s, keep.ID)
		wantErr(t, err, errs.NotFound, "product_not_deleted")

		back, err := e.cat.RestoreProduct(e.ctx, s, gone.ID)
		if err != nil || back.Deleted || back.OnShelf || len(back.SKUs) != 6 {
			t.Fatalf("restored = %+v, %v", back, err)
		}
		if bin, _ := e.cat.ListDeleted(e.ctx, s, nil, 100); len(bin) != 0 {
			t.Fatalf("bin after restore = %+v", bin)
		}
		if e.buyerSees(s, gone.ID) {
			t.Fatal("restored product is on the shelf")
		}
		if ids := e.listIDs(e.cat, s, catalog.ListQuery{Staff: true}); !sameIDs(ids, []int64{keep.ID, gone.ID}) {
			t.Fatalf("staff list after restore = %v", ids)
		}
		if _, err := e.cat.SetShelf(e.ctx, s, gone.ID, true); err != nil || !e.buyerSees(s, gone.ID) {
			t.Fatalf("shelving the restored product: %v", err)
		}
	})
}

// TestBrandGateCoversSubcategories: a subcategory of a gated category is
// gated too, so staff cannot escape the gate by nesting.
func TestBrandGateCoversSubcategories(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Individual)
		gated := e.gatedCategory(s, "品牌服饰")
		child := e.category(s, gated, "外套")
		_, err := e.cat.CreateProduct(e.ctx, s, simpleInput(child, "品牌外套", true))
		wantErr(t, err, errs.Forbidden, "brand_authorization_required")
	})
}
