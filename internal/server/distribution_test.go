package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

func (e *env) promoter(buyer caller) map[string]any {
	e.t.Helper()
	return e.must(buyer, 200, "GET", "/api/v1/me/promoter", nil)
}

func (e *env) settleCommissions() {
	e.t.Helper()
	if _, err := e.srv.Promos.SettleCommissions(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// completeLongAgo ships and completes an order, then moves its completion
// back past the after-sales window.
func (e *env) completeLongAgo(a testShop, buyer caller, orderID int64, days int) {
	e.t.Helper()
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", orderID), map[string]any{"carrier": "顺丰", "tracking_no": "SF100200300"})
	e.must(buyer, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/confirm-receipt", orderID), nil)
	if _, err := e.srv.DB.Exec(context.Background(), `UPDATE orders SET completed_at = completed_at - ? WHERE id = ?`,
		int64(days)*86_400_000, orderID); err != nil {
		e.t.Fatal(err)
	}
}

func TestDistributionTwoLevelsFrozenThenSettled(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.setStock(a, 100)
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		reward := int64(e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "邀请奖励券", "kind": "amount",
			"amount": 500, "scope": "all", "valid_days": 30, "total_quantity": 100, "per_user_limit": 10})["id"].(float64))
		e.enableDistribution(a, map[string]any{"referral_coupon_id": reward})

		p1 := int64(e.must(a.member, 200, "POST", "/api/v1/me/promoter", nil)["id"].(float64))
		bs := e.buyers(a, 3, "dist")
		recruit, buyer, other := bs[0], bs[1], bs[2]
		e.must(recruit, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": p1})
		p2info := e.must(recruit, 200, "POST", "/api/v1/me/promoter", nil)
		p2 := int64(p2info["id"].(float64))
		if _, shown := p2info["parent_id"]; shown {
			t.Fatalf("a buyer's promoter account shows who recruited them: %v", p2info)
		}
		parent := map[int64]any{}
		for _, p := range e.mustList(a.owner, "/admin/api/v1/promoters") {
			parent[int64(p["id"].(float64))] = p["parent_id"]
		}
		if parent[p2] != float64(p1) {
			t.Fatalf("a promoter recruited through P1's link has P1 as parent (staff see it): %v", parent)
		}
		b := e.must(buyer, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": p2})
		if b["new"] != true {
			t.Fatalf("first binding: %v", b)
		}
		if again := e.must(buyer, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": p1}); again["new"] != false || int64(again["promoter_id"].(float64)) != p2 {
			t.Fatalf("a live binding is kept: %v", again)
		}
		if r := e.do(recruit, "POST", "/api/v1/referrals", map[string]any{"promoter_id": p2}); r.status != 400 || r.code() != "self_referral" {
			t.Fatalf("self-binding: %d %s", r.status, r.body)
		}

		order := e.buyNow(buyer, a.skuID, 1) // 9900 fen
		e.payOrder(a, buyer, order)
		if got := e.promoter(recruit); got["frozen"].(float64) != 990 || got["available"].(float64) != 0 {
			t.Fatalf("level one after payment: %v", got)
		}
		if got := e.promoter(a.member); got["frozen"].(float64) != 495 {
			t.Fatalf("level two after payment: %v", got)
		}
		e.runDueJobs("distribution.reward")
		wallet := e.mustList(recruit, "/api/v1/me/coupons")
		if len(wallet) != 1 || wallet[0]["name"] != "邀请奖励券" {
			t.Fatalf("the referral reward: %v", wallet)
		}

		e.settleCommissions()
		if got := e.promoter(recruit); got["frozen"].(float64) != 990 {
			t.Fatalf("an uncompleted order's commission stays frozen: %v", got)
		}
		e.completeLongAgo(a, buyer, order, 3)
		e.settleCommissions()
		if got := e.promoter(recruit); got["frozen"].(float64) != 990 {
			t.Fatalf("inside the after-sales window the commission stays frozen: %v", got)
		}
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE orders SET completed_at = completed_at - ? WHERE id = ?`, 5*86_400_000, order); err != nil {
			t.Fatal(err)
		}
		e.settleCommissions()
		e.settleCommissions()
		if got := e.promoter(recruit); got["frozen"].(float64) != 0 || got["available"].(float64) != 990 {
			t.Fatalf("after the window: %v", got)
		}
		if got := e.promoter(a.member); got["available"].(float64) != 495 {
			t.Fatalf("level two after the window: %v", got)
		}

		// A second order of the same buyer: commission, no second reward.
		// Half of it is refunded before the window closes: the commission
		// waits for WeChat's answer, then is recomputed on what was kept.
		e.must(other, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": p2})
		second := e.buyNow(other, a.skuID, 2) // 19800
		e.payOrder(a, other, second)
		r := e.withHeader("Idempotency-Key", "distribution-refund-1").must(a.owner, 201, "POST",
			fmt.Sprintf("/admin/api/v1/orders/%d/refunds", second), map[string]any{"amount": 9900, "reason": "退一件"})
		e.completeLongAgo(a, other, second, 8)
		e.settleCommissions()
		if got := e.promoter(recruit); got["frozen"].(float64) != 1980 {
			t.Fatalf("a commission settled while its order's refund was in flight: %v", got)
		}
		e.runDueJobs("refund.submit")
		mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
		if d, err := e.pay.CompleteRefund(context.Background(), mchid, r["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
			t.Fatalf("refund: %v %+v", err, d)
		}
		e.settleCommissions()
		if got := e.promoter(recruit); got["available"].(float64) != 990+990 || got["frozen"].(float64) != 0 {
			t.Fatalf("commission on a half-refunded order: %v", got)
		}
		e.runDueJobs("distribution.reward")
		if n := len(e.mustList(recruit, "/api/v1/me/coupons")); n != 2 {
			t.Fatalf("each brought buyer's first order rewards once: %d coupons", n)
		}
		list := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/promoters/%d/commissions", p2))
		if len(list) != 2 {
			t.Fatalf("staff see P2's commissions: %v", list)
		}
	})
}

func TestDistributionFixedProductCommissionAndReversal(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.setStock(a, 100)
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		e.enableDistribution(a, nil)
		e.must(a.owner, 204, "PUT", fmt.Sprintf("/admin/api/v1/products/%d/commission", a.productID), map[string]any{"per_unit": 300})
		p := int64(e.must(a.member, 200, "POST", "/api/v1/me/promoter", nil)["id"].(float64))
		buyer := e.buyers(a, 1, "fixed")[0]
		e.must(buyer, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": p})
		order := e.buyNow(buyer, a.skuID, 3)
		e.payOrder(a, buyer, order)
		if got := e.promoter(a.member); got["frozen"].(float64) != 900 {
			t.Fatalf("3 units at a fixed 3 yuan: %v", got)
		}
		// The whole order is refunded: the commission is reversed.
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", order), nil)
		mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
		r := e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", order), map[string]any{"amount": o["paid_amount"], "reason": "整单退"})
		e.runDueJobs("refund.submit")
		if d, err := e.pay.CompleteRefund(context.Background(), mchid, r["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
			t.Fatalf("refund: %v %+v", err, d)
		}
		e.settleCommissions()
		if got := e.promoter(a.member); got["frozen"].(float64) != 0 || got["available"].(float64) != 0 {
			t.Fatalf("a refunded order's commission is reversed: %v", got)
		}
		if c := e.mustList(a.member, "/api/v1/me/commissions"); len(c) != 1 || c[0]["status"] != "reversed" {
			t.Fatalf("commission list: %v", c)
		}
	})
}

func TestWithdrawalsNeverSpendTheSameBalanceTwice(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		p, first := e.promoterWithWithdrawal(a) // 5000 available, 2000 asked for
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int]int{}
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do(a.member, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 2000})
				mu.Lock()
				got[r.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if got[201] != 1 || got[400] != 5 {
			t.Fatalf("6 withdrawals of 20 yuan from 30: %v", got)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/pay", first), map[string]any{"reference": "TX1"}); r.status != 409 {
			t.Fatalf("paying an unapproved withdrawal: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/approve", first), map[string]any{})
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/pay", first), map[string]any{}); r.status != 400 {
			t.Fatalf("a payout without a reference: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/pay", first), map[string]any{"reference": "WX-TRANSFER-1"})
		pending := e.mustList(a.owner, "/admin/api/v1/withdrawals?status=requested")
		if len(pending) != 1 {
			t.Fatalf("requested withdrawals: %v", pending)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/reject", int64(pending[0]["id"].(float64))), map[string]any{"note": "信息不全"})
		acct := e.promoter(a.member)
		if acct["available"].(float64) != 3000 || acct["withdrawing"].(float64) != 0 || acct["paid_out"].(float64) != 2000 || int64(acct["id"].(float64)) != p {
			t.Fatalf("balances after a payout and a rejection: %v", acct)
		}
	})
}
