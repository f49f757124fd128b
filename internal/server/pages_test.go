package server_test

import (
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
