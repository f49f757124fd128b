package server_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestPreviewPriceIsWhatTheOrderCharges sends the same body to the preview
// and to order creation for every kind of promotion and compares the two:
// the total, the breakdown and each line's price and discount must be the
// same (before, preview applied the best coupon by itself and the order
// did not: shown ¥199, charged ¥209).
func TestPreviewPriceIsWhatTheOrderCharges(t *testing.T) {
	type setup func(e *env, a testShop) map[string]any
	items := func(a testShop, qty int) map[string]any {
		return map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": qty}}}
	}
	shipping := func(e *env, a testShop, fee, freeOver int) {
		e.must(a.owner, 200, "PATCH", "/admin/api/v1/shop/settings", map[string]any{"orders": map[string]any{
			"unpaid_cancel_minutes": 15, "shipping_fee": fee, "free_shipping_over": freeOver}})
	}
	coupon := func(e *env, a testShop, body map[string]any) int64 {
		base := map[string]any{"name": "券", "valid_days": 3, "total_quantity": 10, "claimable": true, "scope": "all"}
		for k, v := range body {
			base[k] = v
		}
		c := e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", base)
		return e.claimCoupon(a.member, int64(c["id"].(float64)))
	}
	withCoupon := func(body map[string]any, w int64) map[string]any {
		body["member_coupon_id"] = w
		return body
	}
	cases := []struct {
		name  string
		setup setup
		total int64 // what the buyer pays, fen
	}{
		{"no promotion", func(e *env, a testShop) map[string]any {
			shipping(e, a, 800, 0)
			return items(a, 2)
		}, 19800 + 800},
		{"a coupon held but not named: no coupon", func(e *env, a testShop) map[string]any {
			coupon(e, a, map[string]any{"kind": "amount", "amount": 1000, "threshold": 5000})
			return items(a, 2)
		}, 19800},
		{"time-limited price", func(e *env, a testShop) map[string]any {
			e.must(a.owner, 201, "POST", "/admin/api/v1/timed-discounts", map[string]any{"sku_id": a.skuID, "title": "限时价", "price": 7900,
				"starts_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano), "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)})
			return items(a, 2)
		}, 2 * 7900},
		{"flash claim", func(e *env, a testShop) map[string]any {
			sale := e.newSale(a, "秒杀", 10, time.Now())
			tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
			claim := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tok})
			return map[string]any{"flash_claim_id": int64(claim["id"].(float64))}
		}, 4900},
		{"flash claim after the SKU's price fell below the flash price: the lower price", func(e *env, a testShop) map[string]any {
			sale := e.newSale(a, "秒杀", 10, time.Now()) // 4900
			if _, err := e.srv.DB.Exec(context.Background(), `UPDATE skus SET price = 3900 WHERE id = ?`, a.skuID); err != nil {
				e.t.Fatal(err)
			}
			tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
			claim := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tok})
			return map[string]any{"flash_claim_id": int64(claim["id"].(float64))}
		}, 3900},
		{"flash claim with a coupon", func(e *env, a testShop) map[string]any {
			w := coupon(e, a, map[string]any{"kind": "amount", "amount": 500, "threshold": 1000})
			sale := e.newSale(a, "秒杀", 10, time.Now())
			tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
			claim := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tok})
			return withCoupon(map[string]any{"flash_claim_id": int64(claim["id"].(float64))}, w)
		}, 4900 - 500},
		{"group open", func(e *env, a testShop) map[string]any {
			return map[string]any{"group_deal_id": e.newDeal(a, "拼团", false)}
		}, 9900},
		{"group join", func(e *env, a testShop) map[string]any {
			deal := e.newDeal(a, "拼团", false)
			opener, _ := e.memberLogin(a.appid, "openid-opener-"+a.appid)
			group, _ := e.openGroup(opener, deal, "open-"+a.appid)
			return map[string]any{"group_id": group}
		}, 9900},
		{"满减 coupon", func(e *env, a testShop) map[string]any {
			return withCoupon(items(a, 2), coupon(e, a, map[string]any{"kind": "amount", "amount": 1000, "threshold": 5000}))
		}, 19800 - 1000},
		{"折扣 coupon capped", func(e *env, a testShop) map[string]any {
			return withCoupon(items(a, 2), coupon(e, a, map[string]any{"kind": "percent", "rate_bp": 8000, "cap": 3000}))
		}, 19800 - 3000},
		{"折扣 coupon under its cap", func(e *env, a testShop) map[string]any {
			return withCoupon(items(a, 1), coupon(e, a, map[string]any{"kind": "percent", "rate_bp": 8500, "cap": 3000}))
		}, 9900 - 1485},
		{"包邮 coupon", func(e *env, a testShop) map[string]any {
			shipping(e, a, 800, 0)
			return withCoupon(items(a, 1), coupon(e, a, map[string]any{"kind": "shipping"}))
		}, 9900},
		{"product-scoped coupon on another product: nothing off", func(e *env, a testShop) map[string]any {
			p := e.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "另一件", true))
			return withCoupon(items(a, 1), coupon(e, a, map[string]any{"kind": "amount", "amount": 1000,
				"scope": "products", "scope_ids": []int64{int64(p["id"].(float64))}}))
		}, 9900},
		{"category-scoped coupon", func(e *env, a testShop) map[string]any {
			return withCoupon(items(a, 1), coupon(e, a, map[string]any{"kind": "amount", "amount": 1000,
				"scope": "categories", "scope_ids": []int64{a.categoryID}}))
		}, 9900 - 1000},
		{"free shipping above a threshold", func(e *env, a testShop) map[string]any {
			shipping(e, a, 800, 19000)
			return items(a, 2)
		}, 19800},
		{"freight template: a province rule to the address", func(e *env, a testShop) map[string]any {
			shipping(e, a, 800, 0)
			e.setFreight(a, e.newTemplate(a, pieceTemplate("运费")), 500)
			body := items(a, 2)
			body["address"] = testAddress
			return body
		}, 19800 + 600 + 300},
		{"freight template: the shop's threshold does not waive it", func(e *env, a testShop) map[string]any {
			shipping(e, a, 800, 19000)
			e.setFreight(a, e.newTemplate(a, pieceTemplate("运费")), 500)
			body := items(a, 2)
			body["address"] = testAddress
			return body
		}, 19800 + 600 + 300},
		{"freight template: free from ¥300", func(e *env, a testShop) map[string]any {
			e.setFreight(a, e.newTemplate(a, pieceTemplate("运费")), 500)
			body := items(a, 4)
			body["address"] = testAddress
			return body
		}, 4 * 9900},
		{"freight template with a 包邮 coupon", func(e *env, a testShop) map[string]any {
			e.setFreight(a, e.newTemplate(a, pieceTemplate("运费")), 500)
			body := withCoupon(items(a, 1), coupon(e, a, map[string]any{"kind": "shipping"}))
			body["address"] = testAddress
			return body
		}, 9900},
		{"a coupon takes the goods below the free-shipping threshold", func(e *env, a testShop) map[string]any {
			shipping(e, a, 800, 19000)
			return withCoupon(items(a, 2), coupon(e, a, map[string]any{"kind": "amount", "amount": 1000, "threshold": 5000}))
		}, 19800 - 1000 + 800},
	}
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := e.newShop(op, fmt.Sprintf("价%d", i), "enterprise")
				e.setStock(a, 100)
				body := c.setup(e, a)
				pv := e.must(a.member, 200, "POST", "/api/v1/orders/preview", body)
				order := map[string]any{"address": testAddress}
				for k, v := range body {
					order[k] = v
				}
				r := e.withHeader("Idempotency-Key", fmt.Sprintf("same-price-%d", i)).do(a.member, "POST", "/api/v1/orders", order)
				if r.status != 201 {
					t.Fatalf("order: %d %s", r.status, r.body)
				}
				o := r.json(t)
				if !reflect.DeepEqual(pv["breakdown"], o["breakdown"]) {
					t.Fatalf("breakdowns differ:\npreview %v\norder   %v", pv["breakdown"], o["breakdown"])
				}
				if pv["total"] != o["total_amount"] || int64(o["total_amount"].(float64)) != c.total {
					t.Fatalf("preview total %v, order total %v, want %d", pv["total"], o["total_amount"], c.total)
				}
				pl, ol := pv["lines"].([]any), o["lines"].([]any)
				if len(pl) != len(ol) {
					t.Fatalf("lines: preview %d, order %d", len(pl), len(ol))
				}
				for k := range pl {
					for _, f := range []string{"sku_id", "unit_price", "quantity", "amount", "discount", "original_price"} {
						if pl[k].(map[string]any)[f] != ol[k].(map[string]any)[f] {
							t.Fatalf("line %d %s: preview %v, order %v", k, f, pl[k].(map[string]any)[f], ol[k].(map[string]any)[f])
						}
					}
				}
			})
		}
	})
}

