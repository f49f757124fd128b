package server_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// attackBodies are valid bodies for routes that take one, so an attack is
// judged on tenancy, not rejected for bad input.
func attackBodies(categoryID, memberID int64) map[string]any {
	return map[string]any{
		"PUT /admin/api/v1/products/{id}":                  productBody(categoryID, "乙改甲", true),
		"POST /admin/api/v1/products/{id}/shelf":           map[string]any{"on_shelf": false},
		"PATCH /admin/api/v1/categories/{id}":              map[string]any{"name": "乙改甲"},
		"PATCH /admin/api/v1/staff/{id}":                   map[string]any{"display_name": "乙改甲", "password": "stolen-pass-1"},
		"PATCH /admin/api/v1/shops/{id}":                   map[string]any{"name": "乙改甲"},
		"POST /admin/api/v1/members/{id}/revoke-sessions":  nil,
		"POST /admin/api/v1/members/{id}/reveal":           map[string]any{"reason": "乙看甲的手机号"},
		"POST /admin/api/v1/orders/{id}/reveal":            map[string]any{"reason": "乙看甲的收货人"},
		"POST /admin/api/v1/products/{id}/restore":         nil,
		"DELETE /admin/api/v1/products/{id}":               nil,
		"DELETE /admin/api/v1/categories/{id}":             nil,
		"POST /admin/api/v1/orders/{id}/ship":              map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567"},
		"POST /admin/api/v1/orders/{id}/cancel":            map[string]any{"reason": "乙改甲"},
		"PUT /admin/api/v1/orders/{id}/note":               map[string]any{"note": "乙改甲"},
		"PATCH /api/v1/cart/items/{id}":                    map[string]any{"quantity": 5},
		"PUT /api/v1/cart/items/{id}":                      map[string]any{"quantity": 5},
		"PUT /api/v1/orders/{id}/invoice":                  map[string]any{"title_type": "personal", "title": "乙改甲"},
		"POST /admin/api/v1/orders/{id}/invoice/issue":     map[string]any{"invoice_no": "12345678901"},
		"POST /admin/api/v1/orders/{id}/refunds":           map[string]any{"amount": 100, "reason": "乙改甲"},
		"POST /api/v1/orders/{id}/aftersales":              map[string]any{"amount": 100, "reason": "乙改甲"},
		"POST /admin/api/v1/aftersales/{id}/reject":        map[string]any{"reason": "乙改甲"},
		"POST /api/v1/aftersales/{id}/ship-back":           map[string]any{"carrier": "乙", "tracking_no": "YI123456"},
		"POST /admin/api/v1/aftersales/{id}/ship-exchange": map[string]any{"carrier": "乙", "tracking_no": "YI123456"},
		"PUT /admin/api/v1/aftersale-settings":             map[string]any{"auto_confirm_days": 1, "return_ship_days": 1, "return_receive_days": 1},
		"POST /admin/api/v1/refund-requests/{id}/approve":  map[string]any{"note": "乙改甲"},
		"POST /admin/api/v1/refund-requests/{id}/reject":   map[string]any{"note": "乙改甲"},
		"POST /api/v1/flash-sales/{id}/claim":              map[string]any{"quantity": 1},
		"POST /admin/api/v1/coupons/{id}/grant":            map[string]any{"member_id": memberID},
		"PUT /admin/api/v1/products/{id}/commission":       map[string]any{"per_unit": 100},
		"POST /admin/api/v1/withdrawals/{id}/approve":      map[string]any{"note": "乙改甲"},
		"POST /admin/api/v1/withdrawals/{id}/reject":       map[string]any{"note": "乙改甲"},
		"POST /admin/api/v1/withdrawals/{id}/pay":          map[string]any{"reference": "乙改甲"},
		"POST /admin/api/v1/members/{id}/makeup-cards":     map[string]any{"count": 5, "reason": "乙改甲"},
		"PUT /admin/api/v1/checkin/rules":                  map[string]any{"daily_points": 1, "rewards": []map[string]any{{"day": 1, "points": 5, "label": "乙"}}},
		"POST /api/v1/me/checkin/makeup":                   map[string]any{"day": time.Now().Add(-24 * time.Hour).Format(time.DateOnly)},
		"PUT /api/v1/me/addresses/{id}": map[string]any{"name": "乙改甲", "phone": "13800138000", "province_code": "110000",
			"city_code": "110100", "county_code": "110105", "detail": "乙改甲", "is_default": true},
		"POST /api/v1/me/addresses": map[string]any{"name": "乙", "phone": "13800138000", "province_code": "110000",
			"city_code": "110100", "county_code": "110105", "detail": "乙"},
		"PUT /admin/api/v1/freight-templates/{id}": pieceTemplate("乙改甲"),
		"POST /admin/api/v1/freight-templates":     pieceTemplate("乙"),

		"POST /admin/api/v1/member-tags":                     map[string]any{"name": "乙"},
		"PUT /admin/api/v1/member-tags/{id}":                 map[string]any{"name": "乙改甲"},
		"POST /admin/api/v1/member-tags/{id}/members":        map[string]any{"member_ids": []int64{memberID}},
		"POST /admin/api/v1/member-tags/{id}/members/remove": map[string]any{"member_ids": []int64{memberID}},
		"POST /admin/api/v1/segments":                        map[string]any{"name": "乙", "rule": map[string]any{"all": []any{}}},
		"POST /admin/api/v1/segments/preview":                map[string]any{"rule": map[string]any{"all": []any{}}},
		"PUT /admin/api/v1/segments/{id}":                    map[string]any{"name": "乙改甲", "rule": map[string]any{"all": []any{}}},
		"PUT /admin/api/v1/members/{id}/tags":                map[string]any{"tag_ids": []int64{}},
		"POST /admin/api/v1/members/{id}/notes":              map[string]any{"body": "乙改甲"},
		"POST /admin/api/v1/members/{id}/points/adjust":      map[string]any{"delta": 5, "reason": "乙改甲"},
		"PUT /admin/api/v1/messages/templates": map[string]any{"kind": "order_paid", "template_id": "TPL_乙",
			"fields": map[string]string{"thing1": "order.title"}},
		"POST /admin/api/v1/messages/templates/preview": map[string]any{"kind": "order_paid", "template_id": "TPL_乙",
			"fields": map[string]string{"thing1": "order.title"}},
		"POST /api/v1/me/subscriptions": map[string]any{"results": map[string]string{"TPL_A1": "accept"}},
		"PUT /admin/api/v1/points-mall/items/{id}": map[string]any{"kind": "gift", "title": "乙改甲", "points": 1, "stock": 99,
			"per_member_limit": 9, "on_shelf": true},
		"POST /admin/api/v1/points-mall/redemptions/{id}/ship": map[string]any{"carrier": "乙", "tracking_no": "YI123456"},
		"PUT /admin/api/v1/levels": map[string]any{"levels": []map[string]any{{"name": "乙金卡", "growth_min": 0, "discount_bp": 5000,
			"free_shipping": true, "points_bp": 10000, "birthday_points": 0}}},
		"POST /api/v1/points-mall/{id}/redeem":      map[string]any{"address_id": memberID},
		"PUT /admin/api/v1/tasks":                   map[string]any{"tasks": []map[string]any{{"task": "phone", "enabled": false, "points": 1}}},
		"POST /admin/api/v1/badges":                 map[string]any{"name": "乙", "kind": "orders_received", "threshold": 1},
		"PUT /admin/api/v1/badges/{id}":             map[string]any{"name": "乙改甲", "kind": "spent", "threshold": 1, "points": 9},
		"PUT /admin/api/v1/recommendation-settings": map[string]any{"enabled": false, "half_life_days": 1, "top_k": 1, "exclude_bought_days": 0},
		"POST /api/v1/me/phone/code":                map[string]any{"phone": "13912345678"},
		"POST /api/v1/me/phone/verify":              map[string]any{"phone": "13912345678", "code": "123456"},
		"PUT /admin/api/v1/sms/settings": map[string]any{"provider": "aliyun", "access_key_id": "LTAIotherShop",
			"access_secret": "other-secret", "sign_name": "乙小铺", "templates": map[string]string{"phone_code": "SMS_9"}},
		"POST /admin/api/v1/sms/replies": map[string]any{"phone": "13912345678", "reply": "T"},
		"PUT /admin/api/v1/messages/oa":  map[string]any{"appid": "wx00000000000000bb", "secret": "oasecretOfShopB1234", "push_token": "tokenB"},
		"PUT /admin/api/v1/messages/oa/templates": map[string]any{"kind": "order_paid", "template_id": "OA_乙",
			"fields": map[string]any{"thing1": "order.title"}},

		"PUT /admin/api/v1/content/courses/{id}":                  map[string]any{"kind": "course", "title": "乙改甲", "status": "draft"},
		"POST /admin/api/v1/content/courses/{id}/lessons":         map[string]any{"kind": "article", "title": "乙", "status": "draft"},
		"POST /admin/api/v1/content/courses/{id}/lessons/reorder": map[string]any{"ids": []int64{1, 2}},
		"PUT /admin/api/v1/content/lessons/{id}":                  map[string]any{"kind": "article", "title": "乙改甲", "status": "draft"},
		"PUT /admin/api/v1/content/packages/{id}":                 map[string]any{"title": "乙改甲", "course_ids": []int64{1}, "status": "draft"},
		"PUT /admin/api/v1/content/plans/{id}":                    map[string]any{"name": "乙改甲", "period": "month", "status": "draft"},
		"POST /admin/api/v1/content/courses/{id}/release":         map[string]any{"status": "draft"},
		"POST /admin/api/v1/content/lessons/{id}/release":         map[string]any{"status": "draft"},
		"POST /admin/api/v1/content/packages/{id}/release":        map[string]any{"status": "draft"},
		"POST /admin/api/v1/content/plans/{id}/release":           map[string]any{"status": "draft"},
		"POST /admin/api/v1/content/entitlements/{id}/revoke":     map[string]any{"reason": "乙改甲"},
		"POST /admin/api/v1/members/{id}/entitlements":            map[string]any{"target_kind": "course", "target_id": 1, "days": 1, "reason": "乙改甲"},
		"POST /admin/api/v1/tickets/{id}/messages":                map[string]any{"body": "乙改甲"},
		"POST /admin/api/v1/tickets/{id}/status":                  map[string]any{"status": "closed"},
		"POST /admin/api/v1/tickets/{id}/estimate":                map[string]any{"minutes": 60},
		"POST /admin/api/v1/tickets/{id}/time":                    map[string]any{"minutes": 10},
		"PUT /admin/api/v1/cost-items/{id}":                       map[string]any{"kind": "domain", "name": "乙改甲", "cost": 1, "renews": "yearly", "due_on": "2030-01-01"},
	}
}

