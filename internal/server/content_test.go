package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// contentIDs are a shop's paid content (the tenancy and shape tests name them).
type contentIDs struct {
	courseID, freeLessonID, lessonID, packageID, planID, entitlementID int64
}

// target is the id of shop A's content a route under /content/ names.
func (c contentIDs) target(path string) int64 {
	switch {
	case strings.Contains(path, "/content/lessons/"):
		return c.lessonID
	case strings.Contains(path, "/content/packages/"):
		return c.packageID
	case strings.Contains(path, "/content/plans/"):
		return c.planID
	case strings.Contains(path, "/content/entitlements/"):
		return c.entitlementID
	}
	return c.courseID
}

// seedContent gives shop a a published course with a free and a paid
// lesson, a package, a plan, and its member a staff grant of the course.
func (e *env) seedContent(a testShop, marker string) contentIDs {
	e.t.Helper()
	id := func(m map[string]any) int64 { return int64(m["id"].(float64)) }
	var c contentIDs
	c.courseID = id(e.must(a.owner, 201, "POST", "/admin/api/v1/content/courses", map[string]any{"kind": "course", "title": marker + "课程",
		"intro": "<p>" + marker + "</p>", "price_fen": 9900, "days": 365, "for_sale": true, "status": "published"}))
	lessons := fmt.Sprintf("/admin/api/v1/content/courses/%d/lessons", c.courseID)
	c.freeLessonID = id(e.must(a.owner, 201, "POST", lessons, map[string]any{"kind": "article", "title": marker + "试读", "body": "<p>" + marker + "免费</p>",
		"free": true, "status": "published"}))
	c.lessonID = id(e.must(a.owner, 201, "POST", lessons, map[string]any{"kind": "video", "title": marker + "视频", "media_url": "https://vod.example.com/" + fmt.Sprint(a.id),
		"duration_sec": 600, "status": "published"}))
	c.packageID = id(e.must(a.owner, 201, "POST", "/admin/api/v1/content/packages", map[string]any{"title": marker + "套餐", "price_fen": 19900,
		"for_sale": true, "course_ids": []int64{c.courseID}, "status": "published"}))
	c.planID = id(e.must(a.owner, 201, "POST", "/admin/api/v1/content/plans", map[string]any{"name": marker + "年卡", "period": "year", "price_fen": 29900,
		"covers_all": true, "discount_bp": 1000, "for_sale": true, "status": "published"}))
	c.entitlementID = id(e.withHeader("Idempotency-Key", "seed-content-"+fmt.Sprint(a.id)).must(a.owner, 201, "POST",
		fmt.Sprintf("/admin/api/v1/members/%d/entitlements", a.memberID), map[string]any{"target_kind": "course", "target_id": c.courseID, "days": 30, "reason": marker + "赠送"}))
	return c
}

// contentLists are the staff reads of a shop's content (the tenancy
// snapshot compares them).
func contentLists(a testShop) []string {
	return []string{"/admin/api/v1/content/courses", "/admin/api/v1/content/packages", "/admin/api/v1/content/plans", "/admin/api/v1/content/settings",
		fmt.Sprintf("/admin/api/v1/content/courses/%d/lessons", a.content.courseID), fmt.Sprintf("/admin/api/v1/content/lessons/%d", a.content.lessonID),
		fmt.Sprintf("/admin/api/v1/members/%d/entitlements", a.memberID), fmt.Sprintf("/admin/api/v1/members/%d/entitlement-events", a.memberID)}
}

// TestContentOverHTTP: staff publish a course; a buyer sees the free
// lesson and the paid one locked (the VOD URL hidden); a staff grant opens
// it; a revoke with a reason closes it again.
func TestContentOverHTTP(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish(nil)
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		c := e.seedContent(a, "甲")
		other := e.newShop(op, "乙", "enterprise")
		lesson := func(who caller, id int64) map[string]any {
			return e.must(who, 200, "GET", fmt.Sprintf("/api/v1/content/lessons/%d", id), nil)
		}
		if l := lesson(a.member, c.lessonID); l["locked"] != false || l["media_url"] != "https://vod.example.com/"+fmt.Sprint(a.id) {
			t.Fatalf("granted lesson: %v", l)
		}
		// The other shop's buyer: not found.
		if r := e.do(other.member, "GET", fmt.Sprintf("/api/v1/content/lessons/%d", c.lessonID), nil); r.status != 404 {
			t.Fatalf("another shop's lesson: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/content/entitlements/%d/revoke", c.entitlementID), map[string]any{"reason": "测试撤销"})
		if l := lesson(a.member, c.lessonID); l["locked"] != true || l["media_url"] != "" {
			t.Fatalf("revoked, still open: %v", l)
		}
		if l := lesson(a.member, c.freeLessonID); l["locked"] != false || l["body"] == nil {
			t.Fatalf("free lesson: %v", l)
		}
		course := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/content/courses/%d", c.courseID), nil)
		if list := course["lesson_list"].([]any); len(list) != 2 || list[1].(map[string]any)["locked"] != true {
			t.Fatalf("course: %v", course)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/content/entitlements/%d/revoke", c.entitlementID), map[string]any{"reason": ""}); r.status != 400 {
			t.Fatalf("revoke without a reason: %d %s", r.status, r.body)
		}
		mine := e.must(a.member, 200, "GET", "/api/v1/me/content/entitlements", nil)
		if items := mine["items"].([]any); len(items) != 0 {
			t.Fatalf("revoked still listed as mine: %v", mine)
		}
	})
}
