package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/aftersale"
)

// shippedOrder is a WeChat-paid, shipped order of qty units of a's SKU,
// with its order line id.
func (e *env) shippedOrder(a testShop, qty int64) (orderID, lineID int64) {
	e.t.Helper()
	orderID = e.paidLineOrder(a, qty)
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", orderID), map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567890"})
	return orderID, e.lineOf(a, orderID)
}

// paidLineOrder is a WeChat-paid order of qty units of a's SKU.
func (e *env) paidLineOrder(a testShop, qty int64) int64 {
	e.t.Helper()
	id := e.buyNow(a.member, a.skuID, qty)
	if d := e.payWithCerts(a.member, a.appid, id); !d.Delivered {
		e.t.Fatalf("payment: %+v", d)
	}
	return id
}

func (e *env) lineOf(a testShop, orderID int64) int64 {
	e.t.Helper()
	o := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/orders/%d", orderID), nil)
	return int64(o["lines"].([]any)[0].(map[string]any)["id"].(float64))
}

func lineRequest(kind string, lineID, qty int64, extra map[string]any) map[string]any {
	body := map[string]any{"type": kind, "reason_code": "quality", "reason": "质量问题", "photos": []string{"https://img.example.com/p.jpg"},
		"lines": []map[string]any{{"order_line_id": lineID, "quantity": qty}}}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

// expire moves a request's deadline into the past and runs the due jobs.
func (e *env) expire(id any) {
	e.t.Helper()
	if _, err := e.srv.DB.Exec(context.Background(), `UPDATE aftersales SET due_at = 1 WHERE id = ?`, id); err != nil {
		e.t.Fatal(err)
	}
	e.runDueJobs(aftersale.DueKind)
}

func (e *env) refundsOf(a testShop, orderID int64) []map[string]any {
	return e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/orders/%d/refunds", orderID))
}

func wantStatus(t *testing.T, got map[string]any, status string) {
	t.Helper()
	if got["status"] != status {
		t.Fatalf("want status %s: %v", status, got)
	}
}

// TestReturnAndRefund: the buyer returns 2 of 3 units; the amount is the
// line's pro-rata share; a second request on the line is refused while
// this one is open; staff approve, the buyer ships back, and 16 concurrent
// "received" clicks return the stock once and refund once. What is left
// of the line can be returned, for exactly what is left of its price.
func TestReturnAndRefund(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		orderID, lineID := e.shippedOrder(a, 3)
		create := fmt.Sprintf("/api/v1/orders/%d/aftersales", orderID)
		if r := e.do(a.member, "POST", create, lineRequest("return_refund", lineID, 4, nil)); r.status != 400 || r.code() != "quantity_exceeds" {
			t.Fatalf("4 of 3 units: %d %s", r.status, r.body)
		}
		if r := e.do(a.member, "POST", create, lineRequest("return_refund", lineID, 2, map[string]any{"amount": 19801})); r.code() != "amount_exceeds_lines" {
			t.Fatalf("asking more than the share: %d %s", r.status, r.body)
		}
		if r := e.do(a.member, "POST", create, lineRequest("return_refund", 999999, 1, nil)); r.status != 400 || r.code() != "order_line_not_found" {
			t.Fatalf("an unknown line: %d %s", r.status, r.body)
		}
		req := e.must(a.member, 201, "POST", create, lineRequest("return_refund", lineID, 2, nil))
		if req["amount"] != float64(19800) || req["type"] != "return_refund" || req["due_action"] != "approve" || req["member_id"] != nil {
			t.Fatalf("the request: %v", req)
		}
		if due, err := time.Parse(time.RFC3339, req["due_at"].(string)); err != nil || time.Until(due) < 47*time.Hour || time.Until(due) > 49*time.Hour {
			t.Fatalf("due_at %v: %v", req["due_at"], err)
		}
		if r := e.do(a.member, "POST", create, lineRequest("return_refund", lineID, 1, nil)); r.status != 409 || r.code() != "aftersale_open" {
			t.Fatalf("a second open request on the line: %d %s", r.status, r.body)
		}
		id := req["id"]
		shipBack := fmt.Sprintf("/api/v1/aftersales/%v/ship-back", id)
		parcel := map[string]any{"carrier": "中通", "tracking_no": "ZT7654321"}
		if r := e.do(a.member, "POST", shipBack, parcel); r.status != 409 || r.code() != "aftersale_wrong_status" {
			t.Fatalf("shipping back before approval: %d %s", r.status, r.body)
		}
		approved := e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", id), nil)
		if approved["status"] != "approved" || approved["due_action"] != "close" || len(e.refundsOf(a, orderID)) != 0 {
			t.Fatalf("approved return (no refund yet): %v", approved)
		}
		if r := e.do(a.member, "POST", shipBack, map[string]any{"carrier": "中通", "tracking_no": "x"}); r.status != 400 {
			t.Fatalf("a bad tracking number: %d %s", r.status, r.body)
		}
		shipped := e.must(a.member, 200, "POST", shipBack, parcel)
		if shipped["status"] != "buyer_shipped" || shipped["return_tracking_no"] != "ZT7654321" || shipped["due_action"] != "receive" {
			t.Fatalf("shipped back: %v", shipped)
		}
		if r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/aftersales/%v/cancel", id), nil); r.status != 409 {
			t.Fatalf("cancel after shipping back: %d %s", r.status, r.body)
		}
		before, _ := e.skuStock(a)
		receive := fmt.Sprintf("/admin/api/v1/aftersales/%v/receive", id)
		var wg sync.WaitGroup
		statuses := make([]int, 16)
		for i := range statuses {
			wg.Add(1)
			go func() { defer wg.Done(); statuses[i] = e.do(a.owner, "POST", receive, nil).status }()
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			switch s {
			case 200:
				ok++
			case 409:
			default:
				t.Fatalf("a receive answered %d", s)
			}
		}
		after, _ := e.skuStock(a)
		refunds := e.refundsOf(a, orderID)
		if ok != 1 || after != before+2 || len(refunds) != 1 || refunds[0]["amount"] != float64(19800) {
			t.Fatalf("%d receipts, stock %d → %d, refunds %v", ok, before, after, refunds)
		}
		got := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/aftersales/%v", id), nil)
		steps := got["steps"].([]any)
		if got["status"] != "refunded" || got["refund_id"] != refunds[0]["id"] || got["due_at"] != nil || len(steps) != 5 ||
			steps[3].(map[string]any)["to"] != "received" || steps[3].(map[string]any)["by"] != "shop" {
			t.Fatalf("the refunded request as the buyer sees it: %v", got)
		}
		var ledger int
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM stock_ledger WHERE order_id = ? AND kind = 'return' AND quantity = 2`,
			orderID).Scan(&ledger); err != nil || ledger != 1 {
			t.Fatalf("return movements in the ledger: %d %v", ledger, err)
		}
		if r := e.do(a.member, "POST", create, lineRequest("return_refund", lineID, 2, nil)); r.status != 400 || r.code() != "quantity_exceeds" {
			t.Fatalf("2 more of the 1 left: %d %s", r.status, r.body)
		}
		last := e.must(a.member, 201, "POST", create, lineRequest("refund_only", lineID, 1, nil))
		if last["amount"] != float64(29700-19800) {
			t.Fatalf("the last unit's share: %v", last)
		}
	})
}

// TestExchange: the goods come back (stock +1), the replacement ships
// (stock −1, by compare-and-set: none in stock is a 409), the buyer
// confirms; nothing is refunded.
func TestExchange(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		orderID, lineID := e.shippedOrder(a, 1)
		create := fmt.Sprintf("/api/v1/orders/%d/aftersales", orderID)
		if r := e.do(a.member, "POST", create, lineRequest("exchange", lineID, 1, map[string]any{"amount": 100})); r.status != 400 {
			t.Fatalf("an exchange asking money: %d %s", r.status, r.body)
		}
		if r := e.do(a.member, "POST", create, map[string]any{"type": "exchange", "reason": "换个尺码", "amount": 100}); r.status != 400 {
			t.Fatalf("an exchange without lines: %d %s", r.status, r.body)
		}
		req := e.must(a.member, 201, "POST", create, lineRequest("exchange", lineID, 1, map[string]any{"reason_code": "size"}))
		id := req["id"]
		if req["amount"] != float64(0) {
			t.Fatalf("an exchange: %v", req)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", id), nil)
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/aftersales/%v/ship-back", id), map[string]any{"carrier": "中通", "tracking_no": "ZT1000001"})
		before, _ := e.skuStock(a)
		wantStatus(t, e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/receive", id), nil), "received")
		if s, _ := e.skuStock(a); s != before+1 {
			t.Fatalf("stock after the goods came back: %d, want %d", s, before+1)
		}
		shipEx := fmt.Sprintf("/admin/api/v1/aftersales/%v/ship-exchange", id)
		parcel := map[string]any{"carrier": "顺丰", "tracking_no": "SF2000002"}
		e.setStock(a, 0)
		if r := e.do(a.owner, "POST", shipEx, parcel); r.status != 409 || r.code() != "out_of_stock" {
			t.Fatalf("a replacement out of stock: %d %s", r.status, r.body)
		}
		e.setStock(a, 5)
		shipped := e.must(a.owner, 200, "POST", shipEx, parcel)
		if shipped["status"] != "exchange_shipped" || shipped["exchange_tracking_no"] != "SF2000002" || shipped["due_action"] != "complete" {
			t.Fatalf("replacement shipped: %v", shipped)
		}
		if s, _ := e.skuStock(a); s != 4 {
			t.Fatalf("stock after the replacement shipped: %d, want 4", s)
		}
		if r := e.do(a.owner, "POST", shipEx, parcel); r.status != 409 {
			t.Fatalf("shipping the replacement twice: %d %s", r.status, r.body)
		}
		wantStatus(t, e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/aftersales/%v/confirm", id), nil), "completed")
		if refunds := e.refundsOf(a, orderID); len(refunds) != 0 {
			t.Fatalf("an exchange refunded: %v", refunds)
		}
	})
}

// TestRefundOnlyLines: a refund-only request on a line of a paid, not
// shipped order refunds at approval (once: the refund's key is the
// request's); a return needs an order that shipped.
func TestRefundOnlyLines(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		orderID := e.paidLineOrder(a, 2)
		lineID := e.lineOf(a, orderID)
		create := fmt.Sprintf("/api/v1/orders/%d/aftersales", orderID)
		if r := e.do(a.member, "POST", create, lineRequest("return_refund", lineID, 1, nil)); r.status != 409 || r.code() != "order_not_shipped" {
			t.Fatalf("a return of goods not shipped: %d %s", r.status, r.body)
		}
		req := e.must(a.member, 201, "POST", create, lineRequest("refund_only", lineID, 1, map[string]any{"amount": 5000}))
		got := e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", req["id"]), nil)
		refunds := e.refundsOf(a, orderID)
		if got["status"] != "approved" || len(refunds) != 1 || refunds[0]["amount"] != float64(5000) || got["due_at"] != nil {
			t.Fatalf("approved: %v, refunds %v", got, refunds)
		}
		var key string
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT idempotency_key FROM refunds WHERE order_id = ?`, orderID).Scan(&key); err != nil ||
			key != fmt.Sprintf("aftersale-%v", req["id"]) {
			t.Fatalf("the refund's key %q: %v", key, err)
		}
		// The line is free again: the other unit can be asked for.
		e.must(a.member, 201, "POST", create, lineRequest("refund_only", lineID, 1, nil))
	})
}

