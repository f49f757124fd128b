package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/tracking"
)

// checkedByOtherShapeTests are the buyer routes whose live answers
// TestBuyerOrderRoutesShowNoStaffFields and
// TestBuyerPromotionRoutesShowNoStaffFields read, and those answering
// images.
var checkedByOtherShapeTests = []string{
	"POST /api/v1/orders", "GET /api/v1/orders", "GET /api/v1/orders/{id}", "PUT /api/v1/orders/{id}/invoice",
	"POST /api/v1/orders/{id}/confirm-receipt", "POST /api/v1/orders/{id}/cancel",
	"GET /api/v1/flash-sales", "GET /api/v1/flash-sales/{id}", "GET /api/v1/group-deals", "GET /api/v1/group-deals/{id}",
	"GET /api/v1/groups/{id}", "GET /api/v1/timed-discounts", "GET /api/v1/coupons", "GET /api/v1/me/withdrawals",
	"POST /api/v1/me/withdrawals",
	// The member's own data as stored (a zip of their rows, ids included):
	// TestPrivacyConsentExportAndDeletion reads it.
	"GET /api/v1/me/data-export",
	// Images (image/png), no JSON to leak fields: TestShareCodes reads them.
	"GET /api/v1/products/{id}/share-code", "GET /api/v1/me/promoter/code",
	// The certificate (image/png): paidTour fetches it.
	"GET /api/v1/me/courses/{id}/certificate.png",
}

// buyerShapeKeys are staff-only fields beyond staffOnlyKeys that no buyer
// or public answer may carry: the moderation verdict and matched rules,
// WeChat's content check, and actors of logs (staff:<account id>).
var buyerShapeKeys = map[string]bool{"verdict": true, "matches": true, "wechat": true, "actor": true}

func staffOnlyKey(k string) bool { return staffOnlyKeys[k] || buyerShapeKeys[k] }

// openAPIDoc is the part of /openapi.json these tests read.
type openAPIDoc struct {
	Paths      map[string]map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

// buyerRoutes lists "METHOD /path" of every mini-program route (Shop or
// Member access: their security is the appid or a buyer's session) with
// its operation.
func buyerRoutes(doc openAPIDoc) map[string]map[string]any {
	out := map[string]map[string]any{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			sec, _ := json.Marshal(op["security"])
			if strings.Contains(string(sec), `"member"`) || strings.Contains(string(sec), `"appid"`) {
				out[strings.ToUpper(method)+" "+path] = op
			}
		}
	}
	return out
}

// schemaKeys collects every property name reachable from a schema.
func schemaKeys(doc openAPIDoc, s any, seen map[string]bool, keys map[string]bool) {
	switch x := s.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			if !seen[name] {
				seen[name] = true
				schemaKeys(doc, doc.Components.Schemas[name], seen, keys)
			}
			return
		}
		for k, c := range x {
			if props, ok := c.(map[string]any); ok && k == "properties" {
				for name, p := range props {
					keys[name] = true
					schemaKeys(doc, p, seen, keys)
				}
				continue
			}
			schemaKeys(doc, c, seen, keys) // content, schema, items, allOf …
		}
	case []any:
		for _, c := range x {
			schemaKeys(doc, c, seen, keys)
		}
	}
}

// TestBuyerRouteDocsShowNoStaffFields reads the documented success answer
// of every Shop and Member route in /openapi.json (so a route added later
// is checked without being listed): none may name a staff-only field.
func TestBuyerRouteDocsShowNoStaffFields(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	var doc openAPIDoc
	if err := json.Unmarshal(e.do(caller{}, "GET", "/openapi.json", nil).body, &doc); err != nil {
		t.Fatal(err)
	}
	routes := buyerRoutes(doc)
	if len(routes) < 40 {
		t.Fatalf("only %d buyer routes found in /openapi.json", len(routes))
	}
	for route, op := range routes {
		responses, _ := op["responses"].(map[string]any)
		keys := map[string]bool{}
		for status, r := range responses {
			if strings.HasPrefix(status, "2") {
				schemaKeys(doc, r, map[string]bool{}, keys)
			}
		}
		if route == "GET /api/v1/orders/{id}" && !keys["order_no"] {
			t.Fatalf("the documented answer of %s was not read: %v", route, keys)
		}
		var leaked []string
		for k := range keys {
			if staffOnlyKey(k) {
				leaked = append(leaked, k)
			}
		}
		sort.Strings(leaked)
		if len(leaked) > 0 {
			t.Errorf("%s documents staff-only fields %v", route, leaked)
		}
	}
}