// targetID picks shop A's resource for a route with an {id}.
func targetID(t *testing.T, rt httpx.Route, a testShop, deletedProduct int64) int64 {
	if id, ok := paidTarget(rt.Path, a); ok {
		return id
	}
	switch {
	case strings.Contains(rt.Path, "/auth/sessions/"):
		return a.sessionID
	case strings.Contains(rt.Path, "/tickets/"):
		return a.ticketID
	case strings.Contains(rt.Path, "/cost-items/"):
		return a.costItemID
	case strings.Contains(rt.Path, "/content/"):
		return a.content.target(rt.Path)
	case strings.Contains(rt.Path, "/member-tags/"):
		return a.memberTagID
	case strings.Contains(rt.Path, "/campaigns/"):
		return a.campaignID
	case strings.Contains(rt.Path, "/segments/"):
		return a.segmentID
	case strings.Contains(rt.Path, "/badges/"):
		return a.badgeID
	case strings.Contains(rt.Path, "/member-notes/"):
		return a.memberNoteID
	case strings.HasSuffix(rt.Path, "/restore"):
		return deletedProduct
	case strings.Contains(rt.Path, "/products/"):
		return a.productID
	case strings.Contains(rt.Path, "/categories/"):
		return a.categoryID
	case strings.Contains(rt.Path, "/staff/"):
		return a.ownerID
	case strings.Contains(rt.Path, "/members/"):
		return a.memberID
	case strings.Contains(rt.Path, "/pay-providers/"), strings.Contains(rt.Path, "/agencies/"):
		return 1 // operator-level, not a shop's: shop staff and agencies are refused by permission
	case strings.Contains(rt.Path, "/shops/"), strings.HasPrefix(rt.Path, "/webhooks/"):
		return a.id
	case strings.Contains(rt.Path, "/aftersales/"):
		return a.aftersaleID
	case strings.Contains(rt.Path, "/refund-requests/"):
		return a.refundRequestID
	case strings.Contains(rt.Path, "/moderation/"):
		return a.mod.target(rt.Path)
	case strings.Contains(rt.Path, "/reconciliations/"):
		return a.reportID
	case strings.Contains(rt.Path, "/orders/"):
		return a.orderID
	case strings.Contains(rt.Path, "/cart/items/"):
		return a.cartLineID
	case strings.Contains(rt.Path, "/flash-sales/"):
		return a.saleID
	case strings.Contains(rt.Path, "/coupons/"):
		return a.couponID
	case strings.Contains(rt.Path, "/promoters/"):
		return a.promoterID
	case strings.Contains(rt.Path, "/withdrawals/"):
		return a.withdrawalID
	case strings.Contains(rt.Path, "/group-deals/"):
		return a.dealID
	case strings.Contains(rt.Path, "/groups/"):
		return a.groupID
	case strings.Contains(rt.Path, "/points-mall/redemptions/"):
		return a.redemptionID
	case strings.Contains(rt.Path, "/points-mall/"):
		return a.mallItemID
	case strings.Contains(rt.Path, "/media/"):
		return a.mediaID
	case strings.Contains(rt.Path, "/me/addresses/"):
		return a.addressID
	case strings.Contains(rt.Path, "/freight-templates/"):
		return a.templateID
	case strings.Contains(rt.Path, "/me/messages/"):
		return a.inboxID
	case strings.Contains(rt.Path, "/messages/"):
		return a.deadLetterID
	}
	t.Fatalf("%s %s: the tenancy test does not know which of shop A's resources this route names; add it", rt.Method, rt.Path)
	return 0
}

