package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/wxshipping"
)

// setPush gives a shop message-push settings through the operator API.
func (e *env) setPush(a testShop, token, aesKey string) wechat.PushConfig {
	e.t.Helper()
	e.must(e.operator(), 200, "PATCH", "/admin/api/v1/shops/"+itoa(a.id),
		map[string]any{"secrets": map[string]string{"push_token": token, "push_aes_key": aesKey}})
	return wechat.PushConfig{AppID: a.appid, Token: token, EncodingAESKey: aesKey}
}

// push POSTs a message to a shop's push URL, sealed (safe mode) or plain.
func (e *env) push(shopID int64, cfg wechat.PushConfig, msg string, safe bool) response {
	e.t.Helper()
	q, body := wechat.SignPlainPush(cfg, "1765000000", "4242"), []byte(msg)
	if safe {
		var err error
		if q, body, err = wechat.SealPush(cfg, []byte(msg), "1765000000", "4242"); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.doWithType(caller{}, "POST", fmt.Sprintf("/webhooks/wechat/%d/push?%s", shopID, q.Encode()), string(body), "application/json")
}

// TestWeChatPushesRecordSettlement: a shop's message-push URL answers
// WeChat's check, takes shipping management's settlement pushes (safe
// mode) onto the order's shipping report, once however often they come,
// and refuses forged, foreign and broken pushes. A plain-mode push, whose
// body no signature covers, is acknowledged but believed in nothing.
func TestWeChatPushesRecordSettlement(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("推")
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID),
			map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567890"})
		e.runDueJobs(wxshipping.UploadKind)
		var txID string
		if err := e.srv.DB.QueryRow(t.Context(), `SELECT transaction_id FROM orders WHERE id = ?`, a.orderID).Scan(&txID); err != nil {
			t.Fatal(err)
		}

		// Before the shop has push settings, pushes are refused as not configured.
		if r := e.push(a.id, wechat.PushConfig{AppID: a.appid, Token: "abc"}, `{}`, false); r.status != 409 || r.code() != "push_not_configured" {
			t.Fatalf("push before configuration: %d %s", r.status, r.body)
		}
		cfg := e.setPush(a, "pushToken1", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")

		// WeChat's URL check.
		q := wechat.SignPlainPush(cfg, "1765000000", "11")
		q.Set("echostr", "echo-5150")
		if r := e.do(caller{}, "GET", fmt.Sprintf("/webhooks/wechat/%d/push?%s", a.id, q.Encode()), nil); r.status != 200 || string(r.body) != "echo-5150" {
			t.Fatalf("URL check: %d %s", r.status, r.body)
		}
		q.Set("signature", strings.Repeat("0", 40))
		if r := e.do(caller{}, "GET", fmt.Sprintf("/webhooks/wechat/%d/push?%s", a.id, q.Encode()), nil); r.status != 401 || r.code() != "push_signature_invalid" {
			t.Fatalf("URL check with a bad signature: %d %s", r.status, r.body)
		}

		atShipping := fmt.Sprintf(`{"ToUserName":"gh_x","FromUserName":"o_x","CreateTime":1765000000,"MsgType":"event","Event":"trade_manage_order_settlement",
			"transaction_id":%q,"merchant_id":"1900000001","merchant_trade_no":"n","pay_time":1765000000,"shipped_time":1765000100,"estimated_settlement_time":1765864100}`, txID)
		if r := e.push(a.id, cfg, atShipping, true); r.status != 200 || string(r.body) != "success" {
			t.Fatalf("settlement push at shipping: %d %s", r.status, r.body)
		}
		st := e.shippingState(a.owner, a.orderID)
		if st["estimated_settlement_at"] != "2025-12-16T05:48:20Z" || st["settled_at"] != nil {
			t.Fatalf("after the push at shipping: %v", st)
		}
		settled := fmt.Sprintf(`<xml><MsgType>event</MsgType><Event>trade_manage_order_settlement</Event><CreateTime>1765100000</CreateTime>
			<transaction_id>%s</transaction_id><confirm_receive_method>2</confirm_receive_method><confirm_receive_time>1765090000</confirm_receive_time>
			<settlement_time>1765100000</settlement_time></xml>`, txID)
		for range 2 { // WeChat repeats a push until acknowledged
			if r := e.push(a.id, cfg, settled, true); r.status != 200 {
				t.Fatalf("settlement push: %d %s", r.status, r.body)
			}
		}
		st = e.shippingState(a.owner, a.orderID)
		if st["settled_at"] != "2025-12-07T09:33:20Z" || st["receipt_confirmed_at"] != "2025-12-07T06:46:40Z" ||
			st["confirm_receive_method"] != float64(2) || st["estimated_settlement_at"] != "2025-12-16T05:48:20Z" {
			t.Fatalf("after settlement: %v", st)
		}

		// A plain-mode push claiming another settlement time changes nothing.
		forged := strings.Replace(settled, "1765100000</settlement_time>", "1765999999</settlement_time>", 1)
		if r := e.push(a.id, cfg, forged, false); r.status != 200 {
			t.Fatalf("plain push: %d %s", r.status, r.body)
		}
		if st := e.shippingState(a.owner, a.orderID); st["settled_at"] != "2025-12-07T09:33:20Z" {
			t.Fatalf("a plain-mode push moved the settlement: %v", st)
		}

		// Another token's signature, another shop's key, a broken body.
		other := cfg
		other.Token = "someoneElse"
		if r := e.push(a.id, other, settled, true); r.status != 401 {
			t.Fatalf("push signed with another token: %d %s", r.status, r.body)
		}
		b := e.newShop(e.operator(), "乙", "enterprise")
		bcfg := e.setPush(b, "pushTokenB", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg")
		if r := e.push(a.id, bcfg, settled, true); r.status != 401 {
			t.Fatalf("shop B's push sent to shop A's URL: %d %s", r.status, r.body)
		}
		cross := cfg
		cross.AppID = b.appid // sealed with A's secrets but naming B's mini program
		if r := e.push(a.id, cross, settled, true); r.status != 401 {
			t.Fatalf("a push sealed for another mini program: %d %s", r.status, r.body)
		}
		if r := e.doWithType(caller{}, "POST", fmt.Sprintf("/webhooks/wechat/%d/push?%s", a.id, wechat.SignPlainPush(cfg, "1", "2").Encode()),
			"not a push", "text/plain"); r.status != 400 || r.code() != "push_malformed" {
			t.Fatalf("garbage: %d %s", r.status, r.body)
		}
		if r := e.push(999999, cfg, settled, true); r.status != 404 {
			t.Fatalf("unknown shop: %d %s", r.status, r.body)
		}
		// The secrets are write-only: the shop shows that they are set.
		sh := e.must(e.operator(), 200, "GET", "/admin/api/v1/shops/"+itoa(a.id), nil)
		set, _ := sh["secrets_set"].(map[string]any)
		if set["push_token"] != true || set["push_aes_key"] != true || strings.Contains(fmt.Sprint(sh), "pushToken1") {
			t.Fatalf("shop shows: %v", sh)
		}
	})
}
