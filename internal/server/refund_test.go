package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// paidOrder makes shop a's standing order paid through the pay sandbox and
// returns its number and the shop's merchant id.
func (e *env) paidOrder(op caller, a testShop) (orderNo, mchid string) {
	e.t.Helper()
	e.enablePay(op, a, paysandbox.KeyModeCertificate)
	if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(a.member, a.orderID)); err != nil || !d.Delivered {
		e.t.Fatalf("pay: %v %+v", err, d)
	}
	o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
	return o["order_no"].(string), e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
}

func TestPartialRefundsUpToWhatWasPaid(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		_, mchid := e.paidOrder(op, a) // 9900 fen
		refunds := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)
		first := e.keyed().must(a.owner, 201, "POST", refunds, map[string]any{"amount": 3000, "reason": "少发一件"})
		if r := e.keyed().do(a.owner, "POST", refunds, map[string]any{"amount": 6901}); r.status != 400 || r.code() != "refund_exceeds_paid" {
			t.Fatalf("over-refund: %d %s", r.status, r.body)
		}
		second := e.keyed().must(a.owner, 201, "POST", refunds, map[string]any{"amount": 6900})
		if first["out_refund_no"] == second["out_refund_no"] {
			t.Fatal("two refunds share a refund number")
		}
		e.runDueJobs("refund.submit")
		for _, r := range []map[string]any{first, second} {
			d, err := e.pay.CompleteRefund(context.Background(), mchid, r["out_refund_no"].(string), "SUCCESS")
			if err != nil || !d.Delivered {
				t.Fatalf("refund notification: %v %+v", err, d)
			}
		}
		list := e.mustList(a.owner, refunds)
		for _, r := range list {
			if r["status"] != "succeeded" {
				t.Fatalf("refund %v is %v", r["out_refund_no"], r["status"])
			}
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if o["status"] != "refunded" || o["refunded_amount"] != float64(9900) {
			t.Fatalf("fully refunded order: %v %v", o["status"], o["refunded_amount"])
		}
		if d, _ := e.pay.CompleteRefund(context.Background(), mchid, first["out_refund_no"].(string), "SUCCESS"); d.Delivered {
			t.Log("a repeated refund notification was accepted (as it should) and changed nothing")
		}
		if after := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil); fmt.Sprint(after["events"]) != fmt.Sprint(o["events"]) {
			t.Fatal("a repeated refund notification changed the order")
		}
	})
}

func TestConcurrentRefundsNeverExceedThePayment(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.paidOrder(op, a)
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := 0
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.keyed().do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": 2000})
				if r.status == 201 {
					mu.Lock()
					created++
					mu.Unlock()
				} else if r.code() != "refund_exceeds_paid" {
					t.Errorf("refund: %d %s", r.status, r.body)
				}
			}()
		}
		wg.Wait()
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if created != 4 || o["refunded_amount"] != float64(8000) {
			t.Fatalf("%d refunds of 2000 on 9900 paid, refunded_amount %v; want 4 and 8000", created, o["refunded_amount"])
		}
	})
}

// TestLatePaymentIsRefunded: a payment that reaches a cancelled order is
// returned in full, automatically.
func TestLatePaymentIsRefunded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		params := e.payParams(a.member, a.orderID)
		// The order is cancelled without reaching WeChat (say the close call was lost).
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE orders SET status = 'cancelled' WHERE id = ?`, a.orderID); err != nil {
			t.Fatal(err)
		}
		if d, err := e.pay.PayWithParams(context.Background(), a.appid, params); err != nil || !d.Delivered {
			t.Fatalf("late payment: %v %+v", err, d)
		}
		e.runDueJobs("refund.submit")
		refunds := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID))
		if len(refunds) != 1 || refunds[0]["late_payment"] != true || refunds[0]["amount"] != float64(9900) || refunds[0]["status"] != "processing" {
			t.Fatalf("late payment refunds: %v", refunds)
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		events := o["events"].([]any)
		last := events[len(events)-1].(map[string]any)
		if o["status"] != "cancelled" || last["actor"] != "system" || !strings.Contains(last["reason"].(string), "arrived after cancellation") {
			t.Fatalf("the order is %v, last event %v", o["status"], last)
		}
	})
}
