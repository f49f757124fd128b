package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

// TestCancelledFlashOrderFreesTheClaimOnEveryServer: a buyer claims on
// server one, orders, and cancels the order on server two; claiming again
// on server one works at once. Before, server one remembered the claim in
// memory and answered already_claimed for the whole payment window, while
// server two let the buyer claim.
func TestCancelledFlashOrderFreesTheClaimOnEveryServer(t *testing.T) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			dsn := db.TestDSN(t, engine)
			sb := sandbox.New()
			one, two := newEnv(t, dsn, sb), newEnv(t, dsn, sb)
			a := one.newShop(one.operator(), "秒", "enterprise")
			one.setStock(a, 100)
			sale := one.newSale(a, "秒杀", 10, time.Now())
			claim := func(e *env) response {
				tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
				var r response
				for range 10 { // the same buyer may try once per 300 ms (each try restarts the wait)
					if r = e.do(a.member, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tok}); r.code() != "too_many_requests" {
						break
					}
					time.Sleep(350 * time.Millisecond)
				}
				return r
			}
			r := claim(one)
			if r.status != 201 {
				t.Fatalf("claim on one: %d %s", r.status, r.body)
			}
			if again := claim(one); again.code() != "already_claimed" {
				t.Fatalf("a live claim again: %d %s", again.status, again.body)
			}
			o := one.withHeader("Idempotency-Key", "flash-cancel-1").do(a.member, "POST", "/api/v1/orders",
				map[string]any{"flash_claim_id": int64(r.json(t)["id"].(float64)), "address": testAddress})
			if o.status != 201 {
				t.Fatalf("order: %d %s", o.status, o.body)
			}
			two.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", int64(o.json(t)["id"].(float64))), map[string]any{})
			if r := claim(one); r.status != 201 {
				t.Fatalf("claim on one after the order was cancelled on two: %d %s", r.status, r.body)
			}
		})
	}
}

// TestPromotionInputsAreValidated: coupon scopes name the shop's own
// products and categories, a flash price is below the SKU's price, a claim
// is for at least one unit. Each is a 400 that creates nothing.
func TestPromotionInputsAreValidated(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "验", "enterprise")
		b := e.newShop(op, "他", "enterprise")
		e.setStock(a, 100)
		coupon := func(scope string, ids []int64) response {
			return e.do(a.owner, "POST", "/admin/api/v1/coupons", map[string]any{"name": "券", "kind": "amount", "amount": 500,
				"scope": scope, "scope_ids": ids, "valid_days": 3, "total_quantity": 10, "claimable": true})
		}
		for name, r := range map[string]response{
			"another shop's product":  coupon("products", []int64{b.productID}),
			"a product that is not":   coupon("products", []int64{a.productID + 1000}),
			"another shop's category": coupon("categories", []int64{b.categoryID}),
			"a category that is not":  coupon("categories", []int64{a.categoryID + 1000}),
			"one id twice":            coupon("products", []int64{a.productID, a.productID}),
		} {
			if r.status != 400 || r.code() != "scope_not_found" {
				t.Errorf("coupon scoped to %s: %d %s", name, r.status, r.body)
			}
		}
		if r := coupon("products", []int64{a.productID}); r.status != 201 {
			t.Fatalf("a coupon on the shop's product: %d %s", r.status, r.body)
		}
		if n := len(e.mustList(a.owner, "/admin/api/v1/coupons")); n != 1 {
			t.Fatalf("%d coupons created, want 1", n)
		}

		stockBefore, _ := e.skuStock(a)
		start := time.Now()
		for _, price := range []int{9900, 12000} { // the SKU costs 9900
			r := e.do(a.owner, "POST", "/admin/api/v1/flash-sales", map[string]any{"sku_id": a.skuID, "title": "秒杀", "price": price,
				"quantity": 5, "starts_at": start.UTC().Format(time.RFC3339Nano), "ends_at": start.Add(time.Hour).UTC().Format(time.RFC3339Nano)})
			if r.status != 400 || r.code() != "not_a_discount" {
				t.Errorf("flash price %d: %d %s", price, r.status, r.body)
			}
		}
		if stock, _ := e.skuStock(a); stock != stockBefore {
			t.Fatalf("a refused sale moved stock: %d → %d", stockBefore, stock)
		}
		sale := e.newSale(a, "秒杀", 5, start)
		tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
		for _, qty := range []int{0, -1} {
			if r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tok, "quantity": qty}); r.status != 400 {
				t.Errorf("claim of %d: %d %s", qty, r.status, r.body)
			}
		}
		if left := e.saleRemaining(sale); left != 5 {
			t.Fatalf("refused claims took units: %d left", left)
		}
	})
}
