package server_test

import (
	"fmt"
	"testing"

	"github.com/kaidian/kaidian/internal/messaging"
	"github.com/kaidian/kaidian/internal/platform/sms/sandbox"
)

// configureSMS gives shop a's sandbox Aliyun account, its sign name
// carrying name (the tenancy test looks for it).
func (e *env) configureSMS(a testShop, name string) {
	e.t.Helper()
	e.must(a.owner, 200, "PUT", "/admin/api/v1/sms/settings", map[string]any{"provider": "aliyun",
		"access_key_id": sandbox.AliyunKeyID, "access_secret": sandbox.AliyunSecret, "sign_name": name + "小铺",
		"templates": map[string]string{"phone_code": "SMS_0001", "marketing": "SMS_0009"}})
}

// bindPhoneByCode binds phone to a's buyer with a code read from the SMS sandbox.
func (e *env) bindPhoneByCode(a testShop, phone string) {
	e.t.Helper()
	e.must(a.member, 200, "POST", "/api/v1/me/phone/code", map[string]any{"phone": phone})
	e.must(a.member, 200, "POST", "/api/v1/me/phone/verify", map[string]any{"phone": phone, "code": e.sms.LastCode(phone)})
}

// seedSMS gives shop a SMS settings, a phone bound by code and an opt-out.
func (e *env) seedSMS(a testShop, name string) {
	e.t.Helper()
	e.configureSMS(a, name)
	e.bindPhoneByCode(a, "13912345678")
	e.must(a.member, 200, "POST", "/api/v1/me/sms/unsubscribe", nil)
}

func TestPhoneBindsWithAnSMSCode(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		if r := e.do(a.member, "POST", "/api/v1/me/phone/code", map[string]any{"phone": "13912345678"}); r.status != 409 || r.code() != "sms_not_configured" {
			t.Fatalf("unconfigured: %d %s", r.status, r.body)
		}
		e.configureSMS(a, "甲")
		settings := e.must(a.owner, 200, "GET", "/admin/api/v1/sms/settings", nil)
		if settings["access_secret"] != "****cret" {
			t.Fatalf("secret shown as %v", settings["access_secret"])
		}
		if r := e.do(a.member, "POST", "/api/v1/me/phone/code", map[string]any{"phone": "1391234567"}); r.status != 400 || r.code() != "invalid_phone" {
			t.Fatalf("short number: %d %s", r.status, r.body)
		}
		sent := e.must(a.member, 200, "POST", "/api/v1/me/phone/code", map[string]any{"phone": "13912345678"})
		if sent["expires_in"] != float64(300) {
			t.Fatalf("sent %v", sent)
		}
		r := e.do(a.member, "POST", "/api/v1/me/phone/code", map[string]any{"phone": "13912345678"})
		if r.status != 429 || r.code() != "code_too_soon" || r.header.Get("Retry-After") == "" {
			t.Fatalf("second send: %d %s %v", r.status, r.body, r.header)
		}
		if r := e.do(a.member, "POST", "/api/v1/me/phone/verify", map[string]any{"phone": "13912345678", "code": "12345a"}); r.status != 400 || r.code() != "invalid_code" {
			t.Fatalf("malformed code: %d %s", r.status, r.body)
		}
		code := e.sms.LastCode("13912345678")
		got := e.must(a.member, 200, "POST", "/api/v1/me/phone/verify", map[string]any{"phone": "13912345678", "code": code})
		if got["phone"] != "13912345678" {
			t.Fatalf("verify %v", got)
		}
		if me := e.must(a.member, 200, "GET", "/api/v1/me", nil); me["phone"] != "13912345678" {
			t.Fatalf("me %v", me)
		}
		if sent := e.sms.Sent(); len(sent) != 1 || sent[0].SignName != "甲小铺" || sent[0].Template != "SMS_0001" {
			t.Fatalf("sandbox log %+v", sent)
		}
		// Unsubscribing, by the buyer or by a T reply staff record.
		if p := e.must(a.member, 200, "GET", "/api/v1/me/sms", nil); p["unsubscribed"] != false {
			t.Fatalf("preferences %v", p)
		}
		e.must(a.owner, 200, "POST", "/admin/api/v1/sms/replies", map[string]any{"phone": "13912345678", "reply": "T"})
		if p := e.must(a.member, 200, "GET", "/api/v1/me/sms", nil); p["unsubscribed"] != true {
			t.Fatalf("after a T reply: %v", p)
		}
		list := e.must(a.owner, 200, "GET", "/admin/api/v1/sms/optouts", nil)
		if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["phone"] != "139****5678" {
			t.Fatalf("optouts %v", list)
		}
	})
}

// TestPaidMessageFallsBackToSMS: no acceptance left, a phone bound by code
// and an order_paid SMS template: the paid message goes by SMS, after the
// buyer unsubscribed from marketing SMS too (an order notice still goes).
func TestPaidMessageFallsBackToSMS(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.messagingShop("甲")
		e.must(a.owner, 200, "PUT", "/admin/api/v1/sms/settings", map[string]any{"provider": "aliyun",
			"access_key_id": sandbox.AliyunKeyID, "access_secret": sandbox.AliyunSecret, "sign_name": "甲小铺",
			"templates": map[string]string{"phone_code": "SMS_0001", "order_paid": "SMS_PAID"}})
		e.bindPhoneByCode(a, "13912345678")
		e.must(a.member, 200, "POST", "/api/v1/me/sms/unsubscribe", nil)
		if d := e.payWithCerts(a.member, a.appid, a.orderID); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		e.runDueJobs(messaging.SendKind)
		sent := e.sms.Sent()
		if len(sent) != 2 || sent[1].Template != "SMS_PAID" || sent[1].Phone != "13912345678" {
			t.Fatalf("SMS sent %+v", sent)
		}
		if n := len(e.sandbox.SubscribeMessages(a.appid)); n != 0 {
			t.Fatalf("WeChat delivered %d", n)
		}
		var id int64
		if err := e.srv.DB.QueryRow(t.Context(), `SELECT id FROM messages WHERE shop_id = ? AND ref_id = ?`, a.id, a.orderID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		m := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/messages/%d", id), nil)
		if m["channel"] != "sms" || m["state"] != "sent" {
			t.Fatalf("message %v", m)
		}
	})
}