// TestAftersaleTimeLimits: the shop silent 48 h → approved by the system;
// the buyer silent → closed; the shop silent after the goods came back →
// received and refunded; the buyer silent after the replacement shipped →
// completed.
func TestAftersaleTimeLimits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		get := func(id any) map[string]any {
			return e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/aftersales/%v", id), nil)
		}

		orderID, lineID := e.shippedOrder(a, 2)
		create := fmt.Sprintf("/api/v1/orders/%d/aftersales", orderID)
		first := e.must(a.member, 201, "POST", create, lineRequest("return_refund", lineID, 1, nil))
		e.runDueJobs(aftersale.DueKind) // not due yet: nothing happens
		wantStatus(t, get(first["id"]), "requested")
		e.expire(first["id"])
		auto := get(first["id"])
		steps := auto["steps"].([]any)
		if auto["status"] != "approved" || steps[len(steps)-1].(map[string]any)["by"] != "system" || auto["due_action"] != "close" {
			t.Fatalf("after 48 h of silence: %v", auto)
		}
		e.expire(first["id"])
		wantStatus(t, get(first["id"]), "closed")

		second := e.must(a.member, 201, "POST", create, lineRequest("return_refund", lineID, 2, nil))
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", second["id"]), nil)
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/aftersales/%v/ship-back", second["id"]), map[string]any{"carrier": "中通", "tracking_no": "ZT3000003"})
		before, _ := e.skuStock(a)
		e.expire(second["id"])
		wantStatus(t, get(second["id"]), "refunded")
		if s, _ := e.skuStock(a); s != before+2 {
			t.Fatalf("stock after the automatic receipt: %d, want %d", s, before+2)
		}
		if refunds := e.refundsOf(a, orderID); len(refunds) != 1 || refunds[0]["amount"] != float64(19800) {
			t.Fatalf("refunds after the automatic receipt: %v", refunds)
		}
		e.expire(second["id"]) // a late run of a finished step changes nothing
		if refunds := e.refundsOf(a, orderID); len(refunds) != 1 {
			t.Fatalf("refunds after a second run: %v", refunds)
		}

		exOrder, exLine := e.shippedOrder(a, 1)
		ex := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/orders/%d/aftersales", exOrder), lineRequest("exchange", exLine, 1, nil))
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", ex["id"]), nil)
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/aftersales/%v/ship-back", ex["id"]), map[string]any{"carrier": "中通", "tracking_no": "ZT4000004"})
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/receive", ex["id"]), nil)
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/ship-exchange", ex["id"]), map[string]any{"carrier": "顺丰", "tracking_no": "SF5000005"})
		e.expire(ex["id"])
		wantStatus(t, get(ex["id"]), "completed")
	})
}

