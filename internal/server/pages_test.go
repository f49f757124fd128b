package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// walkPages reads a list page by page (?cursor=next_cursor&limit=) and
// returns every item id in order. Each answer must be {items, next_cursor}
// with at most limit items; next_cursor is absent on the last page.
func (e *env) walkPages(c caller, path string, limit int) []int64 {
	e.t.Helper()
	var ids []int64
	cursor := ""
	for pages := 0; ; pages++ {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		r := e.do(c, "GET", fmt.Sprintf("%s%slimit=%d&cursor=%s", path, sep, limit, cursor), nil)
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &page) != nil || page.Items == nil {
			e.t.Fatalf("GET %s: not a page: %d %s", path, r.status, r.body)
		}
		if len(page.Items) > limit {
			e.t.Fatalf("GET %s: %d items on a page of %d", path, len(page.Items), limit)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == nil {
			return ids
		}
		if *page.NextCursor == "" || pages > 1000 {
			e.t.Fatalf("GET %s: next_cursor %q", path, *page.NextCursor)
		}
		cursor = *page.NextCursor
	}
}

func distinctDescending(ids []int64) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			return false
		}
	}
	return true
}

// TestListsArePagesWithCursors: lists answer {items, next_cursor}, take
// ?cursor= and ?limit=, and page through everything — nothing is cut off
// at a fixed number (coupons, flash sales and after-sales were capped at
// 200, moderation rules at 1,000, without a way to see the rest).
func TestListsArePagesWithCursors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		for i := 0; i < 23; i++ {
			e.newCoupon(a, fmt.Sprintf("券%d", i), true)
		}
		if ids := e.walkPages(a.owner, "/admin/api/v1/coupons", 10); len(ids) != 23 || !distinctDescending(ids) {
			t.Fatalf("coupons paged: %v", ids)
		}
		for i := 0; i < 4; i++ {
			e.buyNow(a.member, a.skuID, 1)
		}
		if ids := e.walkPages(a.member, "/api/v1/orders", 2); len(ids) != 5 || !distinctDescending(ids) {
			t.Fatalf("my orders paged: %v", ids)
		}
		if ids := e.walkPages(a.owner, "/admin/api/v1/orders?status=pending_payment", 3); len(ids) != 5 {
			t.Fatalf("orders paged: %v", ids)
		}
		for i := 0; i < 5; i++ {
			e.must(a.owner, 201, "POST", "/admin/api/v1/moderation/rules", map[string]any{"word": fmt.Sprintf("违禁词%d", i), "category": "测试", "level": "review"})
		}
		if ids := e.walkPages(a.owner, "/admin/api/v1/moderation/rules", 2); len(ids) != 5 {
			t.Fatalf("rules paged: %v", ids)
		}
		if r := e.do(a.owner, "GET", "/admin/api/v1/coupons?cursor=bm9wZQ", nil); r.status != 400 || r.code() != "invalid_cursor" {
			t.Fatalf("a made-up cursor: %d %s", r.status, r.body)
		}
	})
}

// walkEqualsWhole walks a list in pages of limit and checks that it gives
// the same items in the same order as one page of 100: no item skipped or
// repeated at a page boundary, even where sort keys tie.
func (e *env) walkEqualsWhole(c caller, path string, limit, want int) []int64 {
	e.t.Helper()
	paged, whole := e.walkPages(c, path, limit), e.walkPages(c, path, 100)
	seen := map[int64]bool{}
	for _, id := range paged {
		seen[id] = true
	}
	if len(paged) != want || len(seen) != want || fmt.Sprint(paged) != fmt.Sprint(whole) {
		e.t.Fatalf("GET %s in pages of %d: %v; in one page: %v; want %d distinct", path, limit, paged, whole, want)
	}
	return paged
}

// ordered checks the list's order: first and last are the rows the test
// moved there, and the tied rows between them come newest id first (desc)
// or oldest first.
func ordered(ids []int64, desc bool) bool {
	mid := ids[1 : len(ids)-1]
	for i := 1; i < len(mid); i++ {
		if (mid[i] < mid[i-1]) != desc {
			return false
		}
	}
	return true
}

