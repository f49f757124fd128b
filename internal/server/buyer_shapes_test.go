package server_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// staffOnlyKeys are fields of staff shapes that a buyer's answer must
// never carry.
var staffOnlyKeys = map[string]bool{"staff_note": true, "events": true, "member_id": true, "decided_by": true,
	"issued": true, "total_quantity": true, "auto_rule": true, "disabled": true, "allow_virtual": true, "actor_id": true}

// leakedKeys lists the staff-only keys found anywhere in a JSON answer.
func leakedKeys(body []byte) []string {
	return leakedKeysOf(body, func(k string) bool { return staffOnlyKeys[k] })
}

// leakedKeysOf lists the keys found anywhere in a JSON answer that staff
// says are staff-only.
func leakedKeysOf(body []byte, staff func(string) bool) []string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return []string{"<not JSON>"}
	}
	found := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if staff(k) {
					found[k] = true
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	var out []string
	for k := range found {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestBuyerOrderRoutesShowNoStaffFields reads every buyer route that
// answers with an order after staff wrote a note on it: none may show the
// note, the event log or other staff-only fields (the buyer's order list
// showed staff_note). A new buyer order route fails this test until it is
// added here.
func TestBuyerOrderRoutesShowNoStaffFields(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "形", "enterprise")
		const note = "staff-only: buyer is difficult"
		e.must(a.owner, 200, "PUT", fmt.Sprintf("/admin/api/v1/orders/%d/note", a.orderID), map[string]any{"note": note})
		// A fully discounted order is paid at once: ship it so the buyer can confirm it.
		c := e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "全免", "kind": "amount",
			"amount": 100000, "scope": "all", "valid_days": 3, "total_quantity": 10, "claimable": true})
		w := e.claimCoupon(a.member, int64(c["id"].(float64)))
		r := e.withHeader("Idempotency-Key", "shape-free-1").do(a.member, "POST", "/api/v1/orders", map[string]any{
			"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "member_coupon_id": w, "address": testAddress})
		if r.status != 201 {
			t.Fatalf("order: %d %s", r.status, r.body)
		}
		paid := int64(r.json(t)["id"].(float64))
		e.must(a.owner, 200, "PUT", fmt.Sprintf("/admin/api/v1/orders/%d/note", paid), map[string]any{"note": note})
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", paid), map[string]any{"carrier": "顺丰", "tracking_no": "SF123456"})
		if staff := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", paid), nil); staff["staff_note"] != note {
			t.Fatalf("staff see the note: %v", staff["staff_note"])
		}

		answers := map[string]response{
			"POST /api/v1/orders":     r,
			"GET /api/v1/orders":      e.do(a.member, "GET", "/api/v1/orders", nil),
			"GET /api/v1/orders/{id}": e.do(a.member, "GET", fmt.Sprintf("/api/v1/orders/%d", a.orderID), nil),
			"PUT /api/v1/orders/{id}/invoice": e.do(a.member, "PUT", fmt.Sprintf("/api/v1/orders/%d/invoice", paid),
				map[string]any{"title_type": "personal", "title": "张三", "email": "a@example.com"}),
			"POST /api/v1/orders/{id}/confirm-receipt": e.do(a.member, "POST", fmt.Sprintf("/api/v1/orders/%d/confirm-receipt", paid), nil),
			"POST /api/v1/orders/{id}/cancel":          e.do(a.member, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", a.orderID), map[string]any{}),
		}
		// Routes under /api/v1/orders that do not answer with an order.
		notOrders := map[string]bool{"POST /api/v1/orders/preview": true, "POST /api/v1/orders/{id}/pay": true,
			"POST /api/v1/orders/{id}/aftersales": true,
			"GET /api/v1/orders/{id}/parcels":     true} // parcels: TestEveryBuyerRouteShowsNoStaffFields
		for route, ans := range answers {
			if ans.status >= 300 {
				t.Fatalf("%s: %d %s", route, ans.status, ans.body)
			}
			if leaked := leakedKeys(ans.body); len(leaked) > 0 || strings.Contains(string(ans.body), note) {
				t.Errorf("%s shows staff-only fields %v: %s", route, leaked, ans.body)
			}
		}
		var doc struct {
			Paths map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(e.do(caller{}, "GET", "/openapi.json", nil).body, &doc); err != nil {
			t.Fatal(err)
		}
		for path, ops := range doc.Paths {
			if !strings.HasPrefix(path, "/api/v1/orders") {
				continue
			}
			for method := range ops {
				route := strings.ToUpper(method) + " " + path
				if _, read := answers[route]; !read && !notOrders[route] {
					t.Errorf("buyer route %s is not checked for staff-only fields", route)
				}
			}
		}
	})
}

// TestBuyerPromotionRoutesShowNoStaffFields reads the promotion routes
// buyers call: they answered with the staff types (a coupon's issued
// count and automatic rule, who decided a withdrawal).
func TestBuyerPromotionRoutesShowNoStaffFields(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "促", "enterprise")
		e.setStock(a, 100)
		sale := e.newSale(a, "秒杀", 5, time.Now())
		deal := e.newDeal(a, "拼团", false)
		e.newCoupon(a, "满50减10", true)
		e.must(a.owner, 201, "POST", "/admin/api/v1/timed-discounts", map[string]any{"sku_id": a.skuID, "title": "限时价", "price": 7900,
			"starts_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano), "ends_at": time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339Nano)})
		_, withdrawal := e.promoterWithWithdrawal(a)
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/withdrawals/%d/approve", withdrawal), map[string]any{"note": "ok"})
		group, _ := e.openGroup(e.buyers(a, 1, "shape")[0], deal, "shape-group-1")
		shopCaller := caller{appid: a.appid}
		answers := map[string]response{
			"GET /api/v1/flash-sales":      e.do(shopCaller, "GET", "/api/v1/flash-sales", nil),
			"GET /api/v1/flash-sales/{id}": e.do(shopCaller, "GET", fmt.Sprintf("/api/v1/flash-sales/%d", sale), nil),
			"GET /api/v1/group-deals":      e.do(shopCaller, "GET", "/api/v1/group-deals", nil),
			"GET /api/v1/group-deals/{id}": e.do(shopCaller, "GET", fmt.Sprintf("/api/v1/group-deals/%d", deal), nil),
			"GET /api/v1/groups/{id}":      e.do(shopCaller, "GET", fmt.Sprintf("/api/v1/groups/%d", group), nil),
			"GET /api/v1/timed-discounts":  e.do(shopCaller, "GET", "/api/v1/timed-discounts", nil),
			"GET /api/v1/coupons":          e.do(shopCaller, "GET", "/api/v1/coupons", nil),
			"GET /api/v1/me/withdrawals":   e.do(a.member, "GET", "/api/v1/me/withdrawals", nil),
			"POST /api/v1/me/withdrawals":  e.do(a.member, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 1000}),
		}
		for route, ans := range answers {
			if ans.status >= 300 || len(ans.body) < 10 {
				t.Fatalf("%s: %d %s", route, ans.status, ans.body)
			}
			if leaked := leakedKeys(ans.body); len(leaked) > 0 {
				t.Errorf("%s shows staff-only fields %v: %s", route, leaked, ans.body)
			}
		}
	})
}
