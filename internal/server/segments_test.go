package server_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// loginWithSource logs a new buyer in with how they arrived.
func (e *env) loginWithSource(appid, openid string, source map[string]any) (caller, map[string]any) {
	e.t.Helper()
	code, err := e.sandbox.LoginCode(appid, openid, "union-"+openid)
	if err != nil {
		e.t.Fatal(err)
	}
	m := e.must(caller{appid: appid}, 200, "POST", "/api/v1/auth/login", map[string]any{"code": code, "source": source})
	return caller{token: m["token"].(string)}, m["member"].(map[string]any)
}

// seedSegments gives shop A a member tag, a segment and a staff note for
// the tenancy test to attack.
func (e *env) seedSegments(a *testShop) {
	e.t.Helper()
	a.memberTagID = int64(e.must(a.owner, 201, "POST", "/admin/api/v1/member-tags", map[string]any{"name": "甲标签", "color": "#00ff00"})["id"].(float64))
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/member-tags/%d/members", a.memberTagID), map[string]any{"member_ids": []int64{a.memberID}})
	a.segmentID = int64(e.must(a.owner, 201, "POST", "/admin/api/v1/segments", map[string]any{"name": "甲分群",
		"rule": map[string]any{"all": []any{map[string]any{"field": "has_tag", "value": a.memberTagID}}}})["id"].(float64))
	a.memberNoteID = int64(e.must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/members/%d/notes", a.memberID), map[string]any{"body": "甲备注"})["id"].(float64))
}

// segmentLists are shop A's tag, segment and note lists for the tenancy snapshot.
func segmentLists(a testShop) []string {
	return []string{"/admin/api/v1/member-tags", "/admin/api/v1/segments",
		fmt.Sprintf("/admin/api/v1/segments/%d", a.segmentID), fmt.Sprintf("/admin/api/v1/segments/%d/members", a.segmentID),
		fmt.Sprintf("/admin/api/v1/member-tags/%d/members", a.memberTagID),
		fmt.Sprintf("/admin/api/v1/members/%d", a.memberID), fmt.Sprintf("/admin/api/v1/members/%d/notes", a.memberID),
		fmt.Sprintf("/admin/api/v1/members/%d/tags", a.memberID), "/admin/api/v1/campaigns"}
}

// TestMembersScreen goes through what the console's members screen does:
// buyers arrive through a promoter's code, a search and a share, staff
// find them, tag them, write notes, build a segment from the channel and
// the tag, and see their orders. Every answer is checked against
// /openapi.json.
func TestMembersScreen(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		v := newDocValidator(t, e)
		e.seen = v.check
		e.enableDistribution(a, map[string]any{"level2_rate_bp": 0})
		promoter := int64(e.must(a.member, 200, "POST", "/api/v1/me/promoter", nil)["id"].(float64))

		viaPromoter, pm := e.loginWithSource(a.appid, "via-promoter", map[string]any{"scene": fmt.Sprintf("g=%d&p=%d", a.productID, promoter), "launch_scene": 1047})
		_, sm := e.loginWithSource(a.appid, "via-search", map[string]any{"launch_scene": 1053})
		_, cm := e.loginWithSource(a.appid, "via-campaign", map[string]any{"kind": "campaign", "ref": "双12"})
		_, xm := e.loginWithSource(a.appid, "via-b-promoter", map[string]any{"scene": "p=999999"})
		// A second login with another source changes nothing.
		e.loginWithSource(a.appid, "via-promoter", map[string]any{"kind": "search"})
		if r := e.do(caller{appid: a.appid}, "POST", "/api/v1/auth/login", map[string]any{"code": "x", "source": map[string]any{"kind": "tv"}}); r.status != 400 || r.code() != "invalid_source" {
			t.Fatalf("a bad source: %d %s", r.status, r.body)
		}
		// The buyer's own profile does not carry the source.
		if me := e.must(viaPromoter, 200, "GET", "/api/v1/me", nil); me["source_kind"] != nil {
			t.Fatalf("the buyer sees their source: %v", me)
		}
		want := map[any][2]string{pm["id"]: {"promoter", fmt.Sprint(promoter)}, sm["id"]: {"search", ""}, cm["id"]: {"campaign", "双12"}, xm["id"]: {"other", ""}}
		for id, w := range want {
			got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%v", id), nil)
			if got["source_kind"] != w[0] || got["source_ref"] != w[1] {
				t.Errorf("member %v: source %v %v, want %v", id, got["source_kind"], got["source_ref"], w)
			}
		}

		// Tags by hand, in bulk.
		vip := e.must(a.owner, 201, "POST", "/admin/api/v1/member-tags", map[string]any{"name": "VIP", "color": "#ff0000"})["id"]
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/member-tags/%v/members", vip), map[string]any{"member_ids": []any{pm["id"], sm["id"]}})
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/member-tags/%v/members", vip), map[string]any{"member_ids": []any{b.memberID}}); r.status != 400 || r.code() != "unknown_member" {
			t.Errorf("tagging B's member: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/member-tags/%v/members/remove", vip), map[string]any{"member_ids": []any{sm["id"]}})
		e.must(a.owner, 200, "PUT", fmt.Sprintf("/admin/api/v1/members/%v/tags", cm["id"]), map[string]any{"tag_ids": []any{vip}})
		var tags []map[string]any
		if r := e.do(a.owner, "GET", "/admin/api/v1/member-tags", nil); r.status != 200 || json.Unmarshal(r.body, &tags) != nil ||
			len(tags) != 1 || tags[0]["member_count"] != 2.0 {
			t.Fatalf("tags: %d %s", r.status, r.body)
		}
		tagged := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/member-tags/%v/members", vip), nil)["items"].([]any)
		if len(tagged) != 2 {
			t.Fatalf("tagged: %v", tagged)
		}
		e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%v/tags", cm["id"]), nil)

		// Preview, save, page and count a segment.
		rule := map[string]any{"all": []any{map[string]any{"field": "has_tag", "value": vip}},
			"any": []any{map[string]any{"field": "source_kind", "value": "promoter"}, map[string]any{"field": "spent_at_least", "value": 1}}}
		pv := e.must(a.owner, 200, "POST", "/admin/api/v1/segments/preview", map[string]any{"rule": rule})
		if pv["count"] != 1.0 {
			t.Fatalf("preview: %v", pv)
		}
		for _, bad := range []struct {
			rule map[string]any
			code string
		}{
			{map[string]any{"all": []any{map[string]any{"field": "level", "value": 21}}}, "invalid_condition_value"},
			{map[string]any{"all": []any{map[string]any{"field": "shoe_size", "value": 2}}}, "unknown_condition"},
			{map[string]any{"all": []any{map[string]any{"field": "spent_at_least", "value": "lots"}}}, "invalid_condition_value"},
			{map[string]any{"all": []any{map[string]any{"field": "has_tag", "value": 999999}}}, "unknown_tag"},
			{map[string]any{"all": []any{map[string]any{"field": "bought_category", "value": b.categoryID}}}, "unknown_category"},
		} {
			if r := e.do(a.owner, "POST", "/admin/api/v1/segments/preview", map[string]any{"rule": bad.rule}); r.status != 400 || r.code() != bad.code {
				t.Errorf("%v: %d %s, want 400 %s", bad.rule, r.status, r.body, bad.code)
			}
		}
		seg := e.must(a.owner, 201, "POST", "/admin/api/v1/segments", map[string]any{"name": "推广来的VIP", "rule": rule})
		if seg["member_count"] != 1.0 {
			t.Fatalf("segment: %v", seg)
		}
		e.must(a.owner, 200, "GET", "/admin/api/v1/segments", nil)
		e.must(a.owner, 200, "PUT", fmt.Sprintf("/admin/api/v1/segments/%v", seg["id"]), map[string]any{"name": "VIP", "rule": map[string]any{"all": []any{map[string]any{"field": "has_tag", "value": vip}}}})
		if got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/segments/%v", seg["id"]), nil); got["member_count"] != 2.0 {
			t.Fatalf("after the change: %v", got)
		}
		page := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/segments/%v/members?limit=1", seg["id"]), nil)
		if len(page["items"].([]any)) != 1 || page["next_cursor"] == nil {
			t.Fatalf("segment members: %v", page)
		}

		// Search.
		found := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/search?segment_id=%v&tag_id=%v", seg["id"], vip), nil)
		if len(found["items"].([]any)) != 2 {
			t.Fatalf("search: %v", found)
		}
		if r := e.do(a.owner, "GET", "/admin/api/v1/members/search?phone=12x4", nil); r.status != 400 || r.code() != "invalid_phone" {
			t.Errorf("bad phone: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "GET", "/admin/api/v1/members/search?nickname=%25", nil)

		// Notes, orders, spending.
		note := e.must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/members/%d/notes", a.memberID), map[string]any{"body": "常买连衣裙"})
		e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%d/notes", a.memberID), nil)
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/members/%d/notes", a.memberID), map[string]any{"body": ""}); r.status != 400 || r.code() != "invalid_note" {
			t.Errorf("empty note: %d %s", r.status, r.body)
		}
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/member-notes/%v", note["id"]), nil)
		orders := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%d/orders", a.memberID), nil)["items"].([]any)
		if len(orders) != 1 || orders[0].(map[string]any)["id"] != float64(a.orderID) {
			t.Fatalf("orders: %v", orders)
		}
		e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%d/spending", a.memberID), nil)
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/segments/%v", seg["id"]), nil)
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/member-tags/%v", vip), nil)
		v.finish(nil)
	})
}
