package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// receive pays, ships and confirms an order of the buyer.
func (e *env) receive(a testShop, id int64) {
	e.t.Helper()
	if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(a.member, id)); err != nil || !d.Delivered {
		e.t.Fatalf("pay: %v %+v", err, d)
	}
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", id), map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567"})
	e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/confirm-receipt", id), nil)
}

// TestLevelBenefitsAtCheckout: a received order grows the buyer into a
// level whose member price and free shipping the next checkout gets
// (preview equals charge), and whose points multiplier its receipt earns.
func TestLevelBenefitsAtCheckout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		e.enablePoints(a, 0)
		e.must(a.owner, 200, "PATCH", "/admin/api/v1/shop/settings", map[string]any{"orders": map[string]any{"unpaid_cancel_minutes": 30, "shipping_fee": 800}})
		if r := e.do(a.owner, "PUT", "/admin/api/v1/levels", map[string]any{"levels": []map[string]any{
			{"name": "金卡", "growth_min": 50, "discount_bp": 9000, "free_shipping": true, "points_bp": 20000, "birthday_points": 0},
			{"name": "银卡", "growth_min": 50, "discount_bp": 9500, "free_shipping": false, "points_bp": 10000, "birthday_points": 0}}}); r.status != 400 {
			t.Fatalf("a ladder whose growth does not rise: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/levels", map[string]any{"levels": []map[string]any{
			{"name": "金卡", "growth_min": 50, "discount_bp": 9000, "free_shipping": true, "points_bp": 20000, "birthday_points": 0}}})
		buy := map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "address": testAddress}
		first := e.keyed().must(a.member, 201, "POST", "/api/v1/orders", buy)
		if first["total_amount"] != float64(9900+800) {
			t.Fatalf("before a level: %v", first["total_amount"])
		}
		e.receive(a, int64(first["id"].(float64)))
		lvl := e.must(a.member, 200, "GET", "/api/v1/me/level", nil)
		if lvl["rank"] != float64(1) || lvl["name"] != "金卡" || lvl["growth"] != float64(99) {
			t.Fatalf("level after a 99-yuan order: %v", lvl)
		}
		if b := e.pointsBalance(a.member); b != 99 {
			t.Fatalf("points of the first order (earned before the level): %d", b)
		}
		preview := e.must(a.member, 200, "POST", "/api/v1/orders/preview", map[string]any{"items": buy["items"], "address": testAddress})
		if preview["total"] != float64(8910) {
			t.Fatalf("金卡's price (90%% of 9900, free shipping): %v", preview["breakdown"])
		}
		second := e.keyed().must(a.member, 201, "POST", "/api/v1/orders", buy)
		if second["total_amount"] != preview["total"] || second["shipping_fee"] != float64(0) {
			t.Fatalf("charged %v (shipping %v), previewed %v", second["total_amount"], second["shipping_fee"], preview["total"])
		}
		e.receive(a, int64(second["id"].(float64)))
		if b := e.pointsBalance(a.member); b != 99+178 {
			t.Fatalf("points after a 89.10-yuan order at 2×: %d, want %d", b, 99+178)
		}
	})
}
