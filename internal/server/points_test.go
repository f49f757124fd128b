package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

func (e *env) pointsBalance(buyer caller) int64 {
	e.t.Helper()
	return int64(e.must(buyer, 200, "GET", "/api/v1/me/points", nil)["balance"].(float64))
}

// refundPart refunds amount of a paid order and has WeChat Pay confirm it.
func (e *env) refundPart(a testShop, orderID, amount int64) {
	e.t.Helper()
	mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
	r := e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", orderID), map[string]any{"amount": amount, "reason": "部分退款"})
	e.runDueJobs("refund.submit")
	if d, err := e.pay.CompleteRefund(context.Background(), mchid, r["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
		e.t.Fatalf("refund: %v %+v", err, d)
	}
}

// TestPointsPayAtCheckoutAndComeBack: the buyer's points are a pricing
// step (preview equals charge), a cancelled order gives them back, a
// received order earns on the goods paid, and refunds give back spent
// points and take back earned ones in proportion to the money refunded.
func TestPointsPayAtCheckoutAndComeBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		buy := map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "address": testAddress, "points": 3000}
		if r := e.keyed().do(a.member, "POST", "/api/v1/orders", buy); r.status != 400 || r.code() != "points_unavailable" {
			t.Fatalf("points in a shop with points off: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/points/settings", map[string]any{"enabled": true, "earn_per_yuan": 1,
			"redeem_per_yuan": 100, "redeem_cap_bp": 5000, "expiry": "end_of_next_year", "expiry_days": 365})
		e.keyed().must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/members/%d/points/adjust", a.memberID),
			map[string]any{"delta": 3000, "reason": "开业赠送"})

		preview := e.must(a.member, 200, "POST", "/api/v1/orders/preview", map[string]any{"items": buy["items"], "points": 3000})
		breakdown := preview["breakdown"].(map[string]any)
		offer := preview["points"].(map[string]any)
		if breakdown["points_discount"] != float64(3000) || breakdown["points_used"] != float64(3000) || offer["usable"] != float64(3000) || offer["balance"] != float64(3000) {
			t.Fatalf("preview with 3000 points: %v / %v", breakdown, offer)
		}
		if r := e.do(a.member, "POST", "/api/v1/orders/preview", map[string]any{"items": buy["items"], "points": 3001}); r.status != 409 || r.code() != "insufficient_points" {
			t.Fatalf("more points than held: %d %s", r.status, r.body)
		}
		o := e.keyed().must(a.member, 201, "POST", "/api/v1/orders", buy)
		if o["total_amount"] != preview["total"] || o["points_discount"] != float64(3000) {
			t.Fatalf("charged %v with points %v, previewed %v", o["total_amount"], o["points_discount"], preview["total"])
		}
		if b := e.pointsBalance(a.member); b != 0 {
			t.Fatalf("balance after spending: %d", b)
		}
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%v/cancel", o["id"]), nil)
		if b := e.pointsBalance(a.member); b != 3000 {
			t.Fatalf("balance after cancelling: %d, want 3000", b)
		}

		// Pay 7900 fen with 2000 points off, receive it: 79 points earned.
		buy["points"] = 2000
		o = e.keyed().must(a.member, 201, "POST", "/api/v1/orders", buy)
		id := int64(o["id"].(float64))
		if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(a.member, id)); err != nil || !d.Delivered {
			t.Fatalf("pay: %v %+v", err, d)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", id), map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567"})
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/confirm-receipt", id), nil)
		if b := e.pointsBalance(a.member); b != 1000+79 {
			t.Fatalf("balance after receiving a 79-yuan order: %d, want 1079", b)
		}
		// Half refunded: 1000 spent points back, 39 earned ones taken back.
		paid := int64(o["total_amount"].(float64))
		e.refundPart(a, id, paid/2)
		if b := e.pointsBalance(a.member); b != 1079+1000-39 {
			t.Fatalf("balance after refunding half: %d, want %d", b, 1079+1000-39)
		}
		e.refundPart(a, id, paid-paid/2)
		if b := e.pointsBalance(a.member); b != 3000 {
			t.Fatalf("balance after refunding all: %d, want 3000", b)
		}
		entries := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/members/%d/points/entries", a.memberID))
		kinds := map[string]int{}
		for _, en := range entries {
			kinds[en["kind"].(string)]++
		}
		if kinds["spend"] != 2 || kinds["return"] != 3 || kinds["earn"] != 1 || kinds["clawback"] != 2 || kinds["adjust"] != 1 {
			t.Fatalf("ledger kinds %v", kinds)
		}
	})
}