// TestMoreListsArePagesWithCursors: the lists that were arrays cut at 200
// or 500 page too: refunds (of an order, by status), refunds needing
// attention, promoters, withdrawals, the product bin, complaints and a
// buyer's coupon wallet. Those ordered by more than an id (a date, open
// first, unused first) page by all their sort keys, so rows whose date ties
// are neither skipped nor repeated.
func TestMoreListsArePagesWithCursors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := e.srv.DB.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}

		e.paidOrder(op, a) // 9900 fen
		for i := 0; i < 3; i++ {
			e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": 1000})
		}
		if ids := e.walkPages(a.owner, fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), 2); len(ids) != 3 || !distinctDescending(ids) {
			t.Fatalf("an order's refunds paged: %v", ids)
		}
		// Abnormal refunds need attention; two of them requested at the same millisecond.
		exec(`UPDATE refunds SET status = 'abnormal', created_at = 1000 WHERE shop_id = ?`, a.id)
		exec(`UPDATE refunds SET created_at = 500 WHERE id = (SELECT MAX(id) FROM refunds WHERE shop_id = ?)`, a.id)
		if ids := e.walkPages(a.owner, "/admin/api/v1/refunds?status=abnormal", 2); len(ids) != 3 || !distinctDescending(ids) {
			t.Fatalf("refunds by status paged: %v", ids)
		}
		if ids := e.walkEqualsWhole(a.owner, "/admin/api/v1/refunds/attention", 1, 3); ids[0] <= ids[1] || ids[1] >= ids[2] {
			t.Fatalf("attention order (oldest first, ties by id): %v", ids)
		}

		e.enableDistribution(a, nil)
		for _, b := range append(e.buyers(a, 3, "pages"), a.member) {
			e.must(b, 200, "POST", "/api/v1/me/promoter", nil)
		}
		if ids := e.walkPages(a.owner, "/admin/api/v1/promoters", 3); len(ids) != 4 || !distinctDescending(ids) {
			t.Fatalf("promoters paged: %v", ids)
		}
		exec(`UPDATE promoters SET available = 5000 WHERE shop_id = ? AND member_id = ?`, a.id, a.memberID)
		for i := 0; i < 3; i++ {
			e.must(a.member, 201, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 1000})
		}
		if ids := e.walkPages(a.owner, "/admin/api/v1/withdrawals?status=requested", 2); len(ids) != 3 || !distinctDescending(ids) {
			t.Fatalf("withdrawals paged: %v", ids)
		}
		if ids := e.walkPages(a.member, "/api/v1/me/withdrawals", 2); len(ids) != 3 || !distinctDescending(ids) {
			t.Fatalf("my withdrawals paged: %v", ids)
		}

		// The bin: three products deleted at the same millisecond, one later.
		for i := 0; i < 4; i++ {
			p := e.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, fmt.Sprintf("回收站商品%d", i), false))
			e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/products/%d", id(p)), nil)
		}
		exec(`UPDATE spus SET deleted_at = 2000 WHERE shop_id = ? AND deleted_at IS NOT NULL`, a.id)
		exec(`UPDATE spus SET deleted_at = 3000 WHERE id = (SELECT MIN(id) FROM spus WHERE shop_id = ? AND deleted_at IS NOT NULL)`, a.id)
		if ids := e.walkEqualsWhole(a.owner, "/admin/api/v1/products/deleted", 1, 4); ids[0] >= ids[1] || !ordered(ids, true) {
			t.Fatalf("bin order (the one deleted last first, then newest id): %v", ids)
		}

		// Complaints: open ones (two due at the same millisecond), then a closed one.
		item := e.must(a.member, 201, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": "product:1", "text": "一条评论"})
		for i := 0; i < 4; i++ {
			e.must(caller{appid: a.appid}, 201, "POST", "/api/v1/complaints", map[string]any{"item_id": id(item), "reason": fmt.Sprintf("侵权投诉内容%d", i)})
		}
		exec(`UPDATE moderation_complaints SET due_at = 9000000000000 WHERE shop_id = ?`, a.id)
		exec(`UPDATE moderation_complaints SET status = 'rejected' WHERE id = (SELECT MIN(id) FROM moderation_complaints WHERE shop_id = ?)`, a.id)
		exec(`UPDATE moderation_complaints SET due_at = 8000000000000 WHERE id = (SELECT MAX(id) FROM moderation_complaints WHERE shop_id = ?)`, a.id)
		if ids := e.walkEqualsWhole(a.owner, "/admin/api/v1/moderation/complaints", 1, 4); ids[0] <= ids[1] || ids[3] >= ids[2] || !ordered(ids, true) {
			t.Fatalf("complaint order (soonest due first, ties newest first, closed last): %v", ids)
		}
		e.walkEqualsWhole(a.owner, "/admin/api/v1/moderation/complaints?status=open", 2, 3)

		// A wallet: unused coupons (two expiring at the same millisecond), then a used one.
		for i := 0; i < 4; i++ {
			e.must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/coupons/%d/grant", e.newCoupon(a, fmt.Sprintf("钱包券%d", i), false)), map[string]any{"member_id": a.memberID})
		}
		exec(`UPDATE member_coupons SET valid_until = 9000000000000 WHERE shop_id = ?`, a.id)
		exec(`UPDATE member_coupons SET status = 'used' WHERE id = (SELECT MIN(id) FROM member_coupons WHERE shop_id = ?)`, a.id)
		exec(`UPDATE member_coupons SET valid_until = 8000000000000 WHERE id = (SELECT MAX(id) FROM member_coupons WHERE shop_id = ?)`, a.id)
		if ids := e.walkEqualsWhole(a.member, "/api/v1/me/coupons", 1, 4); ids[0] <= ids[1] || ids[3] >= ids[2] || !ordered(ids, false) {
			t.Fatalf("wallet order (soonest to expire first, ties by id, used last): %v", ids)
		}

		for _, path := range []string{"/admin/api/v1/products/deleted", "/admin/api/v1/moderation/complaints", "/admin/api/v1/refunds/attention"} {
			if r := e.do(a.owner, "GET", path+"?cursor=bm9wZQ", nil); r.status != 400 || r.code() != "invalid_cursor" {
				t.Fatalf("%s with a made-up cursor: %d %s", path, r.status, r.body)
			}
		}
	})
}

