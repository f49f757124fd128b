package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestRefundsFailedBlindAreRechecked: refunds an older version marked
// failed without WeChat's word (amount released, WeChat's SUCCESS
// notification already answered and gone) are asked about again by the
// jobs migration 0049 queues: one WeChat did make counts again, with the
// alarm; one WeChat never made stays failed. Before, nothing ever looked
// at them again and the released amount could be refunded a second time.
func TestRefundsFailedBlindAreRechecked(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "复", "enterprise")
		_, mchid := e.paidOrder(op, a)
		ctx := context.Background()
		refunds := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)
		made := e.withHeader("Idempotency-Key", "recheck-made-1").must(a.owner, 201, "POST", refunds, map[string]any{"amount": 5000})
		e.runDueJobs("refund.submit") // WeChat accepts it
		never := e.withHeader("Idempotency-Key", "recheck-never-1").must(a.owner, 201, "POST", refunds, map[string]any{"amount": 4900})
		// What the old code did: both failed, their amounts released, and
		// WeChat's SUCCESS notification for the first one lost.
		if _, err := e.srv.DB.Exec(ctx, `UPDATE refunds SET status = 'failed' WHERE order_id = ?`, a.orderID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.DB.Exec(ctx, `UPDATE orders SET refunded_amount = 0 WHERE id = ?`, a.orderID); err != nil {
			t.Fatal(err)
		}
		e.pay.DropNextNotification()
		if _, err := e.pay.CompleteRefund(ctx, mchid, made["out_refund_no"].(string), "SUCCESS"); err != nil {
			t.Fatal(err)
		}

		// The migration's statement, as an upgraded server runs it.
		all, err := db.Migrations(e.srv.DB.Engine)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range all {
			if strings.HasPrefix(m.Name, "0049_") {
				if _, err := e.srv.DB.Exec(ctx, m.SQL); err != nil {
					t.Fatal(err)
				}
			}
		}
		e.runDueJobs("refund.recheck")

		status := map[any]any{}
		for _, r := range e.mustList(a.owner, refunds) {
			status[r["id"]] = r["status"]
		}
		if status[made["id"]] != "succeeded" || status[never["id"]] != "failed" {
			t.Fatalf("after the recheck: %v (want the one WeChat made succeeded, the other failed)", status)
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if o["refunded_amount"] != float64(5000) {
			t.Fatalf("order refunded %v, want the 5000 WeChat paid back", o["refunded_amount"])
		}
		if !strings.Contains(e.logs.String(), "ALARM: WeChat Pay reports success for a refund marked failed") {
			t.Fatal("no alarm in the log")
		}
		// The released 4900 fen that WeChat never refunded can be refunded; the 5000 cannot again.
		if r := e.withHeader("Idempotency-Key", "recheck-again-1").do(a.owner, "POST", refunds, map[string]any{"amount": 5000}); r.status != 400 || r.code() != "refund_exceeds_paid" {
			t.Fatalf("refunding the rechecked 5000 again: %d %s", r.status, r.body)
		}
	})
}
