package server_test

import (
	"context"
	"fmt"
	"sync"
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

// enablePoints turns points on in shop a and gives its buyer n points.
func (e *env) enablePoints(a testShop, n int64) {
	e.t.Helper()
	e.must(a.owner, 200, "PUT", "/admin/api/v1/points/settings", map[string]any{"enabled": true, "earn_per_yuan": 1,
		"redeem_per_yuan": 100, "redeem_cap_bp": 5000, "expiry": "end_of_next_year", "expiry_days": 365})
	if n > 0 {
		e.keyed().must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/members/%d/points/adjust", a.memberID), map[string]any{"delta": n, "reason": "测试"})
	}
}

// TestPointsMall: a coupon bought with points lands in the wallet, a gift
// ships to an address of the book and a cancelled gift gives the points
// and the stock back; limits, balance and stock are enforced, and many
// buyers racing for the last units never oversell.
func TestPointsMall(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePoints(a, 1000)
		coupon := e.newCoupon(a, "积分券", false)
		item := e.must(a.owner, 201, "POST", "/admin/api/v1/points-mall/items", map[string]any{"kind": "coupon", "title": "10元券",
			"points": 300, "coupon_id": coupon, "stock": 5, "per_member_limit": 1, "on_shelf": true})
		gift := e.must(a.owner, 201, "POST", "/admin/api/v1/points-mall/items", map[string]any{"kind": "gift", "title": "帆布袋",
			"points": 500, "stock": 1, "per_member_limit": 2, "on_shelf": true})
		redeem := func(id any, body map[string]any) response {
			return e.keyed().do(a.member, "POST", fmt.Sprintf("/api/v1/points-mall/%v/redeem", id), body)
		}
		r := redeem(item["id"], map[string]any{})
		if r.status != 201 || r.json(t)["member_coupon_id"] == nil {
			t.Fatalf("redeem a coupon: %d %s", r.status, r.body)
		}
		if w := e.mustList(a.member, "/api/v1/me/coupons"); len(w) != 1 {
			t.Fatalf("wallet after redeeming: %v", w)
		}
		if r := redeem(item["id"], map[string]any{}); r.status != 409 || r.code() != "redeem_limit_reached" {
			t.Fatalf("a second redemption over the limit: %d %s", r.status, r.body)
		}
		if r := redeem(gift["id"], map[string]any{}); r.status != 400 || r.code() != "address_required" {
			t.Fatalf("a gift without an address: %d %s", r.status, r.body)
		}
		addr := e.must(a.member, 201, "POST", "/api/v1/me/addresses", map[string]any{"name": "张三", "phone": "13800138000",
			"province_code": "330000", "city_code": "330100", "county_code": "330106", "detail": "文三路 1 号"})
		g := e.keyed().must(a.member, 201, "POST", fmt.Sprintf("/api/v1/points-mall/%v/redeem", gift["id"]), map[string]any{"address_id": addr["id"]})
		if b := e.pointsBalance(a.member); b != 200 {
			t.Fatalf("balance after 300 + 500: %d", b)
		}
		if r := redeem(gift["id"], map[string]any{"address_id": addr["id"]}); r.status != 409 || r.code() != "insufficient_points" {
			t.Fatalf("redeeming with too few points: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/points-mall/redemptions/%v/cancel", g["id"]), nil)
		if b := e.pointsBalance(a.member); b != 700 {
			t.Fatalf("balance after the gift was cancelled: %d, want 700", b)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/points-mall/redemptions/%v/ship", g["id"]), map[string]any{"carrier": "顺丰", "tracking_no": "SF1"}); r.code() != "redemption_not_waiting" {
			t.Fatalf("shipping a cancelled gift: %d %s", r.status, r.body)
		}

		// Four buyers with points race for the coupon's last 4 units, each twice.
		var buyers []caller
		for i := range 6 {
			b, id := e.memberLogin(a.appid, fmt.Sprintf("mall-racer-%d", i))
			e.keyed().must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/members/%d/points/adjust", id), map[string]any{"delta": 1000, "reason": "测试"})
			buyers = append(buyers, b)
		}
		results := make(chan response, 12)
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- e.keyed().do(buyers[i%6], "POST", fmt.Sprintf("/api/v1/points-mall/%v/redeem", item["id"]), map[string]any{})
			}()
		}
		wg.Wait()
		close(results)
		won := 0
		for r := range results {
			switch {
			case r.status == 201:
				won++
			case r.status == 409 && (r.code() == "item_sold_out" || r.code() == "redeem_limit_reached"):
			default:
				t.Errorf("racing redemption: %d %s", r.status, r.body)
			}
		}
		items := e.mustList(a.owner, "/admin/api/v1/points-mall/items")
		var left float64 = -1
		for _, it := range items {
			if it["id"] == item["id"] {
				left = it["stock"].(float64)
			}
		}
		if won != 4 || left != 0 {
			t.Fatalf("12 racing redemptions of the last 4 units: %d won, %v left", won, left)
		}
	})
}