// TestPreviewSuggestsTheBestCouponWithItsOwnPrice: a buyer holding coupons
// who names none is shown the price without a coupon (what the order
// charges) and the best coupon with its price; naming it gives that price.
func TestPreviewSuggestsTheBestCouponWithItsOwnPrice(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "荐", "enterprise")
		w := e.claimCoupon(a.member, e.newCoupon(a, "满50减10", true))
		body := map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 2}}}
		pv := e.must(a.member, 200, "POST", "/api/v1/orders/preview", body)
		sg, ok := pv["suggested_coupon"].(map[string]any)
		if !ok || int64(sg["member_coupon_id"].(float64)) != w || sg["total"].(float64) != 18800 || pv["total"].(float64) != 19800 {
			t.Fatalf("preview without a coupon: total %v, suggestion %v", pv["total"], pv["suggested_coupon"])
		}
		body["member_coupon_id"] = w
		pv = e.must(a.member, 200, "POST", "/api/v1/orders/preview", body)
		if pv["total"].(float64) != 18800 || pv["suggested_coupon"] != nil || int64(pv["member_coupon_id"].(float64)) != w {
			t.Fatalf("preview with the suggested coupon: total %v, suggestion %v", pv["total"], pv["suggested_coupon"])
		}
		// The template's id is not a wallet coupon.
		body["member_coupon_id"] = w + 1000
		if r := e.do(a.member, "POST", "/api/v1/orders/preview", body); r.status != 404 || r.code() != "coupon_not_found" {
			t.Fatalf("an unknown member coupon: %d %s", r.status, r.body)
		}
	})
}

