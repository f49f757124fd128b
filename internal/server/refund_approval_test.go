package server_test

import (
	"context"
	"fmt"
	"testing"
)

// openRefundRequest pays a new order of shop a (without WeChat) and files a
// refund request on it as a's owner.
func (e *env) openRefundRequest(a testShop) int64 {
	e.t.Helper()
	id := e.buyNow(a.member, a.skuID, 1)
	if _, err := e.srv.Orders.MarkPaid(context.Background(), a.id, id, 9900, "tx-request"); err != nil {
		e.t.Fatal(err)
	}
	r := e.must(a.owner, 201, "POST", "/admin/api/v1/refund-requests", map[string]any{"order_id": id, "amount": 1000, "reason": "甲的退款申请"})
	return int64(r["id"].(float64))
}

// TestServiceRefundLimitAndApproval: customer service refunds up to the
// limit the owner sets; above it a second person approves (never the
// requester), and the same holds for approving after-sales requests.
func TestServiceRefundLimitAndApproval(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.paidOrder(op, a)
		e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "service_a", "password": "role-pass-1", "role": "service"})
		service := e.staffLogin("service_a", "role-pass-1")
		refunds := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)
		if r := e.keyed().do(service, "POST", refunds, map[string]any{"amount": 100}); r.status != 403 || r.code() != "refund_needs_approval" {
			t.Fatalf("customer service refunding with no limit set: %d %s", r.status, r.body)
		}
		if r := e.do(service, "PUT", "/admin/api/v1/refund-policy", map[string]any{"service_limit": 100000}); r.status != 403 {
			t.Fatalf("customer service setting its own limit: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/refund-policy", map[string]any{"service_limit": 3000})
		e.keyed().must(service, 201, "POST", refunds, map[string]any{"amount": 2000})
		if r := e.keyed().do(service, "POST", refunds, map[string]any{"amount": 3001}); r.status != 403 || r.code() != "refund_needs_approval" {
			t.Fatalf("customer service above its limit: %d %s", r.status, r.body)
		}
		req := e.must(service, 201, "POST", "/admin/api/v1/refund-requests", map[string]any{"order_id": a.orderID, "amount": 5000, "reason": "破损"})
		approve := fmt.Sprintf("/admin/api/v1/refund-requests/%v/approve", req["id"])
		if r := e.do(service, "POST", approve, map[string]any{}); r.status != 403 {
			t.Fatalf("customer service approving: %d %s", r.status, r.body)
		}
		own := e.must(a.owner, 201, "POST", "/admin/api/v1/refund-requests", map[string]any{"order_id": a.orderID, "amount": 100})
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/refund-requests/%v/approve", own["id"]), nil); r.status != 403 || r.code() != "approver_is_requester" {
			t.Fatalf("approving one's own request: %d %s", r.status, r.body)
		}
		done := e.must(a.owner, 200, "POST", approve, map[string]any{"note": "同意"})
		if done["status"] != "approved" || done["refund_id"] == nil {
			t.Fatalf("approved: %v", done)
		}
		if r := e.do(a.owner, "POST", approve, nil); r.status != 409 || r.code() != "refund_request_decided" {
			t.Fatalf("approving twice: %d %s", r.status, r.body)
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if o["refunded_amount"] != float64(7000) {
			t.Fatalf("refunded %v, want 7000", o["refunded_amount"])
		}
		pending := e.must(a.owner, 200, "GET", "/admin/api/v1/refund-requests?status=pending", nil)["items"].([]any)
		if len(pending) != 1 {
			t.Fatalf("pending requests: %v", pending)
		}
		aftersale := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/orders/%d/aftersales", a.orderID), map[string]any{"amount": 2900, "reason": "还有问题"})
		e.must(a.owner, 200, "PUT", "/admin/api/v1/refund-policy", map[string]any{"service_limit": 2000})
		if r := e.do(service, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", aftersale["id"]), nil); r.status != 403 || r.code() != "refund_needs_approval" {
			t.Fatalf("customer service approving 2900 after-sales above its 2000 limit: %d %s", r.status, r.body)
		}
		// The limit counts what this staff member already refunded on the
		// order (2000): 2900 more is over a limit of 3000, within 5000.
		e.must(a.owner, 200, "PUT", "/admin/api/v1/refund-policy", map[string]any{"service_limit": 3000})
		if r := e.do(service, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", aftersale["id"]), nil); r.status != 403 || r.code() != "refund_needs_approval" {
			t.Fatalf("customer service approving 2900 after refunding 2000 of the order, limit 3000: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/refund-policy", map[string]any{"service_limit": 5000})
		if r := e.do(service, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", aftersale["id"]), nil); r.status != 200 {
			t.Fatalf("customer service approving 2900 after 2000 (under 5000): %d %s", r.status, r.body)
		}
	})
}

// TestRefundLimitCannotBeSplit: refunds under the limit add up per order
// and staff member, so a refund above it cannot be made as several small
// ones; and every role that may not approve refunds is limited, not only
// customer service. Before, customer service made 3 × 3000 on one order
// with a limit of 3000, and operations staff refunded with no limit.
func TestRefundLimitCannotBeSplit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "拆", "enterprise")
		e.paidOrder(op, a)
		e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "service_s", "password": "role-pass-1", "role": "service"})
		e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "ops_s", "password": "role-pass-1", "role": "operations"})
		service, ops := e.staffLogin("service_s", "role-pass-1"), e.staffLogin("ops_s", "role-pass-1")
		e.must(a.owner, 200, "PUT", "/admin/api/v1/refund-policy", map[string]any{"service_limit": 3000})
		refunds := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)
		refund := func(who caller, key string, amount int) response {
			return e.withHeader("Idempotency-Key", key).do(who, "POST", refunds, map[string]any{"amount": amount})
		}
		if r := refund(service, "split-refund-1", 2000); r.status != 201 {
			t.Fatalf("first part: %d %s", r.status, r.body)
		}
		if r := refund(service, "split-refund-2", 1000); r.status != 201 {
			t.Fatalf("up to the limit: %d %s", r.status, r.body)
		}
		if r := refund(service, "split-refund-3", 1); r.status != 403 || r.code() != "refund_needs_approval" {
			t.Fatalf("one fen beyond the limit in a third refund: %d %s", r.status, r.body)
		}
		if r := refund(ops, "split-refund-4", 3001); r.status != 403 || r.code() != "refund_needs_approval" {
			t.Fatalf("operations above the limit: %d %s", r.status, r.body)
		}
		if r := refund(ops, "split-refund-5", 3000); r.status != 201 {
			t.Fatalf("operations within its own limit on the order: %d %s", r.status, r.body)
		}
		if r := refund(a.owner, "split-refund-6", 3001); r.status != 201 {
			t.Fatalf("the owner (who may approve refunds) is not limited: %d %s", r.status, r.body)
		}
	})
}
