package server_test

import (
	"fmt"
	"testing"
	"time"
)

// TestCostLedgerThroughTheAPI: the owner records the shop's renewals,
// marks one renewed and reads the year's report; operations staff may not
// see the ledger; bad items are refused with their codes. Every answer is
// checked against /openapi.json.
func TestCostLedgerThroughTheAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		item := e.must(a.owner, 201, "POST", "/admin/api/v1/cost-items", map[string]any{"kind": "certification", "name": "微信认证",
			"supplier": "腾讯", "cost": 30000, "renews": "yearly", "due_on": "2027-03-01", "responsible": "店长"})
		path := fmt.Sprintf("/admin/api/v1/cost-items/%v", item["id"])
		if r := e.do(a.owner, "POST", "/admin/api/v1/cost-items", map[string]any{"kind": "certification", "name": "x", "cost": -5,
			"renews": "yearly", "due_on": "2027-03-01"}); r.status != 400 || r.code() != "invalid_cost" {
			t.Fatalf("a negative cost: %d %s", r.status, r.body)
		}
		item["supplier"] = "腾讯云"
		e.must(a.owner, 200, "PUT", path, item)
		if renewed := e.must(a.owner, 200, "POST", path+"/renewed", nil); renewed["due_on"] != "2028-03-01" {
			t.Fatalf("renewed: %v", renewed)
		}
		if items := e.mustList(a.owner, "/admin/api/v1/cost-items"); len(items) != 1 {
			t.Fatalf("items: %v", items)
		}
		rep := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/cost-report?year=%d", time.Now().Year()), nil)
		if rep["total"].(float64) != 30000 || len(rep["months"].([]any)) != 12 {
			t.Fatalf("report: %v", rep)
		}
		e.must(caller{token: op.token, shopID: a.id}, 201, "POST", "/admin/api/v1/staff",
			map[string]any{"username": "ops_" + a.appid, "password": "ops-pass-12", "role": "operations", "display_name": "运营"})
		ops := e.staffLogin("ops_"+a.appid, "ops-pass-12")
		if r := e.do(ops, "GET", "/admin/api/v1/cost-items", nil); r.status != 403 {
			t.Fatalf("operations staff read the ledger: %d %s", r.status, r.body)
		}
		e.must(a.owner, 204, "DELETE", path, nil)
		v.finish([]string{"GET /admin/api/v1/cost-items", "POST /admin/api/v1/cost-items", "PUT /admin/api/v1/cost-items/{id}",
			"DELETE /admin/api/v1/cost-items/{id}", "POST /admin/api/v1/cost-items/{id}/renewed", "GET /admin/api/v1/cost-report"})
	})
}