// TestFullyDiscountedOrderIsPaidAtOnce: a coupon that covers the whole
// order leaves 0 fen to pay. The order is paid when it is placed (WeChat
// Pay takes no 0-fen payment, so it could never be paid otherwise), with a
// payments row of channel "free" and 0 fen and a logged event, its stock
// deducted, in the creation's transaction.
func TestFullyDiscountedOrderIsPaidAtOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "免", "enterprise")
		stockBefore, lockedBefore := e.skuStock(a)
		c := e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "全免", "kind": "amount",
			"amount": 100000, "scope": "all", "valid_days": 3, "total_quantity": 10, "claimable": true})
		w := e.claimCoupon(a.member, int64(c["id"].(float64)))
		body := map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "member_coupon_id": w}
		if pv := e.must(a.member, 200, "POST", "/api/v1/orders/preview", body); pv["total"].(float64) != 0 {
			t.Fatalf("preview total %v", pv["total"])
		}
		body["address"] = testAddress
		r := e.withHeader("Idempotency-Key", "free-order-1").do(a.member, "POST", "/api/v1/orders", body)
		if r.status != 201 {
			t.Fatalf("free order: %d %s", r.status, r.body)
		}
		o := r.json(t)
		if o["status"] != "paid" || o["total_amount"].(float64) != 0 || o["paid_at"] == nil {
			t.Fatalf("a 0-fen order: status %v total %v paid_at %v", o["status"], o["total_amount"], o["paid_at"])
		}
		id := int64(o["id"].(float64))
		var channel, status string
		var amount int64
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT channel, status, amount FROM payments WHERE order_id = ?`, id).
			Scan(&channel, &status, &amount); err != nil {
			t.Fatal(err)
		}
		if channel != "free" || status != "paid" || amount != 0 {
			t.Fatalf("payment row: %s %s %d", channel, status, amount)
		}
		var eventType string
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT event_type, amount FROM payment_events WHERE order_id = ?`, id).
			Scan(&eventType, &amount); err != nil || eventType != "FREE.PAID" || amount != 0 {
			t.Fatalf("payment event: %q %d %v", eventType, amount, err)
		}
		staff := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", id), nil)
		events := staff["events"].([]any)
		if last := events[len(events)-1].(map[string]any); last["to"] != "paid" || last["reason"] != "nothing to pay: fully discounted" {
			t.Fatalf("events: %v", events)
		}
		stock, locked := e.skuStock(a)
		if stock != stockBefore-1 || locked != lockedBefore {
			t.Fatalf("stock %d→%d, locked %d→%d: the unit is sold, not held", stockBefore, stock, lockedBefore, locked)
		}
		// Nothing is left to pay at WeChat.
		if r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), nil); r.status < 400 || r.status >= 500 {
			t.Fatalf("paying a paid 0-fen order: %d %s", r.status, r.body)
		}
		// The same key answers the same paid order.
		if again := e.withHeader("Idempotency-Key", "free-order-1").do(a.member, "POST", "/api/v1/orders", body).json(t); again["id"] != o["id"] || again["status"] != "paid" {
			t.Fatalf("replay: %v", again)
		}
	})
}