// TestAutoConfirmReceipt: a shipped order is confirmed received after the
// shop's auto_confirm_days (owner setting, default 10) through the same
// transition as the buyer's confirmation; an order with an open
// after-sales request waits.
func TestAutoConfirmReceipt(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.paidShop("甲")
		if got := e.must(a.owner, 200, "GET", "/admin/api/v1/aftersale-settings", nil); got["auto_confirm_days"] != float64(10) ||
			got["return_ship_days"] != float64(7) || got["return_receive_days"] != float64(10) {
			t.Fatalf("default settings: %v", got)
		}
		if r := e.do(a.owner, "PUT", "/admin/api/v1/aftersale-settings", map[string]any{"auto_confirm_days": 0, "return_ship_days": 7, "return_receive_days": 10}); r.status != 400 {
			t.Fatalf("0 days: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/aftersale-settings", map[string]any{"auto_confirm_days": 3, "return_ship_days": 7, "return_receive_days": 10})
		old, _ := e.shippedOrder(a, 1)
		fresh, _ := e.shippedOrder(a, 1)
		disputed, line := e.shippedOrder(a, 1)
		e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/orders/%d/aftersales", disputed), lineRequest("return_refund", line, 1, nil))
		fourDaysAgo := time.Now().Add(-4 * 24 * time.Hour).UnixMilli()
		for _, id := range []int64{old, disputed} {
			if _, err := e.srv.DB.Exec(ctx, `UPDATE orders SET shipped_at = ? WHERE id = ?`, fourDaysAgo, id); err != nil {
				t.Fatal(err)
			}
		}
		n, err := e.srv.After.AutoConfirmOrders(ctx)
		if err != nil || n != 1 {
			t.Fatalf("auto-confirmed %d: %v", n, err)
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", old), nil)
		events := o["events"].([]any)
		last := events[len(events)-1].(map[string]any)
		if o["status"] != "completed" || o["completed_at"] == nil || last["actor"] != "system" || last["to"] != "completed" {
			t.Fatalf("the auto-confirmed order: %v", o)
		}
		if e.orderStatus(a.owner, fresh) != "shipped" || e.orderStatus(a.owner, disputed) != "shipped" {
			t.Fatal("a fresh or disputed order was confirmed")
		}
		if n, err := e.srv.After.AutoConfirmOrders(ctx); err != nil || n != 0 {
			t.Fatalf("a second sweep confirmed %d: %v", n, err)
		}
	})
}

