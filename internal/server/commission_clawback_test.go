package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// refundInFull refunds an order's whole paid amount and has WeChat Pay
// confirm it.
func (e *env) refundInFull(a testShop, orderID int64) {
	e.t.Helper()
	o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", orderID), nil)
	mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
	r := e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", orderID), map[string]any{"amount": o["paid_amount"], "reason": "整单退"})
	e.runDueJobs("refund.submit")
	if d, err := e.pay.CompleteRefund(context.Background(), mchid, r["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
		e.t.Fatalf("refund: %v %+v", err, d)
	}
}

// TestSettledCommissionIsClawedBackAfterALateRefund: an order refunded
// after its commission settled (and after the promoter withdrew part of
// it) takes the commission back: a negative ledger row, the available
// balance first, the rest owed and paid by the next commission to settle.
// Before, the promoter kept the commission of a refunded order.
func TestSettledCommissionIsClawedBackAfterALateRefund(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "退", "enterprise")
		e.setStock(a, 100)
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		e.enableDistribution(a, map[string]any{"level2_rate_bp": 0})
		p := int64(e.must(a.member, 200, "POST", "/api/v1/me/promoter", nil)["id"].(float64))
		buyer := e.buyers(a, 1, "late-refund")[0]
		e.must(buyer, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": p})

		first := e.buyNow(buyer, a.skuID, 1) // 9900 fen: 990 commission
		e.payOrder(a, buyer, first)
		e.completeLongAgo(a, buyer, first, 8)
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 990 {
			t.Fatalf("settled: %v", got)
		}
		e.must(a.member, 201, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 500})

		e.refundInFull(a, first)
		// Sweeps racing (several servers, or a retried job) claw back once.
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.srv.Promos.SettleCommissions(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		e.settleCommissions()
		got := e.promoter(a.member)
		if got["available"].(float64) != 0 || got["owed"].(float64) != 500 || got["withdrawing"].(float64) != 500 {
			t.Fatalf("after the late refund: %v (want 490 taken from available, 500 owed)", got)
		}
		c := e.mustList(a.member, "/api/v1/me/commissions")
		if len(c) != 1 || c[0]["clawed_back"].(float64) != 990 {
			t.Fatalf("commissions: %v", c)
		}
		var rows int
		var sum int64
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM commission_clawbacks WHERE promoter_id = ?`, p).
			Scan(&rows, &sum); err != nil {
			t.Fatal(err)
		}
		if rows != 1 || sum != -990 {
			t.Fatalf("ledger: %d rows, %d fen", rows, sum)
		}

		// The next commission pays what is owed first.
		second := e.buyNow(buyer, a.skuID, 1)
		e.payOrder(a, buyer, second)
		e.completeLongAgo(a, buyer, second, 8)
		e.settleCommissions()
		if got := e.promoter(a.member); got["available"].(float64) != 490 || got["owed"].(float64) != 0 {
			t.Fatalf("after the next commission: %v", got)
		}
	})
}

// TestReferralChainsCannotLoop: with A→B (B recruited by A), A cannot
// bind to B; and a loop made before (a binding already in the database)
// never pays A a commission on A's own order. Before, A earned the
// level-two commission on A's own purchase.
func TestReferralChainsCannotLoop(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "环", "enterprise")
		e.setStock(a, 100)
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		e.enableDistribution(a, nil) // 10% level one, 5% level two
		pa := int64(e.must(a.member, 200, "POST", "/api/v1/me/promoter", nil)["id"].(float64))
		b := e.buyers(a, 1, "loop")[0]
		e.must(b, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": pa})
		pb := int64(e.must(b, 200, "POST", "/api/v1/me/promoter", nil)["id"].(float64))
		if r := e.do(a.member, "POST", "/api/v1/referrals", map[string]any{"promoter_id": pb}); r.status != 400 || r.code() != "referral_loop" {
			t.Fatalf("A binds to the promoter A recruited: %d %s", r.status, r.body)
		}
		if _, err := e.srv.DB.Exec(context.Background(), `INSERT INTO referral_bindings (shop_id, member_id, promoter_id, bound_at, expires_at)
			VALUES (?, ?, ?, 0, ?)`, a.id, a.memberID, pb, int64(1)<<50); err != nil {
			t.Fatal(err)
		}
		order := e.buyNow(a.member, a.skuID, 1)
		e.payOrder(a, a.member, order)
		if got := e.promoter(a.member); got["frozen"].(float64) != 0 {
			t.Fatalf("A earns on A's own order: %v", got)
		}
		if got := e.promoter(b); got["frozen"].(float64) != 990 {
			t.Fatalf("B earns level one: %v", got)
		}
	})
}