// countdown is a field that changes with the clock, not with an attack.
var countdown = regexp.MustCompile(`"seconds_left":\d+`)

// snapshot is everything of shop A that an attack might change (countdowns
// blanked: a group's seconds_left ticks between two snapshots).
func snapshot(e *env, a testShop, deletedProduct int64) string {
	var b strings.Builder
	for _, p := range append([]string{
		fmt.Sprintf("/admin/api/v1/products/%d", a.productID),
		fmt.Sprintf("/admin/api/v1/products/%d", deletedProduct),
		"/admin/api/v1/categories", "/admin/api/v1/staff", "/admin/api/v1/members",
		"/admin/api/v1/shop", "/admin/api/v1/products", "/admin/api/v1/shop/totp-policy", "/admin/api/v1/flash-sales", "/admin/api/v1/coupons",
		fmt.Sprintf("/admin/api/v1/flash-sales/%d", a.saleID), "/admin/api/v1/group-deals",
		fmt.Sprintf("/admin/api/v1/group-deals/%d", a.dealID), fmt.Sprintf("/admin/api/v1/groups/%d", a.groupID),
		"/admin/api/v1/distribution/settings", "/admin/api/v1/promoters", "/admin/api/v1/media", "/admin/api/v1/withdrawals", "/admin/api/v1/timed-discounts",
		fmt.Sprintf("/admin/api/v1/promoters/%d/commissions", a.promoterID), "/admin/api/v1/withdrawal-policy",
		fmt.Sprintf("/admin/api/v1/withdrawals/%d/decisions", a.withdrawalID),
		"/admin/api/v1/freight-templates", fmt.Sprintf("/admin/api/v1/freight-templates/%d", a.templateID),
		"/admin/api/v1/checkin/rules", "/admin/api/v1/checkin/rules/versions", fmt.Sprintf("/admin/api/v1/members/%d/checkin", a.memberID),
		"/admin/api/v1/messages/templates", "/admin/api/v1/messages/dead-letters", fmt.Sprintf("/admin/api/v1/messages/%d", a.deadLetterID),
		fmt.Sprintf("/admin/api/v1/tickets/%d", a.ticketID), "/admin/api/v1/tickets", "/admin/api/v1/sla-policy",
		"/admin/api/v1/support-statement?month=" + time.Now().Format("2006-01"), "/admin/api/v1/cost-items",
		"/admin/api/v1/points/settings", fmt.Sprintf("/admin/api/v1/members/%d/points", a.memberID),
		fmt.Sprintf("/admin/api/v1/members/%d/points/entries", a.memberID),
		"/admin/api/v1/points-mall/items", "/admin/api/v1/points-mall/redemptions", "/admin/api/v1/levels",
		fmt.Sprintf("/admin/api/v1/members/%d/level", a.memberID),
		"/admin/api/v1/recommendation-settings",
		"/admin/api/v1/tasks", "/admin/api/v1/badges", fmt.Sprintf("/admin/api/v1/members/%d/badges", a.memberID),
		"/admin/api/v1/sms/settings", "/admin/api/v1/sms/optouts",
		"/admin/api/v1/messages/oa", "/admin/api/v1/messages/oa/templates", "/admin/api/v1/messages/oa/followers",
	}, append(contentLists(a), paidLists(a)...)...) {
		r := e.do(a.owner, "GET", p, nil)
		fmt.Fprintf(&b, "%s %d %s\n", p, r.status, r.body)
	}
	for _, p := range append([]string{fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), "/admin/api/v1/orders", "/admin/api/v1/aftersales", "/admin/api/v1/aftersale-settings", "/admin/api/v1/reconciliations",
		"/admin/api/v1/refund-requests", "/admin/api/v1/refund-policy", "/admin/api/v1/refunds/attention",
		"/admin/api/v1/wechat-shipping/failed"}, append(moderationLists[:len(moderationLists):len(moderationLists)], segmentLists(a)...)...) {
		r := e.do(a.owner, "GET", p, nil)
		fmt.Fprintf(&b, "%s %d %s\n", p, r.status, r.body)
	}
	buyerReads := []string{"/api/v1/me", "/api/v1/cart", "/api/v1/orders", "/api/v1/aftersales", "/api/v1/me/coupons",
		"/api/v1/me/promoter", "/api/v1/me/withdrawals", "/api/v1/me/addresses", "/api/v1/me/points", "/api/v1/me/points/entries", "/api/v1/me/redemptions", "/api/v1/me/level", fmt.Sprintf("/api/v1/me/addresses/%d", a.addressID),
		"/api/v1/me/recently-viewed", "/api/v1/me/recommendations", "/api/v1/me/checkin",
		"/api/v1/me/tasks", "/api/v1/me/badges", "/api/v1/me/record",

		"/api/v1/me/messages", "/api/v1/me/messages/unread", "/api/v1/me/subscriptions", "/api/v1/me/sms",
		"/api/v1/me/content/entitlements", "/api/v1/content/courses", fmt.Sprintf("/api/v1/content/lessons/%d", a.content.lessonID)}
	for _, p := range append(buyerReads, paidBuyerLists(a)...) {
		r := e.do(a.member, "GET", p, nil)
		fmt.Fprintf(&b, "%s %d %s\n", p, r.status, r.body)
	}
	return countdown.ReplaceAllString(b.String(), `"seconds_left":_`)
}