// TestLastArraysArePages: the staff, the operators' shops, reconciliation
// reports (cut at the last 90), the staff's time-limited prices (cut at
// 1,000) and the mini program's running flash sales, group deals,
// claimable coupons and time-limited prices (cut at 200 or 1,000) answer
// pages too, in their order, with rows whose sort keys tie neither skipped
// nor repeated; ended and unclaimable rows stay out.
func TestLastArraysArePages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.newShop(op, "乙", "enterprise")
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := e.srv.DB.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := e.srv.DB.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		ascending := func(ids []int64) bool {
			for i := 1; i < len(ids); i++ {
				if ids[i] <= ids[i-1] {
					return false
				}
			}
			return true
		}

		for i := 0; i < 3; i++ {
			e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": fmt.Sprintf("page_staff_%d", i), "password": "role-pass-1", "role": "operations"})
		}
		if ids := e.walkEqualsWhole(a.owner, "/admin/api/v1/staff", 2, count(`SELECT COUNT(*) FROM accounts WHERE shop_id = ?`, a.id)); !ascending(ids) || len(ids) < 4 {
			t.Fatalf("staff paged (oldest first): %v", ids)
		}
		if ids := e.walkEqualsWhole(op, "/admin/api/v1/shops", 1, count(`SELECT COUNT(*) FROM shops`)); !ascending(ids) || len(ids) < 2 {
			t.Fatalf("shops paged (oldest first): %v", ids)
		}

		// 95 days of reports: all of them, newest day first (they were cut at 90).
		day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 95; i++ {
			exec(`INSERT INTO reconciliations (shop_id, bill_date, status, created_at) VALUES (?, ?, 'matched', ?)`,
				a.id, day.AddDate(0, 0, (i*37)%95).Format(time.DateOnly), 1000+i) // ids not in date order
		}
		var dates []string
		for cursor := ""; ; {
			r := e.do(a.owner, "GET", "/admin/api/v1/reconciliations?limit=40&cursor="+cursor, nil)
			var page struct {
				Items []struct {
					BillDate string `json:"bill_date"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
				t.Fatalf("reconciliations: %d %s", r.status, r.body)
			}
			for _, it := range page.Items {
				dates = append(dates, it.BillDate)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(dates) != 95 || dates[0] != day.AddDate(0, 0, 94).Format(time.DateOnly) || dates[94] != day.Format(time.DateOnly) {
			t.Fatalf("reconciliations paged: %d days, %v … %v", len(dates), dates[:1], dates[len(dates)-1:])
		}
		for i := 1; i < len(dates); i++ {
			if dates[i] >= dates[i-1] {
				t.Fatalf("reconciliations out of order at %d: %s then %s", i, dates[i-1], dates[i])
			}
		}

		// Flash sales: three running (two starting at the same millisecond), one ended.
		e.setStock(a, 100)
		for i := 0; i < 4; i++ {
			e.newSale(a, fmt.Sprintf("秒杀%d", i), 5, time.Now().Add(time.Minute))
		}
		exec(`UPDATE flash_sales SET ends_at = 7000000000000 WHERE shop_id = ?`, a.id)
		exec(`UPDATE flash_sales SET starts_at = 5000000000000 WHERE shop_id = ?`, a.id)
		exec(`UPDATE flash_sales SET starts_at = 6000000000000 WHERE id = (SELECT MIN(id) FROM flash_sales WHERE shop_id = ?)`, a.id)
		exec(`UPDATE flash_sales SET starts_at = 500, ends_at = 1000 WHERE id = (SELECT MAX(id) FROM flash_sales WHERE shop_id = ?)`, a.id)
		buyer := caller{appid: a.appid}
		if ids := e.walkEqualsWhole(buyer, "/api/v1/flash-sales", 1, 3); ids[0] >= ids[1] || ids[1] <= ids[2] {
			t.Fatalf("running flash sales (latest start first, ties newest first): %v", ids)
		}

		// Deals: three running, one ended.
		for i := 0; i < 4; i++ {
			e.newDeal(a, fmt.Sprintf("拼团%d", i), false)
		}
		exec(`UPDATE group_deals SET starts_at = 500, ends_at = 1000 WHERE id = (SELECT MIN(id) FROM group_deals WHERE shop_id = ?)`, a.id)
		if ids := e.walkEqualsWhole(buyer, "/api/v1/group-deals", 2, 3); !distinctDescending(ids) {
			t.Fatalf("running deals (newest first): %v", ids)
		}

		// Coupons: three claimable, one not.
		for i := 0; i < 4; i++ {
			e.newCoupon(a, fmt.Sprintf("可领券%d", i), i != 1)
		}
		if ids := e.walkEqualsWhole(buyer, "/api/v1/coupons", 2, 3); !distinctDescending(ids) {
			t.Fatalf("claimable coupons (newest first): %v", ids)
		}

		// Time-limited prices: three not ended (two starting at the same millisecond), one ended.
		for i := 0; i < 4; i++ {
			e.must(a.owner, 201, "POST", "/admin/api/v1/timed-discounts", map[string]any{"sku_id": a.skuID, "title": fmt.Sprintf("限时价%d", i), "price": 7900 + i,
				"starts_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano), "ends_at": time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339Nano)})
		}
		exec(`UPDATE timed_discounts SET starts_at = 5000000000000, ends_at = 7000000000000 WHERE shop_id = ?`, a.id)
		exec(`UPDATE timed_discounts SET starts_at = 4000000000000 WHERE id = (SELECT MAX(id) FROM timed_discounts WHERE shop_id = ?)`, a.id)
		exec(`UPDATE timed_discounts SET starts_at = 500, ends_at = 1000 WHERE id = (SELECT MIN(id) FROM timed_discounts WHERE shop_id = ?)`, a.id)
		for _, c := range []struct {
			who  caller
			path string
		}{{buyer, "/api/v1/timed-discounts"}, {a.owner, "/admin/api/v1/timed-discounts"}} {
			if ids := e.walkEqualsWhole(c.who, c.path, 1, 3); ids[0] <= ids[1] || ids[1] >= ids[2] {
				t.Fatalf("%s (soonest start first, ties oldest first): %v", c.path, ids)
			}
		}

		for _, p := range []struct {
			who  caller
			path string
		}{{a.owner, "/admin/api/v1/staff"}, {op, "/admin/api/v1/shops"}, {a.owner, "/admin/api/v1/reconciliations"}, {buyer, "/api/v1/flash-sales"},
			{buyer, "/api/v1/group-deals"}, {buyer, "/api/v1/coupons"}, {buyer, "/api/v1/timed-discounts"}, {a.owner, "/admin/api/v1/timed-discounts"}} {
			if r := e.do(p.who, "GET", p.path+"?cursor=bm9wZQ", nil); r.status != 400 || r.code() != "invalid_cursor" {
				t.Fatalf("%s with a made-up cursor: %d %s", p.path, r.status, r.body)
			}
		}
	})
}

// TestEveryTimedPriceApplies: checkout prices from every running
// time-limited price of the shop. The list it read was cut at 1,000 rows
// (soonest start first), so a shop with 1,000 earlier discounts charged
// ¥98 where the latest one said ¥79.
func TestEveryTimedPriceApplies(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		now := time.Now().UnixMilli()
		if _, err := e.srv.DB.Exec(context.Background(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
			INSERT INTO timed_discounts (shop_id, sku_id, title, price, starts_at, ends_at, created_at)
			SELECT ?, ?, '早场', 9800, ?, ?, ? FROM n`, a.id, a.skuID, now-2*3600_000, now+3600_000, now); err != nil {
			t.Fatal(err)
		}
		e.must(a.owner, 201, "POST", "/admin/api/v1/timed-discounts", map[string]any{"sku_id": a.skuID, "title": "限时价", "price": 7900,
			"starts_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano), "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)})
		pv := e.must(a.member, 200, "POST", "/api/v1/orders/preview", map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 2}}})
		if pv["total"] != float64(2*7900) {
			t.Fatalf("preview total %v, want %d (the lowest running price)", pv["total"], 2*7900)
		}
	})
}

