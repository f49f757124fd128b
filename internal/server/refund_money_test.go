package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

func (e *env) refundOf(owner caller, orderID int64) map[string]any {
	e.t.Helper()
	list := e.mustList(owner, fmt.Sprintf("/admin/api/v1/orders/%d/refunds", orderID))
	if len(list) != 1 {
		e.t.Fatalf("%d refunds, want 1: %v", len(list), list)
	}
	return list[0]
}

// jobAttempts is how often the job with a unique key has run.
func (e *env) jobAttempts(key string) int {
	e.t.Helper()
	var n int
	if err := e.srv.DB.QueryRow(context.Background(), `SELECT COALESCE(MAX(attempts), 0) FROM jobs WHERE unique_key = ?`, key).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) attention(owner caller) []any {
	e.t.Helper()
	return e.must(owner, 200, "GET", "/admin/api/v1/refunds/attention", nil)["items"].([]any)
}

// TestUnknownRefundIsNeverFailedBlind: WeChat's answers to a refund are
// lost (5xx, a timeout, a response whose signature does not verify) far more
// than the 8 tries after which the refund used to be failed and its amount
// released. It stays pending with its amount set aside, shows in the
// needs-attention list with why, and goes through once WeChat answers.
func TestUnknownRefundIsNeverFailedBlind(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		_, mchid := e.paidOrder(op, a)
		for i := 0; i < 12; i++ {
			if err := e.pay.FailNext("/v3/refund/domestic/refunds", paysandbox.FailSystemError); err != nil {
				t.Fatal(err)
			}
		}
		ref := e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": 9900})
		for runs := 0; e.jobAttempts(fmt.Sprintf("refund-submit:%v", ref["id"])) < 12; runs++ {
			if runs > 24 {
				t.Fatalf("the refund job stopped after %d tries", e.jobAttempts(fmt.Sprintf("refund-submit:%v", ref["id"])))
			}
			e.runDueJobs("refund.submit")
		}
		// The refund is created at WeChat, but its answer cannot be verified.
		if err := e.pay.TamperNextResponse(paysandbox.TamperBadSignature); err != nil {
			t.Fatal(err)
		}
		e.runDueJobs("refund.submit")
		r := e.refundOf(a.owner, a.orderID)
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if r["status"] != "pending" || r["unknown_since"] == nil || o["refunded_amount"] != float64(9900) {
			t.Fatalf("after 13 lost answers: refund %v, order refunded %v", r, o["refunded_amount"])
		}
		items := e.attention(a.owner)
		if len(items) != 1 || !strings.Contains(items[0].(map[string]any)["why"].(string), "unknown") {
			t.Fatalf("needs attention: %v", items)
		}
		if r := e.keyed().do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": 1}); r.code() != "refund_exceeds_paid" {
			t.Fatalf("a second refund while the first is unknown: %d %s", r.status, r.body)
		}
		e.runDueJobs("refund.submit") // WeChat answers again: the same refund (same out_refund_no)
		if r := e.refundOf(a.owner, a.orderID); r["status"] != "processing" || r["unknown_since"] != nil {
			t.Fatalf("after WeChat answered: %v", r)
		}
		if d, err := e.pay.CompleteRefund(context.Background(), mchid, r["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
			t.Fatalf("refund notification: %v %+v", err, d)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "refunded" || len(e.attention(a.owner)) != 0 {
			t.Fatalf("after success: order %s, attention %v", st, e.attention(a.owner))
		}
	})
}

