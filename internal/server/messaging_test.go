package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kaidian/kaidian/internal/messaging"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// messagingShop is a shop taking WeChat Pay whose "paid" message uses the
// sandbox template TPL_PAID.
func (e *env) messagingShop(marker string) testShop {
	e.t.Helper()
	op := e.operator()
	a := e.newShop(op, marker, "enterprise")
	e.enablePay(op, a, paysandbox.KeyModeCertificate)
	if err := e.sandbox.AddTemplate(a.appid, "TPL_PAID", "thing1", "amount2", "time3", "character_string4"); err != nil {
		e.t.Fatal(err)
	}
	e.must(a.owner, 200, "PUT", "/admin/api/v1/messages/templates", map[string]any{"kind": "order_paid", "template_id": "TPL_PAID",
		"page": "pages/order/detail?id={order_id}", "fields": map[string]string{"thing1": "order.title", "amount2": "order.amount",
			"time3": "order.paid_at", "character_string4": "order.no"}})
	return a
}

// TestPaidMessageOnceThenInbox: a buyer accepts the template, pays through
// the pay sandbox, and WeChat's log shows the "paid" message once; with no
// acceptance left the next order's message lands in the inbox.
func TestPaidMessageOnceThenInbox(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.messagingShop("甲")
		next := e.must(a.member, 200, "GET", "/api/v1/me/subscriptions/next?kind=order_paid", nil)
		if ids := next["template_ids"].([]any); len(ids) != 1 || ids[0] != "TPL_PAID" {
			t.Fatalf("next = %v", next)
		}
		// The tap: WeChat records the acceptance, the mini program reports it.
		e.sandbox.Accept(a.appid, "openid-甲", "TPL_PAID", 1)
		subs := e.must(a.member, 200, "POST", "/api/v1/me/subscriptions", map[string]any{"results": map[string]string{"TPL_PAID": "accept"}})
		if s := subs["subscriptions"].([]any)[0].(map[string]any); s["remaining"] != float64(1) {
			t.Fatalf("subscriptions = %v", subs)
		}
		if d := e.payWithCerts(a.member, a.appid, a.orderID); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		e.runDueJobs(messaging.SendKind)
		e.runDueJobs(messaging.SendKind)
		msgs := e.sandbox.SubscribeMessages(a.appid)
		if len(msgs) != 1 || msgs[0].OpenID != "openid-甲" || msgs[0].Data["amount2"] != "¥99.00" ||
			msgs[0].Page != fmt.Sprintf("pages/order/detail?id=%d", a.orderID) {
			t.Fatalf("WeChat delivered %+v", msgs)
		}
		if n := e.must(a.member, 200, "GET", "/api/v1/me/messages/unread", nil); n["unread"] != float64(0) {
			t.Fatalf("unread = %v", n)
		}
		// The second order: no acceptance left, so the inbox.
		second := e.buyNow(a.member, a.skuID, 1)
		if d := e.payWithCerts(a.member, a.appid, second); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		e.runDueJobs(messaging.SendKind)
		if n := len(e.sandbox.SubscribeMessages(a.appid)); n != 1 {
			t.Fatalf("WeChat delivered %d messages, want 1", n)
		}
		inbox := e.must(a.member, 200, "GET", "/api/v1/me/messages", nil)
		items := inbox["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["order_id"] != float64(second) || items[0].(map[string]any)["read"] != false {
			t.Fatalf("inbox = %v", inbox)
		}
		id := int64(items[0].(map[string]any)["id"].(float64))
		if n := e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/me/messages/%d/read", id), nil); n["unread"] != float64(0) {
			t.Fatalf("after reading: %v", n)
		}
		// Shipping has no template here: the "shipped" message goes to the inbox.
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID),
			map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567890"})
		e.runDueJobs(messaging.SendKind)
		if n := e.must(a.member, 200, "GET", "/api/v1/me/messages/unread", nil); n["unread"] != float64(1) {
			t.Fatalf("unread after shipping = %v", n)
		}
	})
}