// TestNoListIsABareArray: a route answering a list answers a page
// (httpx.Page, with ?cursor= and ?limit=), except the whole reads that say
// why in their summary. A new list added as a plain array fails here.
func TestNoListIsABareArray(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	whole := map[string]bool{
		"GET /api/v1/categories":                       true, // the whole tree
		"GET /admin/api/v1/categories":                 true,
		"GET /admin/api/v1/payments/stats":             true, // a series of ?days= (1 to 90)
		"GET /admin/api/v1/withdrawals/{id}/decisions": true, // a few per withdrawal
		"GET /admin/api/v1/member-tags":                true, // at most 200 per shop
		"GET /admin/api/v1/segments":                   true, // at most 100 per shop
		"GET /admin/api/v1/members/{id}/tags":          true, // at most 200
		"PUT /admin/api/v1/members/{id}/tags":          true, // the member's tags after the change
		"GET /admin/api/v1/members/{id}/notes":         true, // at most 200 per member
		"GET /api/v1/me/badges":                        true, // at most 100 badges a shop
		"GET /admin/api/v1/badges":                     true,
		"GET /admin/api/v1/members/{id}/badges":        true,
		"GET /admin/api/v1/cost-items":                 true, // at most 200 per shop (costs.MaxItems)
		"GET /admin/api/v1/auth/sessions":              true, // my live sessions, the newest 200 (session.MaxListed)
		"GET /admin/api/v1/privacy/policies":           true, // the two documents in force
		"GET /api/v1/privacy/policies":                 true,
		"GET /api/v1/me/consents":                      true, // one state per kind (3)
		"POST /api/v1/me/consents":                     true,
		"GET /api/v1/me/privacy-requests":              true, // the newest 50
	}
	pages := 0
	for _, rt := range e.srv.API.Routes() {
		if rt.Response == nil {
			continue
		}
		op := rt.Method + " " + rt.Path
		typ := reflect.TypeOf(rt.Response)
		switch {
		case typ.Kind() == reflect.Slice && !whole[op]:
			t.Errorf("%s answers a bare array (%s): make it a page", op, typ)
		case typ.Kind() == reflect.Slice && !strings.Contains(rt.Summary, "whole") && !strings.Contains(rt.Summary, "not a page"):
			t.Errorf("%s is a whole read: its summary must say so: %q", op, rt.Summary)
		case strings.HasPrefix(typ.Name(), "Page["):
			pages++
			params := map[string]bool{}
			for _, q := range rt.Query {
				params[q.Name] = true
			}
			if !params["cursor"] || !params["limit"] {
				t.Errorf("%s answers a page but does not document ?cursor= and ?limit=", op)
			}
		}
	}
	if pages < 30 {
		t.Fatalf("only %d page routes seen", pages)
	}
}
