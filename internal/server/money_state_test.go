package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// TestPaidIsOneTransaction: the order's paid status, its payments row and
// the payment event commit together. With the event's table unavailable
// the notification is refused (WeChat retries) and nothing changes; once
// it is back, the redelivered notification applies all three.
func TestPaidIsOneTransaction(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		params := e.payParams(a.member, a.orderID)
		ctx := context.Background()
		if _, err := e.srv.DB.Exec(ctx, `ALTER TABLE payment_events RENAME TO payment_events_away`); err != nil {
			t.Fatal(err)
		}
		d, err := e.pay.PayWithParams(ctx, a.appid, params)
		if err != nil || d.Delivered {
			t.Fatalf("payment with the event table away: %v %+v", err, d)
		}
		var payment string
		e.srv.DB.QueryRow(ctx, `SELECT status FROM payments WHERE order_id = ?`, a.orderID).Scan(&payment)
		if st := e.orderStatus(a.owner, a.orderID); st != "pending_payment" || payment != "created" {
			t.Fatalf("half a payment: order %s, payment %s", st, payment)
		}
		if _, err := e.srv.DB.Exec(ctx, `ALTER TABLE payment_events_away RENAME TO payment_events`); err != nil {
			t.Fatal(err)
		}
		mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
		orderNo := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)["order_no"].(string)
		if d, err := e.pay.Renotify(ctx, mchid, orderNo); err != nil || !d.Delivered {
			t.Fatalf("redelivery: %v %+v", err, d)
		}
		checkPaymentRecords(t, e, a.orderID, "TRANSACTION.SUCCESS")
	})
}

// checkPaymentRecords: the order is paid, its payments row paid with the
// order's transaction, and exactly one payment event names both (of
// eventType, unless it is "").
func checkPaymentRecords(t *testing.T, e *env, orderID int64, eventType string) {
	t.Helper()
	var status, txid, payTx, evType, evTx string
	var events int
	ctx := context.Background()
	e.srv.DB.QueryRow(ctx, `SELECT status, transaction_id FROM orders WHERE id = ?`, orderID).Scan(&status, &txid)
	e.srv.DB.QueryRow(ctx, `SELECT status, transaction_id FROM payments WHERE order_id = ?`, orderID).Scan(&payTx, &evTx)
	if status != "paid" || payTx != "paid" || evTx != txid || txid == "" {
		t.Fatalf("order %s %q, payment %s %q", status, txid, payTx, evTx)
	}
	e.srv.DB.QueryRow(ctx, `SELECT COUNT(*) FROM payment_events WHERE order_id = ?`, orderID).Scan(&events)
	e.srv.DB.QueryRow(ctx, `SELECT event_type, transaction_id FROM payment_events WHERE order_id = ?`, orderID).Scan(&evType, &evTx)
	if events != 1 || (eventType != "" && evType != eventType) || evTx != txid {
		t.Fatalf("%d payment events, type %q, transaction %q; want 1 %s %s", events, evType, evTx, eventType, txid)
	}
}

// TestRepairCompletesPaymentRecords: an order paid while its payments row
// stayed 'created' and no event was written (an older version killed
// between its two transactions) is repaired by the repair pass.
func TestRepairCompletesPaymentRecords(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.paidOrder(op, a)
		ctx := context.Background()
		if _, err := e.srv.DB.Exec(ctx, `UPDATE payments SET status = 'created', transaction_id = '', paid_at = NULL WHERE order_id = ?`, a.orderID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.DB.Exec(ctx, `DELETE FROM payment_events WHERE order_id = ?`, a.orderID); err != nil {
			t.Fatal(err)
		}
		n, err := e.srv.Payments.RepairPayments(ctx)
		if err != nil || n != 1 {
			t.Fatalf("repair: %d %v", n, err)
		}
		checkPaymentRecords(t, e, a.orderID, "REPAIR.PAID")
		if n, err := e.srv.Payments.RepairPayments(ctx); err != nil || n != 0 {
			t.Fatalf("a second pass repaired %d (%v)", n, err)
		}
	})
}

// TestShippingWaitsForAFullRefund: while refunds requested cover the whole
// payment, the order cannot be shipped (409); refunded in full, it is
// refunded (closed): it can be neither shipped, confirmed nor reviewed.
func TestShippingWaitsForAFullRefund(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		_, mchid := e.paidOrder(op, a)
		refunds := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)
		ship := fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID)
		body := map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567"}
		first := e.keyed().must(a.owner, 201, "POST", refunds, map[string]any{"amount": 5000})
		second := e.keyed().must(a.owner, 201, "POST", refunds, map[string]any{"amount": 4900})
		if r := e.do(a.owner, "POST", ship, body); r.status != 409 || r.code() != "refund_in_progress" {
			t.Fatalf("shipping while a full refund is pending: %d %s", r.status, r.body)
		}
		e.runDueJobs("refund.submit")
		for _, r := range []map[string]any{first, second} {
			if d, err := e.pay.CompleteRefund(context.Background(), mchid, r["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
				t.Fatalf("refund notification: %v %+v", err, d)
			}
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "refunded" {
			t.Fatalf("fully refunded order is %s", st)
		}
		if r := e.do(a.owner, "POST", ship, body); r.status != 409 {
			t.Fatalf("shipping a refunded order: %d %s", r.status, r.body)
		}
		if r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/orders/%d/confirm-receipt", a.orderID), nil); r.status != 409 && r.status != 404 {
			t.Fatalf("confirming a refunded order: %d %s", r.status, r.body)
		}
		// refunded is a status of its own: in the event log and both lists' filters.
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		events := o["events"].([]any)
		if last := events[len(events)-1].(map[string]any); last["to"] != "refunded" || last["reason"] != "fully refunded" {
			t.Fatalf("the last event: %v", last)
		}
		for _, who := range []struct {
			c    caller
			path string
		}{{a.owner, "/admin/api/v1/orders?status=refunded"}, {a.member, "/api/v1/orders?status=refunded"}} {
			if list := e.mustList(who.c, who.path); len(list) != 1 || list[0]["status"] != "refunded" {
				t.Fatalf("%s: %v", who.path, list)
			}
		}
		// A fully refunded buyer is no longer a buyer of the product.
		if r := e.do(a.member, "POST", "/api/v1/contents", map[string]any{"kind": "review",
			"target": fmt.Sprintf("product:%d", a.productID), "text": "质量很好"}); r.status != 403 || r.code() != "not_a_buyer" {
			t.Fatalf("reviewing a refunded order's product: %d %s", r.status, r.body)
		}
	})
}

