package server_test

import (
	"fmt"
	"sync"
	"testing"
)

func TestAftersalesApproveRejectCancel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.paidOrder(op, a)
		create := fmt.Sprintf("/api/v1/orders/%d/aftersales", a.orderID)
		if r := e.do(a.member, "POST", create, map[string]any{"amount": 9901, "reason": "多退一分"}); r.code() != "refund_exceeds_paid" {
			t.Fatalf("asking for more than was paid: %d %s", r.status, r.body)
		}
		first := e.must(a.member, 201, "POST", create, map[string]any{"amount": 2000, "reason": "尺码不合适", "photos": []string{"https://img.example.com/1.jpg"}})
		if r := e.do(a.member, "POST", create, map[string]any{"amount": 1000, "reason": "再来一个"}); r.status != 409 || r.code() != "aftersale_open" {
			t.Fatalf("a second open request: %d %s", r.status, r.body)
		}
		rejected := e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/reject", first["id"]), map[string]any{"reason": "已过退换期"})
		if rejected["status"] != "rejected" || rejected["reject_reason"] != "已过退换期" || len(rejected["events"].([]any)) != 2 {
			t.Fatalf("rejected: %v", rejected)
		}
		second := e.must(a.member, 201, "POST", create, map[string]any{"amount": 3000, "reason": "有破损"})
		cancelled := e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/aftersales/%v/cancel", second["id"]), nil)
		if cancelled["status"] != "cancelled" {
			t.Fatalf("cancelled: %v", cancelled)
		}
		third := e.must(a.member, 201, "POST", create, map[string]any{"amount": 3000, "reason": "有破损"})
		approve := fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", third["id"])
		var wg sync.WaitGroup
		statuses := make([]int, 5)
		for i := range statuses { // five clicks on "approve" at once
			wg.Add(1)
			go func() { defer wg.Done(); statuses[i] = e.do(a.owner, "POST", approve, nil).status }()
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == 200 {
				ok++
			}
		}
		refunds := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID))
		if ok != 1 || len(refunds) != 1 || refunds[0]["amount"] != float64(3000) {
			t.Fatalf("%d approvals succeeded, %d refunds: %v", ok, len(refunds), refunds)
		}
		got := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/aftersales/%v", third["id"]), nil)
		if got["status"] != "approved" || got["refund_id"] != refunds[0]["id"] {
			t.Fatalf("approved request: %v", got)
		}
		if open := e.mustList(a.owner, "/admin/api/v1/aftersales?status=requested"); len(open) != 0 {
			t.Fatalf("open requests left: %v", open)
		}
	})
}