// TestEveryBuyerRouteShowsNoStaffFields calls every Shop and Member route
// not read by the other shape tests, after staff acted on what they show
// (rejected an after-sales request, so its log has a staff actor; other
// buyers wrote content and bought through a promoter's link): no answer may
// carry staff-only fields, a staff actor, another buyer's member id, or who
// recruited a promoter. A new buyer route fails this test until it is
// added here.
func TestEveryBuyerRouteShowsNoStaffFields(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "全", "enterprise")
		e.setStock(a, 100)
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		e.enableDistribution(a, nil)
		e.must(a.owner, 204, "PUT", fmt.Sprintf("/admin/api/v1/products/%d/commission", a.productID), map[string]any{"per_unit": 300})
		shop := caller{appid: a.appid}
		bs := e.buyers(a, 2, "shape-all")
		buyer, recruit := bs[0], bs[1]
		answers := map[string]response{}
		call := func(route string, c caller, path string, body any) response {
			method, _, _ := strings.Cut(route, " ")
			r := e.do(c, method, path, body)
			answers[route] = r
			return r
		}
		jsonOf := func(r response) map[string]any {
			var m map[string]any
			if r.status >= 300 || json.Unmarshal(r.body, &m) != nil {
				t.Fatalf("%d %s", r.status, r.body)
			}
			return m
		}

		// Buyer login and session.
		code, _ := e.sandbox.LoginCode(a.appid, "openid-shape-login", "")
		login := jsonOf(call("POST /api/v1/auth/login", shop, "/api/v1/auth/login", map[string]string{"code": code}))
		phoneCode, _ := e.sandbox.PhoneCode(a.appid, "13800138000")
		call("POST /api/v1/me/phone", a.member, "/api/v1/me/phone", map[string]string{"code": phoneCode})
		call("PUT /api/v1/me/birthday", a.member, "/api/v1/me/birthday", map[string]string{"birthday": "05-20"})
		call("GET /api/v1/me", a.member, "/api/v1/me", nil)

		// Catalog and cart.
		call("GET /api/v1/categories", shop, "/api/v1/categories", nil)
		call("GET /api/v1/products", shop, "/api/v1/products", nil)
		call("GET /api/v1/products/{id}", shop, fmt.Sprintf("/api/v1/products/%d", a.productID), nil)
		call("GET /api/v1/cart", a.member, "/api/v1/cart", nil)
		call("POST /api/v1/cart/items", a.member, "/api/v1/cart/items", map[string]any{"sku_id": a.skuID, "quantity": 1})
		call("PATCH /api/v1/cart/items/{id}", a.member, fmt.Sprintf("/api/v1/cart/items/%d", a.cartLineID), map[string]any{"quantity": 1})
		call("PUT /api/v1/cart/items/{id}", a.member, fmt.Sprintf("/api/v1/cart/items/%d", a.cartLineID), map[string]any{"quantity": 2})
		call("DELETE /api/v1/cart/items/{id}", a.member, fmt.Sprintf("/api/v1/cart/items/%d", a.cartLineID), nil)
		call("POST /api/v1/orders/preview", a.member, "/api/v1/orders/preview", map[string]any{
			"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}})
		call("POST /api/v1/orders/{id}/pay", a.member, fmt.Sprintf("/api/v1/orders/%d/pay", a.orderID), nil)

		// Regions and the address book.
		call("GET /api/v1/regions", shop, "/api/v1/regions?parent=330000", nil)
		addr := jsonOf(call("POST /api/v1/me/addresses", a.member, "/api/v1/me/addresses", map[string]any{"name": "张三", "phone": "13800138000",
			"province_code": "330000", "city_code": "330100", "county_code": "330106", "detail": "文三路 1 号"}))
		one := fmt.Sprintf("/api/v1/me/addresses/%v", addr["id"])
		imported := jsonOf(call("POST /api/v1/me/addresses/wechat", a.member, "/api/v1/me/addresses/wechat", map[string]any{"userName": "张三",
			"provinceName": "北京市", "cityName": "北京市", "countyName": "朝阳区", "detailInfo": "建国路 1 号", "telNumber": "13800138000"}))
		call("GET /api/v1/me/addresses", a.member, "/api/v1/me/addresses", nil)
		call("GET /api/v1/me/addresses/{id}", a.member, one, nil)
		call("PUT /api/v1/me/addresses/{id}", a.member, one, map[string]any{"name": "张三", "phone": "13800138000",
			"province_code": "330000", "city_code": "330100", "county_code": "330106", "detail": "文三路 2 号"})
		call("POST /api/v1/me/addresses/{id}/default", a.member, fmt.Sprintf("/api/v1/me/addresses/%v/default", imported["id"]), nil)
		call("DELETE /api/v1/me/addresses/{id}", a.member, one, nil)
		call("GET /api/v1/products/{id}/recommendations", a.member, fmt.Sprintf("/api/v1/products/%d/recommendations", a.productID), nil)
		call("GET /api/v1/me/recommendations", a.member, "/api/v1/me/recommendations", nil)
		call("GET /api/v1/me/recently-viewed", a.member, "/api/v1/me/recently-viewed", nil)

		// Messages: the subscription ledger and the inbox.
		inboxID, _ := e.seedMessages(a)
		call("POST /api/v1/me/subscriptions", a.member, "/api/v1/me/subscriptions", map[string]any{"results": map[string]string{"TPL_A1": "accept"}})
		call("GET /api/v1/me/subscriptions", a.member, "/api/v1/me/subscriptions", nil)
		call("GET /api/v1/me/subscriptions/next", a.member, "/api/v1/me/subscriptions/next?kind=order_paid", nil)
		call("GET /api/v1/me/messages", a.member, "/api/v1/me/messages", nil)
		call("GET /api/v1/me/messages/unread", a.member, "/api/v1/me/messages/unread", nil)
		call("POST /api/v1/me/messages/{id}/read", a.member, fmt.Sprintf("/api/v1/me/messages/%d/read", inboxID), nil)
		call("POST /api/v1/me/messages/read-all", a.member, "/api/v1/me/messages/read-all", nil)

		// Points: an adjustment by staff, whose account the buyer must not see.
		e.keyed().must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/members/%d/points/adjust", a.memberID), map[string]any{"delta": 50, "reason": "补发"})
		call("GET /api/v1/me/points", a.member, "/api/v1/me/points", nil)
		call("GET /api/v1/me/points/entries", a.member, "/api/v1/me/points/entries", nil)
		gift := (e.must(a.owner, 201, "POST", "/admin/api/v1/points-mall/items", map[string]any{"kind": "gift", "title": "帆布袋",
			"points": 10, "stock": 5, "per_member_limit": 2, "on_shelf": true}))
		home := e.must(a.member, 201, "POST", "/api/v1/me/addresses", map[string]any{"name": "张三", "phone": "13800138000",
			"province_code": "330000", "city_code": "330100", "county_code": "330106", "detail": "文三路 3 号"})
		call("GET /api/v1/points-mall", caller{appid: a.appid}, "/api/v1/points-mall", nil)
		e.must(a.owner, 200, "PUT", "/admin/api/v1/points/settings", map[string]any{"enabled": true, "earn_per_yuan": 1,
			"redeem_per_yuan": 100, "redeem_cap_bp": 5000, "expiry": "never", "expiry_days": 365})
		answers["POST /api/v1/points-mall/{id}/redeem"] = e.keyed().do(a.member, "POST", fmt.Sprintf("/api/v1/points-mall/%v/redeem", gift["id"]),
			map[string]any{"address_id": home["id"]})
		call("GET /api/v1/me/redemptions", a.member, "/api/v1/me/redemptions", nil)
		call("GET /api/v1/me/level", a.member, "/api/v1/me/level", nil)

		// Promotions: a flash sale, a coupon, a promoter whose link a buyer
		// and a recruit followed, and a commission from the buyer's order.
		sale := e.newSale(a, "秒杀", 5, time.Now())
		tok := jsonOf(call("GET /api/v1/flash-sales/{id}/token", a.member, fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil))["token"]
		call("POST /api/v1/flash-sales/{id}/claim", a.member, fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tok})
		coupon := e.newCoupon(a, "满50减10", true)
		call("POST /api/v1/coupons/{id}/claim", a.member, fmt.Sprintf("/api/v1/coupons/%d/claim", coupon), nil)
		call("GET /api/v1/me/coupons", a.member, "/api/v1/me/coupons", nil)
		promoter := jsonOf(call("POST /api/v1/me/promoter", a.member, "/api/v1/me/promoter", nil))["id"]
		call("POST /api/v1/referrals", buyer, "/api/v1/referrals", map[string]any{"promoter_id": promoter})
		e.must(recruit, 200, "POST", "/api/v1/referrals", map[string]any{"promoter_id": promoter})
		recruitPromoter := e.do(recruit, "POST", "/api/v1/me/promoter", nil)
		order := e.buyNow(buyer, a.skuID, 1)
		e.payOrder(a, buyer, order)
		call("GET /api/v1/me/promoter", a.member, "/api/v1/me/promoter", nil)
		if c := e.mustList(a.member, "/api/v1/me/commissions"); len(c) != 1 {
			t.Fatalf("the promoter's commissions: %v", c)
		}
		call("GET /api/v1/me/commissions", a.member, "/api/v1/me/commissions", nil)

		// After-sales: the buyer asks twice; staff reject the first with a
		// reason, the buyer withdraws the second.
		create := fmt.Sprintf("/api/v1/orders/%d/aftersales", order)
		first := jsonOf(call("POST /api/v1/orders/{id}/aftersales", buyer, create, map[string]any{"amount": 2000, "reason": "尺码不合适"}))
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/reject", first["id"]), map[string]any{"reason": "已过退换期"})
		second := e.must(buyer, 201, "POST", create, map[string]any{"amount": 1000, "reason": "有破损"})
		call("GET /api/v1/aftersales", buyer, "/api/v1/aftersales", nil)
		rejected := jsonOf(call("GET /api/v1/aftersales/{id}", buyer, fmt.Sprintf("/api/v1/aftersales/%v", first["id"]), nil))
		call("POST /api/v1/aftersales/{id}/cancel", buyer, fmt.Sprintf("/api/v1/aftersales/%v/cancel", second["id"]), nil)

		// An exchange of a line: the buyer ships it back, staff receive it
		// and ship the replacement, the buyer confirms.
		exOrder := e.buyNow(buyer, a.skuID, 1)
		e.payOrder(a, buyer, exOrder)
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", exOrder), map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567890"})
		exLine := e.must(buyer, 200, "GET", fmt.Sprintf("/api/v1/orders/%d", exOrder), nil)["lines"].([]any)[0].(map[string]any)["id"]
		ex := e.must(buyer, 201, "POST", fmt.Sprintf("/api/v1/orders/%d/aftersales", exOrder), map[string]any{"type": "exchange", "reason": "换个尺码",
			"reason_code": "size", "lines": []map[string]any{{"order_line_id": exLine, "quantity": 1}}})
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", ex["id"]), nil)
		call("POST /api/v1/aftersales/{id}/ship-back", buyer, fmt.Sprintf("/api/v1/aftersales/%v/ship-back", ex["id"]), map[string]any{"carrier": "中通", "tracking_no": "ZT1234567"})
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/receive", ex["id"]), nil)
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/ship-exchange", ex["id"]), map[string]any{"carrier": "顺丰", "tracking_no": "SF7654321"})
		call("POST /api/v1/aftersales/{id}/confirm", buyer, fmt.Sprintf("/api/v1/aftersales/%v/confirm", ex["id"]), nil)
		steps, _ := rejected["steps"].([]any)
		if rejected["reject_reason"] != "已过退换期" || len(steps) != 2 || steps[0].(map[string]any)["by"] != "me" ||
			steps[1].(map[string]any)["by"] != "shop" || steps[1].(map[string]any)["note"] != "已过退换期" {
			t.Fatalf("the buyer's rejected request and its history: %v", rejected)
		}

		// Content: two buyers comment; anyone with the appid reads the list
		// and may file a complaint.
		target := fmt.Sprintf("product:%d", a.productID)
		mine := jsonOf(call("POST /api/v1/contents", a.member, "/api/v1/contents", map[string]any{"kind": "comment", "target": target, "text": "衣服很好看"}))
		e.must(buyer, 201, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": target, "text": "质量不错"})
		list := call("GET /api/v1/contents", shop, "/api/v1/contents?target="+url.QueryEscape(target), nil)
		if items := jsonOf(list)["items"].([]any); len(items) != 2 || mine["status"] != "published" {
			t.Fatalf("published content: %s (mine: %v)", list.body, mine)
		}
		call("POST /api/v1/complaints", shop, "/api/v1/complaints", map[string]any{"item_id": mine["id"], "reason": "抄袭了我的文字作品", "contact": "a@example.com"})

		// The buyer's order shipped: its parcel and the route 快递100 pushed.
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", order), map[string]any{"carrier": "顺丰", "tracking_no": "SF1400000000009"})
		e.runDueJobs(tracking.SubscribeKind)
		if err := e.parcels.Advance(context.Background(), "shunfeng", "SF1400000000009"); err != nil {
			t.Fatal(err)
		}
		parcels := jsonOf(call("GET /api/v1/orders/{id}/parcels", buyer, fmt.Sprintf("/api/v1/orders/%d/parcels", order), nil))
		if ps := parcels["parcels"].([]any); len(ps) != 1 || len(ps[0].(map[string]any)["route"].([]any)) != 1 {
			t.Fatalf("the buyer's parcels: %v", parcels)
		}

		// Check-in: today's, and yesterday filled with a card staff granted.
		call("POST /api/v1/me/checkin", a.member, "/api/v1/me/checkin", nil)
		e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/members/%d/makeup-cards", a.memberID), map[string]any{"count": 1, "reason": "测试"})
		call("POST /api/v1/me/checkin/makeup", a.member, "/api/v1/me/checkin/makeup", map[string]any{"day": e.srv.Checkins.Today().Date().AddDate(0, 0, -1).Format(time.DateOnly)})
		call("GET /api/v1/me/checkin", a.member, "/api/v1/me/checkin", nil)
		call("GET /api/v1/me/tasks", a.member, "/api/v1/me/tasks", nil)
		call("GET /api/v1/me/badges", a.member, "/api/v1/me/badges", nil)
		call("GET /api/v1/me/record", a.member, "/api/v1/me/record", nil)
		// Events: a batch with one good event and one refused.
		call("POST /api/v1/events/anonymous", shop, "/api/v1/events/anonymous", map[string]any{"events": []any{
			map[string]any{"event_id": "shape-anon-1", "name": "app_launch", "anonymous_id": "device-1"}}})
		call("POST /api/v1/events", a.member, "/api/v1/events", map[string]any{"events": []any{
			map[string]any{"event_id": "shape-event-1", "name": "page_view", "page": "pages/index"}, map[string]any{"event_id": "x", "name": "tap"}}})

		// SMS: a phone bound with a code, marketing SMS stopped.
		e.configureSMS(a, "甲")
		call("POST /api/v1/me/phone/code", a.member, "/api/v1/me/phone/code", map[string]any{"phone": "13912345678"})
		call("POST /api/v1/me/phone/verify", a.member, "/api/v1/me/phone/verify", map[string]any{"phone": "13912345678", "code": e.sms.LastCode("13912345678")})
		call("POST /api/v1/me/sms/unsubscribe", a.member, "/api/v1/me/sms/unsubscribe", nil)
		call("GET /api/v1/me/sms", a.member, "/api/v1/me/sms", nil)

		// Paid content: the catalogue, a lesson, my entitlements.
		ct := e.seedContent(a, "全")
		call("GET /api/v1/content/courses", a.member, "/api/v1/content/courses", nil)
		call("GET /api/v1/content/courses/{id}", a.member, fmt.Sprintf("/api/v1/content/courses/%d", ct.courseID), nil)
		call("GET /api/v1/content/lessons/{id}", a.member, fmt.Sprintf("/api/v1/content/lessons/%d", ct.lessonID), nil)
		call("GET /api/v1/content/packages", a.member, "/api/v1/content/packages", nil)
		call("GET /api/v1/content/plans", a.member, "/api/v1/content/plans", nil)
		call("GET /api/v1/me/content/entitlements", a.member, "/api/v1/me/content/entitlements", nil)
		e.paidTour(a, ct, e.seedPaid(a, ct, "全"), "全", call)

		// Logging out last: it ends the login above.
		// Privacy: the policies, consents, an export and a deletion that
		// waits for the buyer's open orders.
		e.must(a.owner, 200, "PUT", "/admin/api/v1/privacy/policies", map[string]any{"kind": "privacy_policy", "version": "v1", "url": "https://shop.example/p"})
		call("GET /api/v1/privacy/policies", shop, "/api/v1/privacy/policies", nil)
		call("POST /api/v1/me/consents", a.member, "/api/v1/me/consents", map[string]any{"kind": "privacy_policy", "version": "v1", "granted": true})
		call("GET /api/v1/me/consents", a.member, "/api/v1/me/consents", nil)
		call("POST /api/v1/me/deletion", a.member, "/api/v1/me/deletion", nil)
		call("GET /api/v1/me/privacy-requests", a.member, "/api/v1/me/privacy-requests", nil)

		call("POST /api/v1/auth/logout", caller{token: login["token"].(string)}, "/api/v1/auth/logout", nil)

		for route, ans := range answers {
			if ans.status >= 300 {
				t.Fatalf("%s: %d %s", route, ans.status, ans.body)
			}
			if ans.status == 204 {
				continue
			}
			if leaked := leakedKeysOf(ans.body, staffOnlyKey); len(leaked) > 0 || strings.Contains(string(ans.body), `"staff:`) {
				t.Errorf("%s shows staff-only fields %v: %s", route, leaked, ans.body)
			}
		}
		for _, r := range []response{answers["POST /api/v1/me/promoter"], answers["GET /api/v1/me/promoter"], recruitPromoter} {
			if _, shown := jsonOf(r)["parent_id"]; shown {
				t.Errorf("a buyer's promoter account shows who recruited them: %s", r.body)
			}
		}
		if c := string(answers["GET /api/v1/me/commissions"].body); strings.Contains(c, "order_id") {
			t.Errorf("a promoter's commissions show the other buyer's order: %s", c)
		}

		var doc openAPIDoc
		if err := json.Unmarshal(e.do(caller{}, "GET", "/openapi.json", nil).body, &doc); err != nil {
			t.Fatal(err)
		}
		elsewhere := map[string]bool{}
		for _, r := range checkedByOtherShapeTests {
			elsewhere[r] = true
		}
		for route := range buyerRoutes(doc) {
			if _, read := answers[route]; !read && !elsewhere[route] {
				t.Errorf("buyer route %s is not checked for staff-only fields", route)
			}
		}
	})
}
