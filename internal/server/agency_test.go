package server_test

import (
	"fmt"
	"testing"
)

// newAgency creates an agency login through the operator API and grants it
// the given shops with a role each; it returns the login (without a shop
// chosen) and the account id.
func (e *env) newAgency(op caller, username string, grants map[int64]string) (caller, int64) {
	e.t.Helper()
	a := e.must(op, 201, "POST", "/admin/api/v1/agencies", map[string]any{"username": username, "display_name": "代理", "password": "agency-pass-1"})
	if a["role"] != "agency" || a["shop_id"] != float64(0) {
		e.t.Fatalf("agency account: %v", a)
	}
	id := int64(a["id"].(float64))
	for shopID, role := range grants {
		g := e.must(op, 200, "POST", fmt.Sprintf("/admin/api/v1/agencies/%d/shops", id), map[string]any{"shop_id": shopID, "role": role})
		if g["shop_id"] != float64(shopID) || g["role"] != role {
			e.t.Fatalf("grant: %v", g)
		}
	}
	return e.staffLogin(username, "agency-pass-1"), id
}

func shopIDs(items []map[string]any) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, int64(it["shop_id"].(float64)))
	}
	return out
}

// TestAgencyActsOnlyOnItsShops: an agency login lists and acts on the
// shops granted to it, each with the role granted there, and is refused
// (403) on any other shop, even with the shop's id in X-Shop-Id; a
// revocation takes effect at once and every change is logged.
func TestAgencyActsOnlyOnItsShops(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a, b, c := e.newShop(op, "甲", "enterprise"), e.newShop(op, "乙", "enterprise"), e.newShop(op, "丙", "enterprise")
		ag, agID := e.newAgency(op, "agency_one", map[int64]string{a.id: "owner", b.id: "service"})

		if got := shopIDs(e.mustList(ag, "/admin/api/v1/me/shops")); fmt.Sprint(got) != fmt.Sprint([]int64{a.id, b.id}) {
			t.Fatalf("the agency's shops: %v, want %d and %d", got, a.id, b.id)
		}
		if got := shopIDs(e.mustList(a.owner, "/admin/api/v1/me/shops")); fmt.Sprint(got) != fmt.Sprint([]int64{a.id}) {
			t.Fatalf("an owner's shops: %v", got)
		}
		if r := e.do(ag, "GET", "/admin/api/v1/orders", nil); r.status != 400 || r.code() != "shop_required" {
			t.Fatalf("no shop chosen: %d %s", r.status, r.body)
		}

		inA, inB, inC := caller{token: ag.token, shopID: a.id}, caller{token: ag.token, shopID: b.id}, caller{token: ag.token, shopID: c.id}
		if o := e.must(inA, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil); o["id"] != float64(a.orderID) {
			t.Fatalf("A's order through the agency: %v", o)
		}
		e.must(inA, 200, "PATCH", "/admin/api/v1/shop/settings", map[string]any{"orders": map[string]any{"unpaid_cancel_minutes": 30, "shipping_fee": 0, "free_shipping_over": 0}})
		if me := e.must(inA, 200, "GET", "/admin/api/v1/auth/me", nil); me["shop_id"] != float64(a.id) || me["account"].(map[string]any)["id"] != float64(agID) {
			t.Fatalf("me in A: %v", me)
		}
		// In B the agency is customer service: orders yes, shop settings no.
		e.must(inB, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", b.orderID), nil)
		if r := e.do(inB, "PATCH", "/admin/api/v1/shop/settings", map[string]any{"orders": map[string]any{"unpaid_cancel_minutes": 30}}); r.status != 403 || r.code() != "permission_denied" {
			t.Fatalf("service role changed settings: %d %s", r.status, r.body)
		}
		// Acting in A, B's and C's resources do not exist.
		if r := e.do(inA, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", c.orderID), nil); r.status != 404 {
			t.Fatalf("C's order from A: %d %s", r.status, r.body)
		}

		// C is not granted: every route is refused, reads and writes.
		before := e.must(c.owner, 200, "GET", "/admin/api/v1/shop", nil)
		for _, rq := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/admin/api/v1/orders", nil},
			{"GET", fmt.Sprintf("/admin/api/v1/orders/%d", c.orderID), nil},
			{"GET", "/admin/api/v1/shop", nil},
			{"GET", "/admin/api/v1/staff", nil},
			{"PUT", fmt.Sprintf("/admin/api/v1/orders/%d/note", c.orderID), map[string]any{"note": "代理改丙"}},
			{"PATCH", "/admin/api/v1/shop/settings", map[string]any{"orders": map[string]any{"unpaid_cancel_minutes": 99}}},
			{"POST", "/admin/api/v1/categories", map[string]any{"name": "代理改丙"}},
		} {
			if r := e.do(inC, rq.method, rq.path, rq.body); r.status != 403 || r.code() != "shop_not_granted" {
				t.Errorf("%s %s in C: %d %s", rq.method, rq.path, r.status, r.body)
			}
		}
		if r := e.do(caller{token: ag.token, shopID: c.id + 1000}, "GET", "/admin/api/v1/orders", nil); r.status != 403 || r.code() != "shop_not_granted" {
			t.Errorf("a shop that does not exist: %d %s", r.status, r.body)
		}
		if after := e.must(c.owner, 200, "GET", "/admin/api/v1/shop", nil); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("C changed: %v -> %v", before, after)
		}
		if o := e.must(c.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", c.orderID), nil); o["note"] == "代理改丙" {
			t.Fatal("the agency annotated C's order")
		}
		// Operator routes stay the operators'.
		for _, p := range []string{"/admin/api/v1/shops", "/admin/api/v1/agencies", fmt.Sprintf("/admin/api/v1/agencies/%d/shops", agID)} {
			if r := e.do(ag, "GET", p, nil); r.status != 403 {
				t.Errorf("agency on %s: %d %s", p, r.status, r.body)
			}
			if r := e.do(inA, "GET", p, nil); r.status != 403 {
				t.Errorf("agency in A on %s: %d %s", p, r.status, r.body)
			}
		}
		if r := e.do(inA, "POST", fmt.Sprintf("/admin/api/v1/agencies/%d/shops", agID), map[string]any{"shop_id": c.id, "role": "owner"}); r.status != 403 {
			t.Fatalf("the agency granted itself a shop: %d %s", r.status, r.body)
		}

		// Revoking A ends access to it at once; the log keeps who did what.
		e.must(op, 204, "POST", fmt.Sprintf("/admin/api/v1/agencies/%d/revoke", agID), map[string]any{"shop_id": a.id})
		if r := e.do(inA, "GET", "/admin/api/v1/orders", nil); r.status != 403 || r.code() != "shop_not_granted" {
			t.Fatalf("after revocation: %d %s", r.status, r.body)
		}
		if r := e.do(op, "POST", fmt.Sprintf("/admin/api/v1/agencies/%d/revoke", agID), map[string]any{"shop_id": a.id}); r.status != 404 || r.code() != "grant_not_found" {
			t.Fatalf("revoking twice: %d %s", r.status, r.body)
		}
		if got := shopIDs(e.mustList(ag, "/admin/api/v1/me/shops")); fmt.Sprint(got) != fmt.Sprint([]int64{b.id}) {
			t.Fatalf("the agency's shops after revocation: %v", got)
		}
		events := e.mustList(op, fmt.Sprintf("/admin/api/v1/agencies/%d/events", agID))
		if len(events) != 3 || events[0]["action"] != "revoke" || events[0]["shop_id"] != float64(a.id) || events[2]["action"] != "grant" {
			t.Fatalf("grant log: %v", events)
		}
		// Granting a staff account, or a missing shop, is refused.
		if r := e.do(op, "POST", fmt.Sprintf("/admin/api/v1/agencies/%d/shops", a.ownerID), map[string]any{"shop_id": b.id, "role": "owner"}); r.status != 404 || r.code() != "agency_not_found" {
			t.Fatalf("granting a shop owner's account: %d %s", r.status, r.body)
		}
		if r := e.do(op, "POST", fmt.Sprintf("/admin/api/v1/agencies/%d/shops", agID), map[string]any{"shop_id": c.id + 1000, "role": "owner"}); r.status != 400 {
			t.Fatalf("granting a missing shop: %d %s", r.status, r.body)
		}
		if list := e.mustList(op, "/admin/api/v1/agencies"); len(list) != 1 || list[0]["username"] != "agency_one" {
			t.Fatalf("agencies: %v", list)
		}
		// Disabling the account ends its sessions at once.
		if a := e.must(op, 200, "PATCH", fmt.Sprintf("/admin/api/v1/agencies/%d", agID), map[string]any{"disabled": true}); a["disabled"] != true {
			t.Fatalf("disable: %v", a)
		}
		if r := e.do(inB, "GET", "/admin/api/v1/orders", nil); r.status != 401 {
			t.Fatalf("a disabled agency's session: %d %s", r.status, r.body)
		}
		if r := e.do(op, "PATCH", fmt.Sprintf("/admin/api/v1/agencies/%d", a.ownerID), map[string]any{"disabled": true}); r.status != 404 {
			t.Fatalf("disabling a shop owner through the agency route: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)
	})
}
