package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestStaffSeeMaskedDataAndRevealWithAReason: staff see an order's
// receiver and a member's phone masked; a role that may reveal gets them in
// full by giving a reason, and the audit log keeps who, which record and
// why — not the phone; without a reason it is refused; finance may not
// reveal; shop B cannot reveal shop A's order. Checked against /openapi.json.
func TestStaffSeeMaskedDataAndRevealWithAReason(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		orderPath := fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID)
		addr := e.must(a.owner, 200, "GET", orderPath, nil)["address"].(map[string]any)
		if addr["phone"] != "138****8000" || addr["name"] != "张*" || addr["detail"] != "文三路 1 号" {
			t.Fatalf("staff's view of the receiver: %v", addr)
		}
		listed := e.mustList(a.owner, "/admin/api/v1/orders")
		if strings.Contains(fmt.Sprint(listed), "13800138000") {
			t.Fatalf("the order list shows the phone: %v", listed)
		}
		e.must(a.owner, 201, "POST", "/admin/api/v1/staff",
			map[string]any{"username": "svc_" + a.appid, "password": "svc-pass-123", "role": "service", "display_name": "客服"})
		e.must(a.owner, 201, "POST", "/admin/api/v1/staff",
			map[string]any{"username": "fin_" + a.appid, "password": "fin-pass-123", "role": "finance", "display_name": "财务"})
		service, finance := e.staffLogin("svc_"+a.appid, "svc-pass-123"), e.staffLogin("fin_"+a.appid, "fin-pass-123")

		if r := e.do(service, "POST", orderPath+"/reveal", map[string]any{"reason": " "}); r.status != 400 || r.code() != "reason_required" {
			t.Fatalf("a reveal without a reason: %d %s", r.status, r.body)
		}
		full := e.must(service, 200, "POST", orderPath+"/reveal", map[string]any{"reason": "联系买家确认地址"})
		if full["phone"] != "13800138000" || full["name"] != "张三" {
			t.Fatalf("revealed: %v", full)
		}
		if r := e.do(finance, "POST", orderPath+"/reveal", map[string]any{"reason": "对账"}); r.status != 403 {
			t.Fatalf("finance revealed: %d %s", r.status, r.body)
		}
		if r := e.do(b.owner, "POST", orderPath+"/reveal", map[string]any{"reason": "看看别家"}); r.status != 404 {
			t.Fatalf("shop B revealed shop A's order: %d %s", r.status, r.body)
		}

		phoneCode, _ := e.sandbox.PhoneCode(a.appid, "13912345678")
		e.must(a.member, 200, "POST", "/api/v1/me/phone", map[string]string{"code": phoneCode})
		memberPath := fmt.Sprintf("/admin/api/v1/members/%d", a.memberID)
		if m := e.must(service, 200, "GET", memberPath, nil); m["phone"] != "139****5678" {
			t.Fatalf("staff's view of the member: %v", m)
		}
		if got := e.must(service, 200, "POST", memberPath+"/reveal", map[string]any{"reason": "回访"}); got["phone"] != "13912345678" {
			t.Fatalf("revealed member: %v", got)
		}

		records := e.mustList(a.owner, "/admin/api/v1/audit-log?q=reveal")
		if len(records) != 3 { // the two shown and the one refused for its reason
			t.Fatalf("reveal records: %v", records)
		}
		for _, rec := range records {
			if s := fmt.Sprint(rec); strings.Contains(s, "13800138000") || strings.Contains(s, "13912345678") {
				t.Fatalf("the audit log keeps the revealed phone: %v", rec)
			}
		}
		if last := records[0]; last["actor"] != "svc_"+a.appid || !strings.Contains(last["request"].(string), "回访") ||
			last["after"] != "[personal data shown]" || last["target"] != memberPath+"/reveal" {
			t.Fatalf("the member reveal's record: %v", last)
		}
		for _, phone := range []string{"13800138000", "13912345678"} {
			if strings.Contains(e.logs.String(), phone) {
				t.Fatalf("the server's logs show the phone number %s", phone)
			}
		}
		v.finish([]string{"POST /admin/api/v1/orders/{id}/reveal", "POST /admin/api/v1/members/{id}/reveal"})
	})
}