// TestFreeOrderIsNotAWeChatPayment: a 0-fen order's payment row (channel
// free) is not a WeChat Pay payment: the day still reconciles with
// WeChat's bill, and the payment success rate counts only WeChat Pay.
func TestFreeOrderIsNotAWeChatPayment(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "账", "enterprise")
		e.paidOrder(op, a) // 9900 through WeChat Pay
		c := e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "全免", "kind": "amount",
			"amount": 100000, "scope": "all", "valid_days": 3, "total_quantity": 10, "claimable": true})
		w := e.claimCoupon(a.member, int64(c["id"].(float64)))
		o := e.withHeader("Idempotency-Key", "free-recon-1").must(a.member, 201, "POST", "/api/v1/orders", map[string]any{
			"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "member_coupon_id": w, "address": testAddress})
		if o["status"] != "paid" {
			t.Fatalf("free order: %v", o["status"])
		}
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		if rep := e.must(a.owner, 201, "POST", "/admin/api/v1/reconciliations", map[string]any{"date": today}); rep["status"] != "matched" || rep["our_paid"] != float64(9900) {
			t.Fatalf("the day with a free order: %v", rep)
		}
		stats := e.mustList(a.owner, "/admin/api/v1/payments/stats?days=1")
		if len(stats) != 1 || stats[0]["attempts"] != float64(1) || stats[0]["paid"] != float64(1) {
			t.Fatalf("payment stats: %v", stats)
		}
	})
}

// TestCartShowsTheCheckoutPrice: with a time-limited price running, the
// cart shows the price checkout charges (it showed the SKU's price, and
// its selected total disagreed with the order placed from it).
func TestCartShowsTheCheckoutPrice(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "车", "enterprise") // its cart holds 2 of the SKU
		e.must(a.owner, 201, "POST", "/admin/api/v1/timed-discounts", map[string]any{"sku_id": a.skuID, "title": "限时价", "price": 7900,
			"starts_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano), "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)})
		cart := e.must(a.member, 200, "GET", "/api/v1/cart", nil)
		line := cart["lines"].([]any)[0].(map[string]any)
		if line["unit_price"] != float64(7900) || line["list_price"] != float64(9900) || cart["selected_total"] != float64(2*7900) {
			t.Fatalf("cart: %v", cart)
		}
		pv := e.must(a.member, 200, "POST", "/api/v1/orders/preview", map[string]any{"from_cart": true})
		o := e.withHeader("Idempotency-Key", "cart-price-1").must(a.member, 201, "POST", "/api/v1/orders",
			map[string]any{"from_cart": true, "address": testAddress})
		if pv["breakdown"].(map[string]any)["goods_amount"] != cart["selected_total"] || o["goods_amount"] != cart["selected_total"] {
			t.Fatalf("cart %v, preview %v, order %v", cart["selected_total"], pv["breakdown"], o["goods_amount"])
		}
	})
}
