package server_test

import (
	"fmt"
	"testing"
)

// TestCheckoutThroughTheAPI walks a buyer from cart to order and staff from
// search to shipping, over HTTP.
func TestCheckoutThroughTheAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		buyer, _ := e.memberLogin(a.appid, "openid-checkout")
		e.must(buyer, 200, "POST", "/api/v1/cart/items", map[string]any{"sku_id": a.skuID, "quantity": 2})
		body := map[string]any{"from_cart": true, "address": testAddress, "buyer_note": "请尽快发货"}
		if r := e.do(buyer, "POST", "/api/v1/orders", body); r.status != 400 || r.code() != "idempotency_key_required" {
			t.Fatalf("an order without an Idempotency-Key: %d %s", r.status, r.body)
		}
		keyed := e.withHeader("Idempotency-Key", "checkout-key-1")
		first := keyed.must(buyer, 201, "POST", "/api/v1/orders", body)
		again := keyed.must(buyer, 201, "POST", "/api/v1/orders", body)
		if first["id"] != again["id"] || first["total_amount"] != float64(2*9900) || first["status"] != "pending_payment" {
			t.Fatalf("orders: %v / %v", first, again)
		}
		if cart := e.must(buyer, 200, "GET", "/api/v1/cart", nil); len(cart["lines"].([]any)) != 0 {
			t.Fatalf("the ordered lines are still in the cart: %v", cart)
		}
		id := first["id"]
		mine := e.must(buyer, 200, "GET", "/api/v1/orders?status=pending_payment", nil)
		if len(mine["items"].([]any)) != 1 {
			t.Fatalf("my pending orders: %v", mine)
		}
		found := e.must(a.owner, 200, "GET", "/admin/api/v1/orders?phone=13800138000&status=pending_payment", nil)
		if len(found["items"].([]any)) != 2 { // this one and the one newShop placed
			t.Fatalf("staff search by phone: %v", found)
		}
		byNo := e.must(a.owner, 200, "GET", "/admin/api/v1/orders?order_no="+first["order_no"].(string), nil)
		if len(byNo["items"].([]any)) != 1 {
			t.Fatalf("staff search by number: %v", byNo)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/orders/%v/ship", id), map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567"}); r.status != 409 || r.code() != "illegal_transition" {
			t.Fatalf("shipping an unpaid order: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", fmt.Sprintf("/admin/api/v1/orders/%v/note", id), map[string]any{"note": "客户要求顺丰"})
		cancelled := e.must(buyer, 200, "POST", fmt.Sprintf("/api/v1/orders/%v/cancel", id), nil)
		if cancelled["status"] != "cancelled" || cancelled["staff_note"] != nil {
			t.Fatalf("cancelled order as the buyer sees it: %v", cancelled)
		}
		detail := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%v", id), nil)
		if events := detail["events"].([]any); len(events) != 2 || detail["staff_note"] != "客户要求顺丰" {
			t.Fatalf("staff view: %v", detail)
		}
		if r := e.do(a.owner, "GET", "/admin/api/v1/orders?from=2026-13-01", nil); r.status != 400 {
			t.Fatalf("a bad date: %d", r.status)
		}
	})
}