// TestShopsAreIsolatedOnEveryRoute sends every route that exists, as shop
// B's owner, as shop B's buyer and as an agency login that owns B (acting
// in B, and naming A in X-Shop-Id, which it was not granted), at shop A's
// resources. None may succeed, no list may show A's data, and A must be
// unchanged afterwards.
func TestShopsAreIsolatedOnEveryRoute(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		agency, _ := e.newAgency(op, "agency_of_b", map[int64]string{b.id: "owner"})
		agencyNamingA := e.staffLogin("agency_of_b", "agency-pass-1") // a session of its own: each attacker logs out
		gone := e.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "甲回收站商品", false))
		deleted := int64(gone["id"].(float64))
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/products/%d", deleted), nil)
		a.aftersaleID = e.openAftersale(a)
		a.refundRequestID = e.openRefundRequest(a)
		a.mod = e.seedModeration(a)
		if err := e.srv.DB.QueryRow(context.Background(), `INSERT INTO reconciliations (shop_id, bill_date, status, created_at)
			VALUES (?, '2026-11-21', 'matched', 0) RETURNING id`, a.id).Scan(&a.reportID); err != nil {
			t.Fatal(err)
		}
		a.saleID, a.couponID = e.newSale(a, "甲秒杀", 5, time.Now()), e.newCoupon(a, "甲满减券", true)
		a.dealID = e.newDeal(a, "甲拼团", false)
		a.groupID, _ = e.openGroup(a.member, a.dealID, "tenancy-group")
		a.promoterID, a.withdrawalID = e.promoterWithWithdrawal(a)
		a.mediaID = e.mustUpload(a.owner, testPNG(t, 99)).ID
		e.must(a.owner, 200, "PUT", "/admin/api/v1/withdrawal-policy", map[string]any{"approval_limit": 1000})
		a.templateID = e.newTemplate(a, pieceTemplate("甲运费"))
		e.seedSegments(&a)
		a.campaignID = e.seedCampaign(a, "甲")
		a.addressID = int64(e.must(a.member, 201, "POST", "/api/v1/me/addresses", map[string]any{"name": "甲收件人", "phone": "13800138000",
			"province_code": "330000", "city_code": "330100", "county_code": "330106", "detail": "甲的地址"})["id"].(float64))
		e.seedCheckin(a, "甲")
		e.enablePoints(a, 1000)
		e.must(a.owner, 200, "PUT", "/admin/api/v1/levels", map[string]any{"levels": []map[string]any{{"name": "甲金卡", "growth_min": 10,
			"discount_bp": 9000, "free_shipping": false, "points_bp": 10000, "birthday_points": 0}}})
		a.mallItemID = int64(e.must(a.owner, 201, "POST", "/admin/api/v1/points-mall/items", map[string]any{"kind": "gift", "title": "甲帆布袋",
			"points": 100, "stock": 5, "per_member_limit": 2, "on_shelf": true})["id"].(float64))
		a.redemptionID = int64(e.keyed().must(a.member, 201, "POST", fmt.Sprintf("/api/v1/points-mall/%d/redeem", a.mallItemID),
			map[string]any{"address_id": a.addressID})["id"].(float64))
		a.inboxID, a.deadLetterID = e.seedMessages(a)
		a.badgeID = e.seedBadge(a, "甲")
		a.ticketID = int64(e.must(a.owner, 201, "POST", "/admin/api/v1/tickets", map[string]any{"kind": "change", "priority": "p3",
			"title": "甲的工单", "body": "甲的问题"})["id"].(float64))
		a.costItemID = int64(e.must(a.owner, 201, "POST", "/admin/api/v1/cost-items", map[string]any{"kind": "certification", "name": "甲的认证",
			"cost": 30000, "renews": "yearly", "due_on": "2030-06-01"})["id"].(float64))
		e.must(caller{token: op.token, shopID: a.id}, 200, "PUT", "/admin/api/v1/support-contract", map[string]any{"package_kind": "hours",
			"package_period": "month", "package_quota": 2, "package_price": 50000, "package_starts_at": "2026-01-01T00:00:00Z", "hourly_rate": 30000})
		e.seedSMS(a, "甲")
		a.content = e.seedContent(a, "甲")
		a.paid = e.seedPaid(a, a.content, "甲")
		a.sessionID = e.mySessionID(a.owner)
		before := snapshot(e, a, deleted)
		v := newDocValidator(t, e) // every answer, refusals included, as /openapi.json says
		e.seen = v.check
		defer v.finish(nil)
		bodies := attackBodies(b.categoryID, b.memberID)

		// Shop B's buyer cannot put shop A's SKU in a cart or an order.
		if r := e.do(b.member, "POST", "/api/v1/cart/items", map[string]any{"sku_id": a.skuID, "quantity": 1}); r.status != 400 {
			t.Errorf("B's buyer added A's SKU to a cart: %d %s", r.status, r.body)
		}
		r := e.withHeader("Idempotency-Key", "cross-shop-1").do(b.member, "POST", "/api/v1/orders",
			map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "address": testAddress})
		if r.status != 400 || r.code() != "sku_unavailable" {
			t.Errorf("B's buyer ordered A's SKU: %d %s", r.status, r.body)
		}
		for _, rt := range selfRoutesLast(e.srv.API.Routes()) {
			attackers := []caller{b.owner, {token: agency.token, shopID: b.id}, {token: agencyNamingA.token, shopID: a.id}}
			switch rt.Access {
			case httpx.Member:
				attackers = []caller{b.member}
			case httpx.Shop:
				attackers = []caller{b.member, {appid: b.appid}}
			}
			path := rt.Path
			hasID := strings.Contains(path, "{id}")
			if hasID {
				path = strings.Replace(path, "{id}", fmt.Sprint(targetID(t, rt, a, deleted)), 1)
			}
			for _, who := range attackers {
				send := e
				if rt.Idempotent { // judged on tenancy, not refused for a missing key
					send = e.withHeader("Idempotency-Key", "tenancy-attack-1")
				}
				res := send.do(who, rt.Method, path, attackBody(bodies, rt))
				if hasID && rt.Access == httpx.Public && (res.status < 400 || res.status >= 500) {
					t.Errorf("%s %s as shop B: status %d, want 4xx: %s", rt.Method, path, res.status, res.body)
				}
				if hasID && rt.Access != httpx.Public && res.status != 403 && res.status != 404 {
					t.Errorf("%s %s as shop B: status %d, want 403/404: %s", rt.Method, path, res.status, res.body)
				}
				if res.status == 401 && who.token != "" && !strings.HasPrefix(rt.Path, "/webhooks/") { // a push is judged by its signature, not a session
					t.Errorf("%s %s: shop B's session stopped working: %s", rt.Method, path, res.body)
				}
				if res.status >= 500 {
					t.Errorf("%s %s as shop B: status %d", rt.Method, path, res.status)
				}
				if strings.Contains(shownOfA(rt, res.body), "甲") {
					t.Errorf("%s %s as shop B shows shop A's data: %s", rt.Method, path, res.body)
				}
			}
		}
		if after := snapshot(e, a, deleted); after != before {
			t.Errorf("shop A changed under shop B's requests:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestMemberSessionIsBoundToItsShop(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		cross := caller{token: a.member.token, appid: b.appid}
		if r := e.do(cross, "GET", "/api/v1/me", nil); r.status != 403 || r.code() != "shop_mismatch" {
			t.Fatalf("A's buyer with B's appid: %d %s, want 403 shop_mismatch", r.status, r.body)
		}
		r := e.do(caller{appid: b.appid}, "GET", fmt.Sprintf("/api/v1/products/%d", a.productID), nil)
		if r.status != 404 {
			t.Fatalf("A's product through B's appid: %d, want 404", r.status)
		}
		r = e.do(caller{appid: a.appid}, "GET", fmt.Sprintf("/api/v1/products/%d", a.productID), nil)
		if r.status != 200 {
			t.Fatalf("A's product through A's appid: %d %s", r.status, r.body)
		}
	})
}

