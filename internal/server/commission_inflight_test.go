package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// referredBuyer makes a shop taking WeChat Pay with one-level distribution
// (10%), its member a promoter, and a buyer bound to that promoter.
func (e *env) referredBuyer(marker, tag string) (a testShop, promoterID int64, buyer caller) {
	e.t.Helper()
	op := e.operator()
	a = e.newShop(op, marker, "enterprise")
	e.setStock(a, 100)
	e.enablePay(op, a, paysandbox.KeyModePublicKey)
	e.enableDistribution(a, map[string]any{"level2_rate_bp": 0})
	promoterID = int64(e.must(a.member, 200, "POST", "/api/v1/me/promoter", nil)["id"].(float64))
	buyer = e.buyers(a, 1, tag)[0]
	e.must(buyer, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": promoterID})
	return a, promoterID, buyer
}

// TestCommissionWaitsForRefundsInFlight: a commission due to settle while
// a refund of its order is still in flight waits for WeChat's answer, and
// then settles on the refunds that succeeded. Before, it settled at once
// on the order's refunded amount, which counts refunds in flight: when such
// a refund then failed, the promoter had lost that part of the commission
// for good.
func TestCommissionWaitsForRefundsInFlight(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, p, buyer := e.referredBuyer("途", "in-flight")
		mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)

		// refundHalf asks for a refund of half of the order (9900 fen) and has
		// WeChat accept it; its outcome is left open.
		refundHalf := func(orderID int64, key string) string {
			r := e.withHeader("Idempotency-Key", key).must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", orderID),
				map[string]any{"amount": 4950, "reason": "半退"})
			e.runDueJobs("refund.submit")
			return r["out_refund_no"].(string)
		}
		complete := func(outRefundNo, status string) {
			if d, err := e.pay.CompleteRefund(context.Background(), mchid, outRefundNo, status); err != nil || !d.Delivered {
				t.Fatalf("refund %s: %v %+v", status, err, d)
			}
		}

		// A refund that fails: the whole commission settles once WeChat says so.
		first := e.buyNow(buyer, a.skuID, 1) // 9900 fen: 990 commission
		e.payOrder(a, buyer, first)
		e.completeLongAgo(a, buyer, first, 8)
		no := refundHalf(first, "inflight-refund-1")
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 0 || got["frozen"].(float64) != 990 {
			t.Fatalf("settled with a refund in flight: %v", got)
		}
		complete(no, "CLOSED")
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 990 || got["frozen"].(float64) != 0 {
			t.Fatalf("after the refund failed: %v (want the whole 990 available)", got)
		}

		// A refund that succeeds: the commission settles on what the buyer kept, once.
		second := e.buyNow(buyer, a.skuID, 1)
		e.payOrder(a, buyer, second)
		e.completeLongAgo(a, buyer, second, 8)
		no = refundHalf(second, "inflight-refund-2")
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 990 || got["frozen"].(float64) != 990 {
			t.Fatalf("second order settled with a refund in flight: %v", got)
		}
		complete(no, "SUCCESS")
		e.settleCommissions()
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 990+495 || got["frozen"].(float64) != 0 || got["owed"].(float64) != 0 {
			t.Fatalf("after the refund succeeded: %v (want 495 more available)", got)
		}
		var clawbacks int
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM commission_clawbacks WHERE promoter_id = ?`, p).Scan(&clawbacks); err != nil {
			t.Fatal(err)
		}
		if clawbacks != 0 {
			t.Fatalf("%d claw-backs: the refund that settled the commission was counted twice", clawbacks)
		}
	})
}

// TestFixedCommissionShrinksWithAPartialRefund: a product's fixed per-unit
// commission follows a partial refund like a rate does, before and after
// settling. Before, 2 of 3 units refunded left the whole 900 fen.
func TestFixedCommissionShrinksWithAPartialRefund(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, _, buyer := e.referredBuyer("定", "fixed")
		e.must(a.owner, 204, "PUT", fmt.Sprintf("/admin/api/v1/products/%d/commission", a.productID), map[string]any{"per_unit": 300})
		mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
		refund := func(orderID, amount int64, key string) {
			r := e.withHeader("Idempotency-Key", key).must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", orderID),
				map[string]any{"amount": amount, "reason": "退货"})
			e.runDueJobs("refund.submit")
			if d, err := e.pay.CompleteRefund(context.Background(), mchid, r["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
				t.Fatalf("refund: %v %+v", err, d)
			}
		}

		// Refunded before settling: settles on the unit kept.
		first := e.buyNow(buyer, a.skuID, 3) // 3 × 9900 fen, 3 × 300 commission
		e.payOrder(a, buyer, first)
		if got := e.promoter(a.member); got["frozen"].(float64) != 900 {
			t.Fatalf("fixed commission: %v", got)
		}
		refund(first, 2*9900, "fixed-refund-1")
		e.completeLongAgo(a, buyer, first, 8)
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 300 || got["frozen"].(float64) != 0 {
			t.Fatalf("2 of 3 units refunded before settling: %v (want 300)", got)
		}

		// Refunded after settling: clawed back in proportion.
		second := e.buyNow(buyer, a.skuID, 3)
		e.payOrder(a, buyer, second)
		e.completeLongAgo(a, buyer, second, 8)
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 1200 {
			t.Fatalf("second order settled: %v", got)
		}
		refund(second, 9900, "fixed-refund-2")
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 300+600 {
			t.Fatalf("1 of 3 units refunded after settling: %v (want the second order's 900 cut to 600)", got)
		}
	})
}

// TestRejectedWithdrawalPaysWhatIsOwedFirst: a withdrawal asked for before
// a claw-back and then rejected gives its amount back to the balance, which
// first pays what the promoter owes. Before, the whole amount came back to
// available while the debt stayed, and could be withdrawn again.
func TestRejectedWithdrawalPaysWhatIsOwedFirst(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, _, buyer := e.referredBuyer("驳", "reject")
		order := e.buyNow(buyer, a.skuID, 1) // 990 commission
		e.payOrder(a, buyer, order)
		e.completeLongAgo(a, buyer, order, 8)
		e.settleCommissions()
		w := e.must(a.member, 201, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 990})
		e.refundInFull(a, order)
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 0 || got["owed"].(float64) != 990 || got["withdrawing"].(float64) != 990 {
			t.Fatalf("after the claw-back: %v", got)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/reject", int64(w["id"].(float64))), map[string]any{"note": "订单已退款"})
		if got := e.promoter(a.member); got["available"].(float64) != 0 || got["owed"].(float64) != 0 || got["withdrawing"].(float64) != 0 {
			t.Fatalf("after the rejection: %v (the 990 pays the 990 owed)", got)
		}
		if r := e.do(a.member, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 990}); r.status != 400 {
			t.Fatalf("withdrawing the clawed-back commission again: %d %s", r.status, r.body)
		}
	})
}

// TestPayoutSettlesTheClawBackDebtFirst: a withdrawal that was pending when
// a claw-back made the promoter owe money pays that debt first: its payable
// amount shrinks, a payout recorded for the old amount is refused, and the
// books balance. Before, the withdrawal was paid in full and the debt stayed.
func TestPayoutSettlesTheClawBackDebtFirst(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a, p, buyer := e.referredBuyer("付", "payout")
		var orders []int64
		for range 2 { // 990 commission each
			o := e.buyNow(buyer, a.skuID, 1)
			e.payOrder(a, buyer, o)
			e.completeLongAgo(a, buyer, o, 8)
			orders = append(orders, o)
		}
		e.settleCommissions()
		w := e.must(a.member, 201, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 1980})
		id := int64(w["id"].(float64))
		if w["payable"] != float64(1980) || w["owed_offset"] != float64(0) {
			t.Fatalf("withdrawal: %v", w)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/approve", id), map[string]any{})
		e.refundInFull(a, orders[0]) // its 990 is clawed back: nothing available, so owed
		e.settleCommissions()
		got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/withdrawals?promoter_id=%d", p), nil)["items"].([]any)[0].(map[string]any)
		if got["payable"] != float64(990) || got["owed_offset"] != float64(990) {
			t.Fatalf("after the claw-back the withdrawal shows %v", got)
		}
		pay := fmt.Sprintf("/admin/api/v1/withdrawals/%d/pay", id)
		if r := e.do(a.owner, "POST", pay, map[string]any{"reference": "TR-1", "payable": 1980}); r.status != 409 || r.code() != "payable_changed" {
			t.Fatalf("recording a payout of the old amount: %d %s", r.status, r.body)
		}
		paid := e.must(a.owner, 200, "POST", pay, map[string]any{"reference": "TR-1", "payable": 990})
		if paid["status"] != "paid" || paid["payable"] != float64(990) || paid["owed_offset"] != float64(990) {
			t.Fatalf("paid: %v", paid)
		}
		if got := e.promoter(a.member); got["owed"].(float64) != 0 || got["withdrawing"].(float64) != 0 || got["paid_out"].(float64) != 990 || got["available"].(float64) != 0 {
			t.Fatalf("promoter after the payout: %v (want 990 paid out, the 990 debt settled)", got)
		}
	})
}