// TestRefusedRefundFails: a definite refusal from WeChat (PARAM_ERROR: the
// refund was not created) fails the refund at once and releases its amount.
func TestRefusedRefundFails(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.paidOrder(op, a)
		ref := e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": 5000})
		// WeChat refuses a refund whose order total is not the order's.
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE refunds SET total = 9800 WHERE id = ?`, int64(ref["id"].(float64))); err != nil {
			t.Fatal(err)
		}
		e.runDueJobs("refund.submit")
		r := e.refundOf(a.owner, a.orderID)
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if r["status"] != "failed" || !strings.Contains(r["last_error"].(string), "PARAM_ERROR") || o["refunded_amount"] != float64(0) {
			t.Fatalf("refused refund: %v, order refunded %v", r, o["refunded_amount"])
		}
	})
}

// TestLateRefundSuccessIsApplied: a refund that an older version marked
// failed (amount released) is reported succeeded by WeChat. The success is
// applied: the order counts the money as refunded again and closes, and it
// alarms (error log, metric, order event).
func TestLateRefundSuccessIsApplied(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		_, mchid := e.paidOrder(op, a)
		ref := e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": 9900})
		e.runDueJobs("refund.submit")
		ctx := context.Background()
		// What the old code did after its 8th failed try: failed, released.
		if _, err := e.srv.DB.Exec(ctx, `UPDATE refunds SET status = 'failed' WHERE id = ?`, int64(ref["id"].(float64))); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.DB.Exec(ctx, `UPDATE orders SET refunded_amount = 0 WHERE id = ?`, a.orderID); err != nil {
			t.Fatal(err)
		}
		if d, err := e.pay.CompleteRefund(ctx, mchid, ref["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
			t.Fatalf("refund notification: %v %+v", err, d)
		}
		r := e.refundOf(a.owner, a.orderID)
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if r["status"] != "succeeded" || o["refunded_amount"] != float64(9900) || o["status"] != "refunded" {
			t.Fatalf("late success: refund %v, order %v refunded %v", r["status"], o["status"], o["refunded_amount"])
		}
		if !strings.Contains(e.logs.String(), "ALARM: WeChat Pay reports success for a refund marked failed") {
			t.Fatal("no alarm in the log")
		}
		if !strings.Contains(fmt.Sprint(o["events"]), "was reported succeeded by WeChat Pay") {
			t.Fatalf("no order event: %v", o["events"])
		}
		if m := e.do(caller{}, "GET", "/metrics", nil); !strings.Contains(string(m.body), "kaidian_refund_late_success_total 1") {
			t.Fatalf("metric missing: %d", m.status)
		}
	})
}

// TestRefundIdempotencyKey: the same key and body return the same refund;
// the same key with another body is refused (409); 16 different requests at
// once never refund more than was paid.
func TestRefundIdempotencyKey(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.paidOrder(op, a)
		path := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)
		keyed := e.withHeader("Idempotency-Key", "refund-key-0001")
		first := keyed.must(a.owner, 201, "POST", path, map[string]any{"amount": 1000, "reason": "少发"})
		again := keyed.must(a.owner, 201, "POST", path, map[string]any{"amount": 1000, "reason": "少发"})
		if first["id"] != again["id"] {
			t.Fatalf("the same key made two refunds: %v %v", first["id"], again["id"])
		}
		if r := keyed.do(a.owner, "POST", path, map[string]any{"amount": 2000, "reason": "少发"}); r.status != 409 || r.code() != "idempotency_key_reused" {
			t.Fatalf("same key, other body: %d %s", r.status, r.body)
		}
		if r := e.withHeader("Idempotency-Key", "short").do(a.owner, "POST", path, map[string]any{"amount": 100}); r.status != 400 || r.code() != "idempotency_key_required" {
			t.Fatalf("a 5-character key: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "POST", path, map[string]any{"amount": 100}); r.status != 400 || r.code() != "idempotency_key_required" {
			t.Fatalf("a refund without an Idempotency-Key: %d %s", r.status, r.body)
		}
		// 16 at once, each its own key, 1000 each, 8900 left: at most 8.
		var wg sync.WaitGroup
		statuses := make([]int, 16)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.withHeader("Idempotency-Key", fmt.Sprintf("refund-race-%04d", i)).do(a.owner, "POST", path, map[string]any{"amount": 1000})
				statuses[i] = r.status
				if r.status != 201 && r.code() != "refund_exceeds_paid" {
					t.Errorf("refund: %d %s", r.status, r.body)
				}
			}()
		}
		// and the same key 16 times at once: one refund.
		same := make([]any, 16)
		for i := range same {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.withHeader("Idempotency-Key", "refund-same-0001").do(a.owner, "POST", path, map[string]any{"amount": 100})
				if r.status == 201 {
					same[i] = r.json(t)["id"]
				} else if r.code() != "refund_exceeds_paid" {
					t.Errorf("same-key refund: %d %s", r.status, r.body)
				}
			}()
		}
		wg.Wait()
		var sum int64
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE order_id = ?`, a.orderID).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if sum > 9900 || o["refunded_amount"] != float64(sum) {
			t.Fatalf("refunds add up to %d of 9900 paid; refunded_amount %v", sum, o["refunded_amount"])
		}
		var sameKey int
		e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM refunds WHERE idempotency_key = 'refund-same-0001'`).Scan(&sameKey)
		for _, id := range same {
			if id != nil && sameKey == 1 {
				continue
			}
			if id != nil {
				t.Fatalf("one key, %d refunds", sameKey)
			}
		}
	})
}
