package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

// paidIDs are shop A's resources of the rooms around paid content: a
// camp and a check-in, a question, a content order.
type paidIDs struct {
	campID, checkinID, postID, orderID int64
	giftCode                           string
}

const xpaySandboxKey = "xpay-sandbox-app-key-0001"

// setupXPay gives a shop virtual payment: push settings (safe mode) known
// to the sandbox, the offer and sandbox AppKey at both ends, and an item
// at each price the seeded content sells at (the plan's 10% member price
// of the course too).
func (e *env) setupXPay(a testShop) {
	e.t.Helper()
	cfg := e.setPush(a, "xpayToken1", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
	e.sandbox.SetPushTarget(a.appid, sandbox.PushTarget{URL: fmt.Sprintf("%s/webhooks/wechat/%d/push", e.ts.URL, a.id),
		Token: cfg.Token, EncodingAESKey: cfg.EncodingAESKey})
	e.sandbox.SetXPayKeys(a.appid, wechat.XPayKeys{OfferID: "1450000001", SandboxAppKey: xpaySandboxKey})
	e.must(a.owner, 200, "PUT", "/admin/api/v1/content-sale/settings", map[string]any{"offer_id": "1450000001",
		"sandbox_app_key": xpaySandboxKey, "env": 1, "refund_days": 3, "refund_max_consumed": 20})
	for _, price := range []int64{9900, 19900, 29900, 8910, 100} {
		item := fmt.Sprintf("tier_%d", price)
		if err := e.sandbox.AddXPayItem(a.appid, item, price); err != nil {
			e.t.Fatal(err)
		}
		e.must(a.owner, 201, "POST", "/admin/api/v1/content-sale/items", map[string]any{"item_id": item, "price_fen": price, "name": item})
	}
}

// checkout creates a content order and returns it with its payment.
func (e *env) checkout(buyer caller, kind string, id int64, gift bool) (order map[string]any, pay wechat.VirtualPaymentParams) {
	e.t.Helper()
	out := e.must(buyer, 201, "POST", "/api/v1/content/orders", map[string]any{"items": []map[string]any{{"kind": kind, "id": id}},
		"gift": gift, "platform": "android"})
	p := out["payment"].(map[string]any)
	return out["order"].(map[string]any), wechat.VirtualPaymentParams{Mode: p["mode"].(string), SignData: p["signData"].(string),
		PaySig: p["paySig"].(string), Signature: p["signature"].(string)}
}

// payXPay pays a content order as the buyer's phone would.
func (e *env) payXPay(a testShop, openid string, pay wechat.VirtualPaymentParams) {
	e.t.Helper()
	if _, err := e.sandbox.XPayPay(a.appid, openid, pay); err != nil {
		e.t.Fatal(err)
	}
}

func entitlementsOf(e *env, a testShop, ref string) int {
	var n int
	if err := e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM content_entitlements WHERE shop_id = ? AND source_ref = ?`, a.id, ref).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func lessonLocked(e *env, buyer caller, lessonID int64) bool {
	l := e.must(buyer, 200, "GET", fmt.Sprintf("/api/v1/content/lessons/%d", lessonID), nil)
	return l["locked"] == true
}

// TestBuyingContentThroughXPay: a buyer previews a paid lesson (locked),
// buys the course through the xpay sandbox (the delivery push, checked by
// asking WeChat, grants it), the push repeated 10 times changes nothing,
// progress is recorded, and a refund inside the window ends the access
// when WeChat accepts it; the sandbox's refund push finishes it.
func TestBuyingContentThroughXPay(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		c := e.seedContent(a, "甲")
		e.setupXPay(a)
		buyer, _ := e.memberLogin(a.appid, "openid-xpay-buyer")
		if !lessonLocked(e, buyer, c.lessonID) {
			t.Fatal("a paid lesson is open before buying")
		}
		offer := e.must(buyer, 200, "GET", fmt.Sprintf("/api/v1/content/offer?kind=course&id=%d", c.courseID), nil)
		order, pay := e.checkout(buyer, "course", c.courseID, false)
		if order["price_fen"] != offer["price_fen"] || order["state"] != "created" {
			t.Fatalf("the order charges %v, the offer showed %v (%v)", order["price_fen"], offer["price_fen"], order)
		}
		e.payXPay(a, "openid-xpay-buyer", pay)
		id := int64(order["id"].(float64))
		if got := e.must(buyer, 200, "GET", fmt.Sprintf("/api/v1/content/orders/%d", id), nil); got["state"] != "paid" {
			t.Fatalf("after the push: %v", got)
		}
		if lessonLocked(e, buyer, c.lessonID) {
			t.Fatal("the bought lesson is still locked")
		}
		tradeNo := order["out_trade_no"].(string)
		if acked, err := e.sandbox.DuplicateXPayPush(a.appid, tradeNo, 10); err != nil || acked != 10 {
			t.Fatalf("10 repeated pushes: %d acknowledged, %v", acked, err)
		}
		if n := entitlementsOf(e, a, fmt.Sprintf("xorder:%d", id)); n != 1 {
			t.Fatalf("%d entitlements after 11 pushes", n)
		}
		e.must(buyer, 200, "PUT", fmt.Sprintf("/api/v1/me/lessons/%d/progress", c.lessonID), map[string]any{"position_sec": 60})
		cont := e.must(buyer, 200, "GET", "/api/v1/me/learning/continue", nil)
		if items := cont["items"].([]any); len(items) != 1 {
			t.Fatalf("continue learning: %v", cont)
		}
		// A refund: WeChat accepts (access ends), then reports it done.
		refunded := e.must(buyer, 200, "POST", fmt.Sprintf("/api/v1/content/orders/%d/refund", id), map[string]any{"reason": "买错了"})
		if refunded["state"] != "refunding" || !lessonLocked(e, buyer, c.lessonID) {
			t.Fatalf("after the refund was accepted: %v (lesson still open: %v)", refunded, !lessonLocked(e, buyer, c.lessonID))
		}
		if n := e.sandbox.SettleXPayRefunds(a.appid, false); n != 1 {
			t.Fatalf("the sandbox settled %d refunds", n)
		}
		if got := e.must(buyer, 200, "GET", fmt.Sprintf("/api/v1/content/orders/%d", id), nil); got["state"] != "refunded" {
			t.Fatalf("after the refund push: %v", got)
		}
		staff := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/content-sale/orders/%d", id), nil)
		var kinds []string
		for _, ev := range staff["events"].([]any) {
			kinds = append(kinds, ev.(map[string]any)["kind"].(string))
		}
		if strings.Join(kinds, ",") != "created,paid,refund_asked,refund_accepted,refunded" {
			t.Fatalf("order log: %v", kinds)
		}
	})
}

// TestAForgedOrUnpaidPushGrantsNothing: a push for an order WeChat holds
// no payment of, or signed with another Token, grants nothing; the order
// is paid only when WeChat's record says so.
func TestAForgedOrUnpaidPushGrantsNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		c := e.seedContent(a, "甲")
		e.setupXPay(a)
		buyer, _ := e.memberLogin(a.appid, "openid-forger")
		order, pay := e.checkout(buyer, "course", c.courseID, false)
		tradeNo := order["out_trade_no"].(string)
		cfg := wechat.PushConfig{AppID: a.appid, Token: "xpayToken1", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
		forged := fmt.Sprintf(`{"ToUserName":"gh_x","FromUserName":"openid-forger","CreateTime":1765000000,"MsgType":"event","Event":"xpay_goods_deliver_notify",
			"OpenId":"openid-forger","OutTradeNo":%q,"Env":1,"WeChatPayInfo":{"MchOrderNo":%q,"TransactionId":"t","PaidTime":1765000000},
			"GoodsInfo":{"ProductId":"tier_9900","Quantity":1,"OrigPrice":9900,"ActualPrice":9900,"Attach":""}}`, tradeNo, tradeNo)
		if r := e.push(a.id, cfg, forged, true); r.status < 400 {
			t.Fatalf("a push for an order WeChat holds no payment of was acknowledged: %d %s", r.status, r.body)
		}
		bad := cfg
		bad.Token = "not-the-token"
		if r := e.push(a.id, bad, forged, false); r.status != 401 {
			t.Fatalf("a push signed with another Token: %d %s", r.status, r.body)
		}
		id := int64(order["id"].(float64))
		if n := entitlementsOf(e, a, fmt.Sprintf("xorder:%d", id)); n != 0 || !lessonLocked(e, buyer, c.lessonID) {
			t.Fatal("a forged push granted access")
		}
		// Paying for real: the first push is lost, a check finds it.
		e.sandbox.DropXPayPushes(a.appid, 1)
		e.payXPay(a, "openid-forger", pay)
		if got := e.must(buyer, 200, "GET", fmt.Sprintf("/api/v1/content/orders/%d", id), nil); got["state"] != "created" {
			t.Fatalf("no push arrived, yet %v", got)
		}
		e.srv.ContentSales.SetClock(func() time.Time { return time.Now().Add(3 * time.Minute) })
		if _, err := e.srv.ContentSales.CheckDue(context.Background(), 10); err != nil {
			t.Fatal(err)
		}
		if lessonLocked(e, buyer, c.lessonID) {
			t.Fatal("the check did not grant the paid order")
		}
		if orders := e.sandbox.XPayOrders(a.appid); len(orders) != 1 || orders[0].Status != 4 {
			t.Fatalf("WeChat was not told the order was delivered: %+v", orders)
		}
	})
}

// chinaToday is today's date in China, as camps count days.
func chinaToday(offset int) string {
	return time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, offset).Format(time.DateOnly)
}

// seedPaid gives shop a (after seedContent) virtual payment, an open camp
// its member joined and checked in to, a question on the paid lesson (the
// member holds the course by a staff grant) and a paid order of the
// package.
func (e *env) seedPaid(a testShop, c contentIDs, marker string) paidIDs {
	e.t.Helper()
	id := func(m map[string]any) int64 { return int64(m["id"].(float64)) }
	e.setupXPay(a)
	var p paidIDs
	p.campID = id(e.must(a.owner, 201, "POST", "/admin/api/v1/camps", map[string]any{"title": marker + "训练营", "start_date": chinaToday(0),
		"makeups": 1, "status": "open", "tasks": []map[string]any{{"title": marker + "第一天"}, {"title": marker + "第二天"}}}))
	e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/camps/%d/join", p.campID), nil)
	ci := e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/me/camps/%d/checkins", p.campID), map[string]any{"day": 1, "text": marker + "打卡"})
	p.checkinID = id(ci["checkin"].(map[string]any))
	p.postID = id(e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/lessons/%d/posts", c.lessonID), map[string]any{"kind": "question", "text": marker + "提问"}))
	order, pay := e.checkout(a.member, "package", c.packageID, false)
	e.payXPay(a, "openid-"+marker, pay)
	p.orderID = id(order)
	return p
}

// paidLists are the staff and buyer reads of those rooms (the tenancy
// snapshot compares them).
func paidLists(a testShop) []string {
	p := a.paid
	return []string{"/admin/api/v1/content-sale/settings", "/admin/api/v1/content-sale/items", "/admin/api/v1/content-sale/trials",
		"/admin/api/v1/content-sale/orders", fmt.Sprintf("/admin/api/v1/content-sale/orders/%d", p.orderID), "/admin/api/v1/camps",
		fmt.Sprintf("/admin/api/v1/camps/%d", p.campID), fmt.Sprintf("/admin/api/v1/camps/%d/learners", p.campID),
		fmt.Sprintf("/admin/api/v1/camps/%d/checkins", p.campID), "/admin/api/v1/qa/questions",
		fmt.Sprintf("/admin/api/v1/content/lessons/%d/posts", a.content.lessonID)}
}

// paidBuyerLists are the member's own reads of them.
func paidBuyerLists(a testShop) []string {
	return []string{"/api/v1/content/orders", "/api/v1/content/gifts", fmt.Sprintf("/api/v1/me/camps/%d", a.paid.campID),
		fmt.Sprintf("/api/v1/me/courses/%d/progress", a.content.courseID), "/api/v1/me/learning/continue",
		fmt.Sprintf("/api/v1/lessons/%d/posts", a.content.lessonID)}
}

// paidTarget is shop A's resource a route of those rooms names, if any.
func paidTarget(path string, a testShop) (int64, bool) {
	switch {
	case strings.Contains(path, "/content/orders/"), strings.Contains(path, "/content-sale/orders/"):
		return a.paid.orderID, true
	case strings.Contains(path, "/camp-checkins/"):
		return a.paid.checkinID, true
	case strings.Contains(path, "/camps/"):
		return a.paid.campID, true
	case strings.Contains(path, "/qa/posts/"):
		return a.paid.postID, true
	case strings.HasPrefix(path, "/api/v1/lessons/"), strings.HasPrefix(path, "/api/v1/me/lessons/"):
		return a.content.lessonID, true
	case strings.HasPrefix(path, "/api/v1/me/courses/"):
		return a.content.courseID, true
	}
	return 0, false
}

// paidAttackBodies are valid bodies for those rooms' routes with an id.
var paidAttackBodies = map[string]any{
	"POST /api/v1/content/orders/{id}/refund":            map[string]any{"reason": "乙改甲"},
	"POST /admin/api/v1/content-sale/orders/{id}/refund": map[string]any{"reason": "乙改甲"},
	"PUT /admin/api/v1/content-sale/settings":            map[string]any{"offer_id": "2", "env": 1, "refund_days": 1},
	"POST /admin/api/v1/content-sale/items":              map[string]any{"item_id": "tier_乙", "price_fen": 1, "name": "乙"},
	"PUT /admin/api/v1/content-sale/trials":              map[string]any{"plan_id": 1, "days": 1},
	"PUT /admin/api/v1/camps/{id}":                       map[string]any{"title": "乙改甲", "start_date": chinaToday(0), "status": "open", "tasks": []map[string]any{{"title": "乙"}}},
	"POST /admin/api/v1/camps":                           map[string]any{"title": "乙", "start_date": chinaToday(0), "tasks": []map[string]any{{"title": "乙"}}},
	"POST /api/v1/me/camps/{id}/checkins":                map[string]any{"day": 1, "text": "乙"},
	"PUT /api/v1/me/lessons/{id}/progress":               map[string]any{"position_sec": 10},
	"POST /api/v1/lessons/{id}/posts":                    map[string]any{"kind": "question", "text": "乙"},
	"POST /api/v1/qa/posts/{id}/replies":                 map[string]any{"text": "乙"},
	"POST /admin/api/v1/qa/posts/{id}/replies":           map[string]any{"text": "乙"},
	"POST /api/v1/content/orders":                        map[string]any{"items": []map[string]any{{"kind": "course", "id": 1}}},
}

// paidTour calls every buyer route of the rooms around paid content as
// shop a's member (after seedPaid), through call, which records answers.
func (e *env) paidTour(a testShop, c contentIDs, p paidIDs, marker string, call func(route string, who caller, path string, body any) response) {
	e.t.Helper()
	ok := func(r response) map[string]any {
		e.t.Helper()
		var m map[string]any
		if r.status >= 300 || (r.status != 204 && json.Unmarshal(r.body, &m) != nil) {
			e.t.Fatalf("%d %s", r.status, r.body)
		}
		return m
	}
	// Buying: the offer, a gift of the course, the orders, the gift claimed by a friend, a refund, a trial.
	call("GET /api/v1/content/offer", a.member, fmt.Sprintf("/api/v1/content/offer?kind=plan&id=%d", c.planID), nil)
	r := ok(call("POST /api/v1/content/orders", a.member, "/api/v1/content/orders",
		map[string]any{"items": []map[string]any{{"kind": "course", "id": c.courseID}}, "gift": true, "platform": "android"}))
	pay := r["payment"].(map[string]any)
	e.payXPay(a, "openid-"+marker, wechat.VirtualPaymentParams{Mode: pay["mode"].(string), SignData: pay["signData"].(string),
		PaySig: pay["paySig"].(string), Signature: pay["signature"].(string)})
	call("GET /api/v1/content/orders", a.member, "/api/v1/content/orders", nil)
	call("GET /api/v1/content/orders/{id}", a.member, fmt.Sprintf("/api/v1/content/orders/%d", p.orderID), nil)
	gifts := ok(call("GET /api/v1/content/gifts", a.member, "/api/v1/content/gifts", nil))["items"].([]any)
	code := gifts[0].(map[string]any)["code"].(string)
	friend, _ := e.memberLogin(a.appid, "openid-friend-"+marker)
	call("GET /api/v1/content/gifts/{code}", friend, "/api/v1/content/gifts/"+code, nil)
	call("POST /api/v1/content/gifts/{code}/claim", friend, "/api/v1/content/gifts/"+code+"/claim", nil)
	call("POST /api/v1/content/orders/{id}/refund", a.member, fmt.Sprintf("/api/v1/content/orders/%d/refund", p.orderID), map[string]any{"reason": marker + "退款"})
	e.must(a.owner, 200, "PUT", "/admin/api/v1/content-sale/trials", map[string]any{"plan_id": c.planID, "days": 7})
	call("POST /api/v1/content/plans/{id}/trial", friend, fmt.Sprintf("/api/v1/content/plans/%d/trial", c.planID), nil)
	// Learning: both lessons done, the course complete, its certificate.
	call("PUT /api/v1/me/lessons/{id}/progress", a.member, fmt.Sprintf("/api/v1/me/lessons/%d/progress", c.freeLessonID), map[string]any{"read": true})
	e.must(a.member, 200, "PUT", fmt.Sprintf("/api/v1/me/lessons/%d/progress", c.lessonID), map[string]any{"position_sec": 600})
	prog := ok(call("GET /api/v1/me/courses/{id}/progress", a.member, fmt.Sprintf("/api/v1/me/courses/%d/progress", c.courseID), nil))
	call("GET /api/v1/me/learning/continue", a.member, "/api/v1/me/learning/continue", nil)
	if png := e.do(a.member, "GET", fmt.Sprintf("/api/v1/me/courses/%d/certificate.png", c.courseID), nil); png.status != 200 {
		e.t.Fatalf("certificate: %d %s", png.status, png.body)
	}
	call("GET /api/v1/certificates/{code}", caller{appid: a.appid}, "/api/v1/certificates/"+prog["certificate_code"].(string), nil)
	// Questions: the thread, a question, a reply, a like and its undoing.
	call("GET /api/v1/lessons/{id}/posts", a.member, fmt.Sprintf("/api/v1/lessons/%d/posts", c.lessonID), nil)
	call("POST /api/v1/lessons/{id}/posts", a.member, fmt.Sprintf("/api/v1/lessons/%d/posts", c.lessonID), map[string]any{"kind": "comment", "text": marker + "评论"})
	call("POST /api/v1/qa/posts/{id}/replies", a.member, fmt.Sprintf("/api/v1/qa/posts/%d/replies", p.postID), map[string]any{"text": marker + "追问"})
	call("PUT /api/v1/qa/posts/{id}/like", a.member, fmt.Sprintf("/api/v1/qa/posts/%d/like", p.postID), nil)
	call("DELETE /api/v1/qa/posts/{id}/like", a.member, fmt.Sprintf("/api/v1/qa/posts/%d/like", p.postID), nil)
	// Camps: the list, one, mine, a check-in (the day's again), the feed; a later camp joined and left.
	call("GET /api/v1/camps", caller{appid: a.appid}, "/api/v1/camps", nil)
	call("GET /api/v1/camps/{id}", caller{appid: a.appid}, fmt.Sprintf("/api/v1/camps/%d", p.campID), nil)
	call("GET /api/v1/me/camps/{id}", a.member, fmt.Sprintf("/api/v1/me/camps/%d", p.campID), nil)
	call("POST /api/v1/me/camps/{id}/checkins", a.member, fmt.Sprintf("/api/v1/me/camps/%d/checkins", p.campID), map[string]any{"day": 1, "text": marker + "再打卡"})
	call("GET /api/v1/camps/{id}/checkins", a.member, fmt.Sprintf("/api/v1/camps/%d/checkins?day=1", p.campID), nil)
	later := int64(e.must(a.owner, 201, "POST", "/admin/api/v1/camps", map[string]any{"title": marker + "下期", "start_date": chinaToday(7),
		"status": "open", "tasks": []map[string]any{{"title": marker + "一"}}})["id"].(float64))
	call("POST /api/v1/camps/{id}/join", a.member, fmt.Sprintf("/api/v1/camps/%d/join", later), nil)
	call("DELETE /api/v1/camps/{id}/join", a.member, fmt.Sprintf("/api/v1/camps/%d/join", later), nil)
}
