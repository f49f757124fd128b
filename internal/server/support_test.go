package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
)

// shanghaiMonth is this month in Asia/Shanghai, as reports take it (a
// test run over midnight at a month's end could still straddle it).
func shanghaiMonth() string { return time.Now().In(chinaday.Zone).Format("2006-01") }

// TestTicketsBetweenAShopAndItsOperator: the shop's owner opens a ticket
// from the console and follows it; the operator, acting on the shop,
// answers, waits for the client and resolves; only the provider sets the
// SLA, and a policy without working time is refused; another shop's owner
// cannot see the ticket. Every answer is checked against /openapi.json.
func TestTicketsBetweenAShopAndItsOperator(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		op := e.operator()
		a, b := e.newShop(op, "甲", "enterprise"), e.newShop(op, "乙", "enterprise")
		provider := caller{token: op.token, shopID: a.id}

		policy := e.must(a.owner, 200, "GET", "/admin/api/v1/sla-policy", nil)
		if r := e.do(a.owner, "PUT", "/admin/api/v1/sla-policy", policy); r.status != 403 || r.code() != "not_your_side" {
			t.Fatalf("the shop sets its own SLA: %d %s", r.status, r.body)
		}
		policy["days"] = map[string]bool{"2027-01-01": false}
		e.must(provider, 200, "PUT", "/admin/api/v1/sla-policy", policy)
		if r := e.do(provider, "PUT", "/admin/api/v1/sla-policy", map[string]any{"hours": [][]int{}, "targets": policy["targets"]}); r.status != 400 || r.code() != "calendar_no_working_time" {
			t.Fatalf("no working time: %d %s", r.status, r.body)
		}

		tk := e.must(a.owner, 201, "POST", "/admin/api/v1/tickets", map[string]any{"kind": "bug", "priority": "p1",
			"title": "支付失败", "body": "用户付款后订单仍显示待支付", "page": "/admin/orders"})
		id := int64(tk["id"].(float64))
		path := fmt.Sprintf("/admin/api/v1/tickets/%d", id)
		if r := e.do(a.owner, "POST", "/admin/api/v1/tickets", map[string]any{"kind": "bug", "priority": "urgent", "title": "x", "body": "y"}); r.status != 400 || r.code() != "invalid_priority" {
			t.Fatalf("a bad priority: %d %s", r.status, r.body)
		}
		answered := e.must(provider, 201, "POST", path+"/messages", map[string]any{"body": "已收到，十分钟内回复"})
		if answered["status"] != "in_progress" || answered["responded_at"] == nil || answered["response_due_at"] != tk["response_due_at"] {
			t.Fatalf("answered: %v", answered)
		}
		e.must(provider, 200, "POST", path+"/status", map[string]any{"status": "waiting_client"})
		if r := e.do(a.owner, "POST", path+"/status", map[string]any{"status": "resolved"}); r.status != 403 || r.code() != "not_your_side" {
			t.Fatalf("the shop resolves: %d %s", r.status, r.body)
		}
		e.must(a.owner, 201, "POST", path+"/messages", map[string]any{"body": "截图已补充"})
		resolved := e.must(provider, 200, "POST", path+"/status", map[string]any{"status": "resolved"})
		if resolved["status"] != "resolved" || len(resolved["messages"].([]any)) != 2 {
			t.Fatalf("resolved: %v", resolved)
		}
		// An agency running shop a's mini program answers as the provider.
		agency, _ := e.newAgency(op, "agency_of_a", map[int64]string{a.id: "owner"})
		agency.shopID = a.id
		if m := e.must(agency, 201, "POST", path+"/messages", map[string]any{"body": "代理已复查"})["messages"].([]any); m[len(m)-1].(map[string]any)["from_provider"] != true {
			t.Fatalf("the agency's reply: %v", m)
		}
		e.must(a.owner, 200, "POST", path+"/status", map[string]any{"status": "closed"})
		if list := e.must(a.owner, 200, "GET", "/admin/api/v1/tickets?status=closed", nil); len(list["items"].([]any)) != 1 {
			t.Fatalf("closed tickets: %v", list)
		}
		e.must(a.owner, 200, "GET", path, nil)
		month := e.must(a.owner, 200, "GET", "/admin/api/v1/tickets/report?month="+shanghaiMonth(), nil)
		if month["priorities"].([]any)[0].(map[string]any)["opened"].(float64) != 1 {
			t.Fatalf("report: %v", month)
		}
		if r := e.do(a.owner, "GET", "/admin/api/v1/tickets/report?month=2026-13", nil); r.status != 400 || r.code() != "invalid_month" {
			t.Fatalf("a bad month: %d %s", r.status, r.body)
		}

		// A maintenance contract; a change request estimated, approved by the shop, worked on; the month's statement.
		if r := e.do(a.owner, "GET", "/admin/api/v1/support-contract", nil); r.status != 404 || r.code() != "no_contract" {
			t.Fatalf("no contract yet: %d %s", r.status, r.body)
		}
		contract := map[string]any{"package_kind": "hours", "package_period": "month", "package_quota": 1, "package_price": 50000,
			"package_starts_at": "2026-01-01T00:00:00+08:00", "hourly_rate": 30000}
		if r := e.do(a.owner, "PUT", "/admin/api/v1/support-contract", contract); r.status != 403 {
			t.Fatalf("the shop sets its contract: %d %s", r.status, r.body)
		}
		e.must(provider, 200, "PUT", "/admin/api/v1/support-contract", contract)
		e.must(a.owner, 200, "GET", "/admin/api/v1/support-contract", nil)
		change := e.must(a.owner, 201, "POST", "/admin/api/v1/tickets", map[string]any{"kind": "change", "priority": "p3", "title": "加会员价", "body": "九折"})
		cpath := fmt.Sprintf("/admin/api/v1/tickets/%v", change["id"])
		if r := e.do(provider, "POST", cpath+"/time", map[string]any{"minutes": 30}); r.status != 409 || r.code() != "estimate_not_approved" {
			t.Fatalf("time before approval: %d %s", r.status, r.body)
		}
		e.must(provider, 200, "POST", cpath+"/estimate", map[string]any{"minutes": 90})
		if r := e.do(provider, "POST", cpath+"/approve-estimate", nil); r.status != 403 {
			t.Fatalf("the provider approves its own estimate: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", cpath+"/approve-estimate", nil)
		worked := e.must(provider, 201, "POST", cpath+"/time", map[string]any{"minutes": 90, "note": "开发与测试"})
		if worked["time_spent_minutes"].(float64) != 90 {
			t.Fatalf("time spent: %v", worked)
		}
		st := e.must(a.owner, 200, "GET", "/admin/api/v1/support-statement?month="+shanghaiMonth(), nil)
		if st["package_minutes"].(float64) != 60 || st["billable_minutes"].(float64) != 30 || st["billable"].(float64) != 15000 {
			t.Fatalf("statement: %v", st)
		}

		if r := e.do(b.owner, "GET", path, nil); r.status != 404 {
			t.Fatalf("shop b reads shop a's ticket: %d %s", r.status, r.body)
		}
		if r := e.do(b.owner, "POST", path+"/messages", map[string]any{"body": "hi"}); r.status != 404 {
			t.Fatalf("shop b replies to shop a's ticket: %d %s", r.status, r.body)
		}
		if list := e.must(b.owner, 200, "GET", "/admin/api/v1/tickets", nil); len(list["items"].([]any)) != 0 {
			t.Fatalf("shop b lists %v", list)
		}
		v.finish([]string{"GET /admin/api/v1/tickets", "POST /admin/api/v1/tickets", "GET /admin/api/v1/tickets/{id}",
			"POST /admin/api/v1/tickets/{id}/messages", "POST /admin/api/v1/tickets/{id}/status", "GET /admin/api/v1/tickets/report",
			"GET /admin/api/v1/sla-policy", "PUT /admin/api/v1/sla-policy", "GET /admin/api/v1/support-contract", "PUT /admin/api/v1/support-contract",
			"POST /admin/api/v1/tickets/{id}/estimate", "POST /admin/api/v1/tickets/{id}/approve-estimate", "POST /admin/api/v1/tickets/{id}/time",
			"GET /admin/api/v1/support-statement"})
	})
}