// selfRoutesLast moves the routes that end or replace the caller's own
// session (logout, password change) to the end, so the attacker's session
// lasts through every other route.
func selfRoutesLast(routes []httpx.Route) []httpx.Route {
	var first, password, logout []httpx.Route
	for _, rt := range routes {
		switch {
		case strings.HasSuffix(rt.Path, "/logout"):
			logout = append(logout, rt)
		case strings.HasSuffix(rt.Path, "/auth/password"):
			password = append(password, rt)
		default:
			first = append(first, rt)
		}
	}
	return append(append(first, password...), logout...)
}

// openAftersale pays a new order of shop a (without WeChat) and opens an
// after-sales request on it.
func (e *env) openAftersale(a testShop) int64 {
	e.t.Helper()
	id := e.buyNow(a.member, a.skuID, 1)
	if _, err := e.srv.Orders.MarkPaid(context.Background(), a.id, id, 9900, "tx-test"); err != nil {
		e.t.Fatal(err)
	}
	r := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/orders/%d/aftersales", id),
		map[string]any{"amount": 5000, "reason": "甲的售后", "photos": []string{"https://img.example.com/x.jpg"}})
	return int64(r["id"].(float64))
}

// shownOfA is what an answer to shop B shows that could be shop A's. B's
// own audit log records B's attacks on A, whose bodies say 乙改甲: those
// words are B's, not A's data, and are left out.
func shownOfA(rt httpx.Route, body []byte) string {
	if strings.Contains(rt.Path, "/audit-log") {
		return strings.ReplaceAll(string(body), "乙改甲", "")
	}
	return string(body)
}