// TestPartialRefundShownPerLine: a partial refund is spread over the
// order's lines in proportion to what each cost, adding up exactly.
func TestPartialRefundShownPerLine(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		p := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), nil)
		skus := p["skus"].([]any)
		other := int64(skus[1].(map[string]any)["id"].(float64))
		r := e.withHeader("Idempotency-Key", "two-line-order-1").do(a.member, "POST", "/api/v1/orders", map[string]any{
			"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}, {"sku_id": other, "quantity": 2}}, "address": testAddress})
		if r.status != 201 {
			t.Fatalf("order: %d %s", r.status, r.body)
		}
		id := int64(r.json(t)["id"].(float64))
		if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(a.member, id)); err != nil || !d.Delivered {
			t.Fatalf("pay: %v %+v", err, d)
		}
		e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", id), map[string]any{"amount": 10000})
		for _, who := range []caller{a.owner, a.member} {
			path := fmt.Sprintf("/api/v1/orders/%d", id)
			if who == a.owner {
				path = "/admin" + path
			}
			lines := e.must(who, 200, "GET", path, nil)["lines"].([]any)
			var got []float64
			for _, l := range lines {
				v, _ := l.(map[string]any)["refunded"].(float64)
				got = append(got, v)
			}
			if len(got) != 2 || got[0] != 3333 || got[1] != 6667 {
				t.Fatalf("10000 of 29700 refunded over lines of 9900 and 19800: %v", got)
			}
		}
	})
}

// TestCancelRacingPayment: 20 buyers cancel while they pay. When the
// payment lands between the server's query and its close (the close fails
// with ORDERPAID), the cancel answers 409 order_paid and the order is
// paid with its payment records; when it does not, the order is cancelled
// and WeChat no longer takes the payment. Never a 5xx, never both.
func TestCancelRacingPayment(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
		skus := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), nil)["skus"].([]any)
		for i := range 20 {
			id := e.buyNow(a.member, int64(skus[i%len(skus)].(map[string]any)["id"].(float64)), 1)
			params := e.payParams(a.member, id)
			orderNo := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", id), nil)["order_no"].(string)
			paysFirst := i%2 == 0
			if paysFirst {
				e.pay.PayBeforeNextClose(mchid, orderNo)
			}
			r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", id), map[string]any{"reason": "不想要了"})
			switch {
			case paysFirst && (r.status != 409 || r.code() != "order_paid"):
				t.Fatalf("race %d: cancel while paying: %d %s", i, r.status, r.body)
			case paysFirst:
				checkPaymentRecords(t, e, id, "") // by the query or the notification, whichever came first
			case r.status != 200:
				t.Fatalf("race %d: cancel: %d %s", i, r.status, r.body)
			default:
				if _, err := e.pay.PayWithParams(context.Background(), a.appid, params); err == nil {
					t.Fatalf("race %d: WeChat took a payment for a cancelled order", i)
				}
				if st := e.orderStatus(a.owner, id); st != "cancelled" {
					t.Fatalf("race %d: cancelled order is %s", i, st)
				}
			}
		}
	})
}

// TestAutoCancelNeverGivesUp: WeChat cannot close an unpaid order for 55
// tries (the old job gave up after 50, stock locked for good). The job
// keeps trying, alarms once after about an hour of tries, and cancels the
// order when WeChat recovers.
func TestAutoCancelNeverGivesUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		e.payParams(a.member, a.orderID)
		const fails = 55
		for range fails {
			if err := e.pay.FailNext("/v3/pay/transactions/out-trade-no/{out_trade_no}/close", paysandbox.FailSystemError); err != nil {
				t.Fatal(err)
			}
		}
		key := fmt.Sprintf("order-cancel:%d", a.orderID)
		for runs := 0; e.jobAttempts(key) <= fails; runs++ {
			if runs > 2*fails {
				t.Fatalf("the auto-cancel job stopped after %d tries", e.jobAttempts(key))
			}
			e.runDueJobs("order.auto_cancel")
			if st := e.orderStatus(a.owner, a.orderID); st != "pending_payment" && e.jobAttempts(key) <= fails {
				t.Fatalf("cancelled after %d tries while WeChat could not close it: %s", e.jobAttempts(key), st)
			}
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "cancelled" {
			t.Fatalf("after WeChat recovered the order is %s (job tried %d times)", st, e.jobAttempts(key))
		}
		if n := strings.Count(e.logs.String(), "ALARM: an unpaid order could not be cancelled for an hour"); n != 1 {
			t.Fatalf("%d alarms, want 1", n)
		}
		var locked int64
		e.srv.DB.QueryRow(context.Background(), `SELECT locked FROM skus WHERE id = ?`, a.skuID).Scan(&locked)
		if locked != 0 {
			t.Fatalf("%d units still locked", locked)
		}
	})
}