// TestAutoConfirmStartsTheCommissionClock: an order confirmed by the sweep
// is completed as by its buyer, so its promoter's frozen commission settles
// the shop's settle days after that completion, not before.
func TestAutoConfirmStartsTheCommissionClock(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, p, buyer := e.referredBuyer("自", "auto-confirm")
		orderID := e.buyNow(buyer, a.skuID, 1)
		e.payOrder(a, buyer, orderID)
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", orderID), map[string]any{"carrier": "顺丰", "tracking_no": "SF100200300"})
		commission := func() string {
			list := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/promoters/%d/commissions", p))
			if len(list) != 1 {
				t.Fatalf("commissions: %v", list)
			}
			return list[0]["status"].(string)
		}
		if _, err := e.srv.DB.Exec(ctx, `UPDATE orders SET shipped_at = shipped_at - ? WHERE id = ?`, int64(11*86_400_000), orderID); err != nil {
			t.Fatal(err)
		}
		if n, err := e.srv.After.AutoConfirmOrders(ctx); err != nil || n != 1 {
			t.Fatalf("auto-confirmed %d: %v", n, err)
		}
		e.settleCommissions()
		if st := commission(); st != "frozen" {
			t.Fatalf("the commission right after the automatic completion: %s", st)
		}
		if _, err := e.srv.DB.Exec(ctx, `UPDATE orders SET completed_at = completed_at - ? WHERE id = ?`, int64(8*86_400_000), orderID); err != nil {
			t.Fatal(err)
		}
		e.settleCommissions()
		if st := commission(); st != "settled" {
			t.Fatalf("the commission 8 days after the automatic completion: %s", st)
		}
	})
}