// TestRefusedMessageIsADeadLetter: WeChat says the template is gone (40037):
// a dead letter for staff, not retried; retried by staff with no
// acceptance left, it lands in the inbox.
func TestRefusedMessageIsADeadLetter(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.messagingShop("乙")
		e.sandbox.Accept(a.appid, "openid-乙", "TPL_PAID", 1)
		e.must(a.member, 200, "POST", "/api/v1/me/subscriptions", map[string]any{"results": map[string]string{"TPL_PAID": "accept"}})
		e.sandbox.RemoveTemplate(a.appid, "TPL_PAID")
		if d := e.payWithCerts(a.member, a.appid, a.orderID); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		e.runDueJobs(messaging.SendKind)
		dead := e.must(a.owner, 200, "GET", "/admin/api/v1/messages/dead-letters", nil)["items"].([]any)
		if len(dead) != 1 || dead[0].(map[string]any)["errcode"] != float64(40037) {
			t.Fatalf("dead letters = %v", dead)
		}
		id := int64(dead[0].(map[string]any)["id"].(float64))
		// The acceptance was given back (WeChat refused before delivering);
		// staff switch the kind off, then retry: the inbox.
		e.must(a.owner, 200, "PUT", "/admin/api/v1/messages/templates", map[string]any{"kind": "order_paid", "template_id": "TPL_PAID",
			"enabled": false, "fields": map[string]string{"thing1": "order.title"}})
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/messages/%d/retry", id), nil)
		e.runDueJobs(messaging.SendKind)
		m := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/messages/%d", id), nil)
		if m["state"] != "sent" || m["channel"] != "inbox" || len(m["log"].([]any)) != 2 {
			t.Fatalf("retried message = %v", m)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/messages/%d/retry", id), nil); r.status != 409 || r.code() != "message_not_dead" {
			t.Fatalf("second retry: %d %s", r.status, r.body)
		}
	})
}

// seedMessages gives shop A's buyer an inbox message and a dead letter (a
// subscription template for the paid kind included), for the attack tests.
func (e *env) seedMessages(a testShop) (inboxID, deadID int64) {
	e.t.Helper()
	e.must(a.owner, 200, "PUT", "/admin/api/v1/messages/templates", map[string]any{"kind": "order_paid", "template_id": "TPL_A1",
		"fields": map[string]string{"thing1": "order.title"}})
	e.must(a.member, 200, "POST", "/api/v1/me/subscriptions", map[string]any{"results": map[string]string{"TPL_A1": "accept"}})
	ctx := context.Background()
	insert := func(state, channel string, ref int64) int64 {
		var id int64
		if err := e.srv.DB.QueryRow(ctx, `INSERT INTO messages (shop_id, member_id, kind, ref_id, state, channel, title, body, errcode, reason, sent_at, created_at, updated_at)
			VALUES (?, ?, 'order_paid', ?, ?, ?, '甲的消息', '甲的订单', 40037, '甲', 1, 1, 1) RETURNING id`, a.id, a.memberID, ref, state, channel).Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		return id
	}
	inboxID, deadID = insert("sent", "inbox", a.orderID+2000000), insert("dead", "subscription", a.orderID+1000000)
	e.runDueJobs(messaging.SendKind) // the messages of orders paid so far settle before any snapshot
	return inboxID, deadID
}

// TestSubscriptionPushes: WeChat's popup push (safe mode) repeats the
// client's report and is not counted again; the change push (the buyer
// turned the template off) empties the ledger, so the paid message goes
// to the inbox and WeChat is not asked.
func TestSubscriptionPushes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.messagingShop("丙")
		cfg := e.setPush(a, "pushToken1", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
		e.sandbox.SetPushTarget(a.appid, sandbox.PushTarget{URL: fmt.Sprintf("%s/webhooks/wechat/%d/push", e.ts.URL, a.id),
			Token: cfg.Token, EncodingAESKey: cfg.EncodingAESKey})
		remaining := func() any {
			subs := e.must(a.member, 200, "GET", "/api/v1/me/subscriptions", nil)["subscriptions"].([]any)
			return subs[0].(map[string]any)["remaining"]
		}
		if err := e.sandbox.Subscribe(a.appid, "openid-丙", map[string]string{"TPL_PAID": "accept"}); err != nil {
			t.Fatal(err)
		}
		e.must(a.member, 200, "POST", "/api/v1/me/subscriptions", map[string]any{"results": map[string]string{"TPL_PAID": "accept"}})
		if r := remaining(); r != float64(1) {
			t.Fatalf("remaining after the tap = %v, want 1", r)
		}
		if err := e.sandbox.Revoke(a.appid, "openid-丙", "TPL_PAID"); err != nil {
			t.Fatal(err)
		}
		if r := remaining(); r != float64(0) {
			t.Fatalf("remaining after the change push = %v, want 0", r)
		}
		if d := e.payWithCerts(a.member, a.appid, a.orderID); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		e.runDueJobs(messaging.SendKind)
		if n := len(e.sandbox.SubscribeMessages(a.appid)); n != 0 {
			t.Fatalf("WeChat was sent %d messages", n)
		}
		if n := e.must(a.member, 200, "GET", "/api/v1/me/messages/unread", nil); n["unread"] != float64(1) {
			t.Fatalf("unread = %v", n)
		}
	})
}
