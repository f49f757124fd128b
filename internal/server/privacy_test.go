package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestPrivacyConsentExportAndDeletion: the shop publishes its privacy
// policy and user agreement; the buyer accepts the version in force (an
// older one is refused), is asked again after a new version, gives and
// withdraws marketing consent (withdrawing puts them on the opt-out list
// campaigns skip); exports their data as a zip of JSON (no secrets; three
// a day); asks to delete the account while an order is open (it waits,
// with a deadline staff see) and, once the order is cancelled, the account
// goes: sessions end, the profile and addresses are erased, the order is
// kept with its receiver anonymised, and the same WeChat user starts over
// as a new member. Shop B sees none of it. Checked against /openapi.json.
func TestPrivacyConsentExportAndDeletion(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		ctx := context.Background()
		for _, kind := range []string{"privacy_policy", "user_agreement"} {
			e.must(a.owner, 200, "PUT", "/admin/api/v1/privacy/policies", map[string]any{"kind": kind, "version": "v1", "url": "https://shop.example/" + kind})
		}
		if r := e.do(a.owner, "PUT", "/admin/api/v1/privacy/policies", map[string]any{"kind": "privacy_policy", "version": "v2", "url": "http://x"}); r.status != 400 {
			t.Fatalf("a plain http policy address: %d %s", r.status, r.body)
		}
		if got := e.mustList(a.owner, "/admin/api/v1/privacy/policies"); len(got) != 2 {
			t.Fatalf("staff's policies: %v", got)
		}
		if got := e.mustList(caller{appid: a.appid}, "/api/v1/privacy/policies"); len(got) != 2 {
			t.Fatalf("policies: %v", got)
		}
		if r := e.do(a.member, "POST", "/api/v1/me/consents", map[string]any{"kind": "privacy_policy", "version": "v0", "granted": true}); r.status != 409 || r.code() != "stale_version" {
			t.Fatalf("an old version: %d %s", r.status, r.body)
		}
		e.must(a.member, 200, "POST", "/api/v1/me/consents", map[string]any{"kind": "privacy_policy", "version": "v1", "granted": true})
		states := e.mustList(a.member, "/api/v1/me/consents")
		if states[0]["kind"] != "privacy_policy" || states[0]["needs_consent"] != false || states[1]["needs_consent"] != true {
			t.Fatalf("consents: %v", states)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/privacy/policies", map[string]any{"kind": "privacy_policy", "version": "v2", "url": "https://shop.example/p2"})
		if states := e.mustList(a.member, "/api/v1/me/consents"); states[0]["needs_consent"] != true || states[0]["current_version"] != "v2" {
			t.Fatalf("after a new version: %v", states)
		}
		e.must(a.member, 200, "POST", "/api/v1/me/consents", map[string]any{"kind": "marketing", "granted": true})
		e.must(a.member, 200, "POST", "/api/v1/me/consents", map[string]any{"kind": "marketing", "granted": false})
		if n := countRows(t, e, `SELECT COUNT(*) FROM sms_optouts WHERE member_id = ?`, a.memberID); n != 1 {
			t.Fatalf("marketing withdrawn but %d opt-outs", n)
		}

		phoneCode, _ := e.sandbox.PhoneCode(a.appid, "13912345678")
		e.must(a.member, 200, "POST", "/api/v1/me/phone", map[string]string{"code": phoneCode})
		zipped := e.do(a.member, "GET", "/api/v1/me/data-export", nil)
		if zipped.status != 200 {
			t.Fatalf("export: %d %s", zipped.status, zipped.body)
		}
		files := unzipAll(t, zipped.body)
		if !strings.Contains(files["member.json"], "13912345678") || !strings.Contains(files["orders.json"], "文三路 1 号") ||
			!strings.Contains(files["consents.json"], `"marketing"`) {
			t.Fatalf("the export lacks my data: %v", keys(files))
		}
		for name, body := range files {
			if strings.Contains(body, "session_key") || strings.Contains(body, "code_hash") {
				t.Fatalf("%s exports a secret", name)
			}
			if strings.Contains(body, "openid-乙") || strings.Contains(body, "乙连衣裙") {
				t.Fatalf("%s exports another shop's member or order", name)
			}
		}
		e.do(a.member, "GET", "/api/v1/me/data-export", nil)
		e.do(a.member, "GET", "/api/v1/me/data-export", nil)
		if r := e.do(a.member, "GET", "/api/v1/me/data-export", nil); r.status != 429 || r.code() != "too_many_exports" {
			t.Fatalf("a fourth export in a day: %d %s", r.status, r.body)
		}

		del := e.must(a.member, 200, "POST", "/api/v1/me/deletion", nil)
		if del["status"] != "waiting" || fmt.Sprint(del["blocked_by"]) != "[orders]" {
			t.Fatalf("deletion with an unpaid order: %v", del)
		}
		if again := e.must(a.member, 200, "POST", "/api/v1/me/deletion", nil); again["id"] != del["id"] {
			t.Fatalf("asking again made another request: %v", again)
		}
		queue := e.mustList(a.owner, "/admin/api/v1/privacy-requests?status=waiting")
		due, _ := time.Parse(time.RFC3339, fmt.Sprint(queue[0]["due_at"]))
		if len(queue) != 1 || queue[0]["kind"] != "deletion" || due.Before(time.Now().Add(18*24*time.Hour)) || due.After(time.Now().Add(40*24*time.Hour)) {
			t.Fatalf("the staff queue: %v", queue)
		}
		if got := e.mustList(b.owner, "/admin/api/v1/privacy-requests"); len(got) != 0 {
			t.Fatalf("shop B sees shop A's requests: %v", got)
		}
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", a.orderID), nil)
		if n, err := e.srv.Privacy.CarryOutWaiting(ctx); err != nil || n != 1 {
			t.Fatalf("carried out %d, %v", n, err)
		}
		if r := e.do(a.member, "GET", "/api/v1/me", nil); r.status != 401 {
			t.Fatalf("the deleted account's session still works: %d", r.status)
		}
		gone := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%d", a.memberID), nil)
		if gone["phone"] != "" || gone["nickname"] != "已注销用户" {
			t.Fatalf("the deleted member: %v", gone)
		}
		if n := countRows(t, e, `SELECT COUNT(*) FROM orders WHERE id = ? AND address LIKE '%13800138000%'`, a.orderID); n != 0 {
			t.Fatal("the kept order still has the receiver's phone")
		}
		if n := countRows(t, e, `SELECT COUNT(*) FROM orders WHERE id = ?`, a.orderID); n != 1 {
			t.Fatal("the order was not kept")
		}
		again, newID := e.memberLogin(a.appid, "openid-甲")
		if newID == a.memberID {
			t.Fatalf("the same WeChat user got the deleted account back")
		}
		e.must(again, 200, "GET", "/api/v1/me", nil)
		if done := e.mustList(a.owner, "/admin/api/v1/privacy-requests?status=done"); len(done) != 4 { // three exports and the deletion
			t.Fatalf("done requests: %v", done)
		}
		if r := e.do(a.owner, "PUT", "/admin/api/v1/retention", map[string]any{"analytics_events_days": 5}); r.status != 400 || r.code() != "invalid_days" {
			t.Fatalf("5 days: %d %s", r.status, r.body)
		}
		sched := e.must(a.owner, 200, "PUT", "/admin/api/v1/retention", map[string]any{"analytics_events_days": 90})
		if sched["analytics_events_days"].(float64) != 90 || len(sched["items"].([]any)) < 4 {
			t.Fatalf("retention: %v", sched)
		}
		if got := e.must(b.owner, 200, "GET", "/admin/api/v1/retention", nil); got["analytics_events_days"].(float64) != 180 {
			t.Fatalf("shop B's retention follows shop A's: %v", got)
		}
		for _, phone := range []string{"13800138000", "13912345678"} {
			if strings.Contains(e.logs.String(), phone) {
				t.Fatalf("the server's logs show the phone number %s", phone)
			}
		}
		v.finish([]string{"GET /admin/api/v1/retention", "PUT /admin/api/v1/retention", "GET /api/v1/privacy/policies", "GET /api/v1/me/consents", "POST /api/v1/me/consents", "GET /api/v1/me/data-export",
			"POST /api/v1/me/deletion", "GET /admin/api/v1/privacy/policies", "PUT /admin/api/v1/privacy/policies", "GET /admin/api/v1/privacy-requests"})
	})
}

func countRows(t *testing.T, e *env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.srv.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func unzipAll(t *testing.T, b []byte) map[string]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r)
		out[f.Name] = string(body)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
