package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestDailyReconciliation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		_, mchid := e.paidOrder(op, a) // 9900 paid, matched on both sides
		ctx := context.Background()
		refund := e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": 1000})
		e.runDueJobs("refund.submit")
		if _, err := e.pay.CompleteRefund(ctx, mchid, refund["out_refund_no"].(string), "SUCCESS"); err != nil {
			t.Fatal(err)
		}
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		rep := e.must(a.owner, 201, "POST", "/admin/api/v1/reconciliations", map[string]any{"date": today})
		if rep["status"] != "matched" || rep["wechat_paid"] != float64(9900) || rep["our_paid"] != float64(9900) ||
			rep["wechat_refund"] != float64(1000) || rep["our_refund"] != float64(1000) {
			t.Fatalf("a matching day: %v", rep)
		}

		// A payment WeChat has and we lost, and an amount that differs.
		lost := e.buyNow(a.member, a.skuID, 1)
		params := e.payParams(a.member, lost)
		e.pay.DropNextNotification()
		if _, err := e.pay.PayWithParams(ctx, a.appid, params); err != nil {
			t.Fatal(err)
		}
		e.srv.DB.Exec(ctx, `UPDATE payments SET amount = amount + 1 WHERE order_id = ?`, a.orderID)
		rep = e.must(a.owner, 201, "POST", "/admin/api/v1/reconciliations", map[string]any{"date": today})
		kinds := map[string]bool{}
		for _, it := range rep["items"].([]any) {
			kinds[it.(map[string]any)["kind"].(string)] = true
		}
		if rep["status"] != "differences" || rep["differences"] != float64(2) || !kinds["paid_at_wechat_not_here"] || !kinds["paid_amount_differs"] {
			t.Fatalf("differences: %v", rep)
		}
		if list := e.mustList(a.owner, "/admin/api/v1/reconciliations"); len(list) != 1 {
			t.Fatalf("a rerun must replace the day's report: %d reports", len(list))
		}
		if r := e.do(a.owner, "POST", "/admin/api/v1/reconciliations", map[string]any{"date": "2999-01-01"}); r.status != 400 {
			t.Fatalf("a future date: %d", r.status)
		}
	})
}
