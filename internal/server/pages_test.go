package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
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
