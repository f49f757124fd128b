package server_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/kaidian/kaidian/internal/messaging"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

const oaAppID, oaSecret = "wx0000000000000a0a", "oaSecretForShopA1"

// TestPaidMessageGoesByOA: a shop links its Official Account, the buyer
// (known by unionid) follows it — the sandbox pushes the subscribe event
// to the shop's OA push URL — and, with no subscription acceptance, the
// "paid" message goes as an OA template message that opens the order.
func TestPaidMessageGoesByOA(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.messagingShop("甲")
		if r := e.do(a.owner, "PUT", "/admin/api/v1/messages/oa", map[string]any{"appid": "not-an-appid", "secret": "x"}); r.status != 400 || r.code() != "invalid_fields" {
			t.Fatalf("bad settings: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/messages/oa", map[string]any{"appid": oaAppID, "secret": oaSecret, "push_token": "oaTokenA"})
		if st := e.must(a.owner, 200, "GET", "/admin/api/v1/messages/oa", nil); st["secret"] != "****"+oaSecret[len(oaSecret)-4:] || st["configured"] != true {
			t.Fatalf("settings %v", st)
		}
		if r := e.do(a.owner, "PUT", "/admin/api/v1/messages/oa/templates", map[string]any{"kind": "order_paid", "template_id": "OA_PAID",
			"fields": map[string]string{"thing1": "order.nope"}}); r.status != 400 || r.code() != "invalid_fields" {
			t.Fatalf("bad template: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/messages/oa/templates", map[string]any{"kind": "order_paid", "template_id": "OA_PAID",
			"fields": map[string]string{"character_string1": "order.no", "amount2": "order.amount"}})

		e.sandbox.AddApp(oaAppID, oaSecret)
		e.sandbox.AddOATemplate(oaAppID, "OA_PAID", "character_string1", "amount2")
		e.sandbox.SetPushTarget(oaAppID, sandbox.PushTarget{URL: fmt.Sprintf("%s/webhooks/wechat/%d/oa-push", e.ts.URL, a.id), Token: "oaTokenA"})
		if _, err := e.srv.DB.Exec(t.Context(), `UPDATE members SET unionid = 'union-甲' WHERE id = ?`, a.memberID); err != nil {
			t.Fatal(err)
		}
		if err := e.sandbox.Follow(oaAppID, "oa-openid-甲", "union-甲"); err != nil {
			t.Fatal(err)
		}
		fl := e.must(a.owner, 200, "GET", "/admin/api/v1/messages/oa/followers", nil)["items"].([]any)
		if len(fl) != 1 || fl[0].(map[string]any)["member_id"] != float64(a.memberID) || fl[0].(map[string]any)["following"] != true {
			t.Fatalf("followers %v", fl)
		}
		// A forged push is refused.
		q := url.Values{"signature": {"00"}, "timestamp": {"1"}, "nonce": {"n"}}
		if r := e.do(caller{}, "POST", fmt.Sprintf("/webhooks/wechat/%d/oa-push?%s", a.id, q.Encode()), "<xml></xml>"); r.status != 401 {
			t.Fatalf("forged push: %d %s", r.status, r.body)
		}

		if d := e.payWithCerts(a.member, a.appid, a.orderID); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		e.runDueJobs(messaging.SendKind)
		sent := e.sandbox.OAMessages(oaAppID)
		if len(sent) != 1 || sent[0].OpenID != "oa-openid-甲" || sent[0].MiniAppID != a.appid ||
			sent[0].PagePath != fmt.Sprintf("pages/order/detail?id=%d", a.orderID) || sent[0].Data["amount2"] != "¥99.00" {
			t.Fatalf("OA sent %+v", sent)
		}
		if n := len(e.sandbox.SubscribeMessages(a.appid)); n != 0 {
			t.Fatalf("subscription messages %d", n)
		}
	})
}
