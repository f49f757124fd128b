package server_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

// moderationAttackBodies are valid bodies for the moderation routes the
// tenancy test attacks (see attackBodies).
var moderationAttackBodies = map[string]any{
	"POST /admin/api/v1/moderation/items/{id}/reject":         map[string]any{"reason": "乙改甲"},
	"POST /admin/api/v1/moderation/items/{id}/ban":            map[string]any{"days": 1, "reason": "乙改甲"},
	"POST /admin/api/v1/moderation/complaints/{id}/take-down": map[string]any{"note": "乙改甲"},
	"POST /admin/api/v1/moderation/complaints/{id}/reject":    map[string]any{"reason": "乙改甲"},
}

// attackBody is the tenancy test's body for a route.
func attackBody(bodies map[string]any, rt httpx.Route) any {
	key := rt.Method + " " + rt.Path
	if b, ok := bodies[key]; ok {
		return b
	}
	if b, ok := paidAttackBodies[key]; ok {
		return b
	}
	return moderationAttackBodies[key]
}

// moderationLists are shop A's moderation lists in the tenancy snapshot.
var moderationLists = []string{"/admin/api/v1/moderation/rules", "/admin/api/v1/moderation/items",
	"/admin/api/v1/moderation/complaints", "/admin/api/v1/moderation/bans"}

// modIDs are shop A's moderation resources for the tenancy test.
type modIDs struct{ rule, item, complaint, ban int64 }

// seedModeration gives shop a a rule, a published comment, a complaint
// and a ban on another of its buyers.
func (e *env) seedModeration(a testShop) modIDs {
	e.t.Helper()
	rule := e.must(a.owner, 201, "POST", "/admin/api/v1/moderation/rules", map[string]any{"word": "甲店禁词", "category": "ads", "level": "review"})
	item := e.must(a.member, 201, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": "product:1", "text": "甲店的东西很好"})
	c := e.must(caller{appid: a.appid}, 201, "POST", "/api/v1/complaints", map[string]any{"item_id": item["id"], "reason": "甲店侵权投诉内容"})
	other, _ := e.memberLogin(a.appid, "openid-banned-甲")
	spam := e.must(other, 201, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "text": "甲店垃圾广告"})
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/moderation/items/%d/ban", id(spam)), map[string]any{"days": 1, "reason": "甲店封禁"})
	list := e.mustList(a.owner, "/admin/api/v1/moderation/bans")
	if len(list) != 1 {
		e.t.Fatalf("bans: %v", list)
	}
	return modIDs{rule: id(rule), item: id(item), complaint: id(c), ban: id(list[0])}
}

func id(m map[string]any) int64 { return int64(m["id"].(float64)) }

// target names shop A's resource for a moderation route with an {id}.
func (m modIDs) target(path string) int64 {
	switch {
	case strings.Contains(path, "/moderation/rules/"):
		return m.rule
	case strings.Contains(path, "/moderation/complaints/"):
		return m.complaint
	case strings.Contains(path, "/moderation/bans/"):
		return m.ban
	}
	return m.item
}

func TestModerationOverHTTP(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		opShop := caller{token: op.token, shopID: a.id}
		e.must(opShop, 201, "POST", "/admin/api/v1/moderation/rules", map[string]any{"scope": "base", "word": "傻逼", "category": "abuse", "level": "block"})
		if r := e.do(a.owner, "POST", "/admin/api/v1/moderation/rules", map[string]any{"scope": "base", "word": "x", "category": "c", "level": "block"}); r.status != 403 || r.code() != "operator_only" {
			t.Fatalf("owner changed the base list: %d %s", r.status, r.body)
		}
		e.must(a.owner, 201, "POST", "/admin/api/v1/moderation/rules", map[string]any{"word": "微信", "category": "ads", "level": "review", "forms": "pinyin,initials"})

		submit := func(text string) response {
			return e.do(a.member, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": "product:7", "text": text})
		}
		if r := submit("衣服很好看"); r.status != 201 || r.json(t)["status"] != "published" {
			t.Fatalf("pass: %d %s", r.status, r.body)
		}
		held := submit("加我 wei xin 便宜")
		if held.status != 201 || held.json(t)["status"] != "pending" || strings.Contains(string(held.body), "微信") {
			t.Fatalf("review (matches must stay hidden from the author): %d %s", held.status, held.body)
		}
		if r := submit("卖家傻@逼"); r.status != 422 || r.code() != "content_blocked" {
			t.Fatalf("block: %d %s", r.status, r.body)
		}

		// WeChat's check, through the sandbox, once the shop turns it on.
		if r := submit("网上赌博"); r.status != 201 {
			t.Fatalf("without WeChat: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/moderation/settings", map[string]any{"wechat_check": true})
		if r := submit("网上赌博"); r.status != 422 || r.code() != "content_blocked" {
			t.Fatalf("WeChat risky: %d %s", r.status, r.body)
		}

		// The queue.
		queue := e.do(a.owner, "GET", "/admin/api/v1/moderation/items?status=pending", nil)
		if queue.status != 200 || !strings.Contains(string(queue.body), `"word":"微信"`) {
			t.Fatalf("queue: %s", queue.body)
		}
		heldID := id(held.json(t))
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/moderation/items/%d/approve", heldID), nil)
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/moderation/items/%d/reject", heldID), map[string]any{"reason": ""}); r.status != 400 {
			t.Fatalf("reject without reason: %d", r.status)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/moderation/items/%d/ban", heldID), map[string]any{"days": 3, "reason": "引流"})
		if r := submit("你好"); r.status != 403 || r.code() != "member_banned" {
			t.Fatalf("banned member posted: %d %s", r.status, r.body)
		}
		bans := e.mustList(a.owner, "/admin/api/v1/moderation/bans")
		if len(bans) != 1 {
			t.Fatalf("bans %v", bans)
		}
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/moderation/bans/%d", id(bans[0])), nil)
		if r := submit("你好"); r.status != 201 {
			t.Fatalf("after lifting the ban: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/moderation/items/%d/ban", heldID), map[string]any{"days": 3, "reason": "再次引流"})
		log := e.do(a.owner, "GET", "/admin/api/v1/moderation/decisions", nil)
		for _, action := range []string{`"action":"approve"`, `"action":"reject"`, `"action":"ban"`, `"action":"lift_ban"`} {
			if !strings.Contains(string(log.body), action) {
				t.Errorf("decision log lacks %s: %s", action, log.body)
			}
		}

		// Copyright complaints.
		list := e.do(caller{appid: a.appid}, "GET", "/api/v1/contents?target=product:7", nil)
		if !strings.Contains(string(list.body), "衣服很好看") || strings.Contains(string(list.body), "wei xin") {
			t.Fatalf("published list: %s", list.body)
		}
		var page struct {
			Items []struct {
				ID   int64  `json:"id"`
				Text string `json:"text"`
			} `json:"items"`
		}
		err := json.Unmarshal(list.body, &page)
		published := page.Items
		if err != nil || len(published) != 3 || published[2].Text != "衣服很好看" {
			t.Fatalf("published list %s", list.body)
		}
		c := e.must(caller{appid: a.appid}, 201, "POST", "/api/v1/complaints", map[string]any{"item_id": published[2].ID, "reason": "盗用我的原创文案"})
		if c["status"] != "open" || c["overdue"] != false {
			t.Fatalf("complaint %v", c)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/moderation/complaints/%d/take-down", id(c)), map[string]any{"note": "侵权属实"})
		if list := e.do(caller{appid: a.appid}, "GET", "/api/v1/contents?target=product:7", nil); strings.Contains(string(list.body), "衣服很好看") {
			t.Fatalf("taken-down content still listed: %s", list.body)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/moderation/complaints/%d/reject", id(c)), map[string]any{"reason": "再次处理"}); r.status != 409 {
			t.Fatalf("second decision: %d %s", r.status, r.body)
		}
	})
}

func TestModerationRuleFilesOverHTTP(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		r := e.doWithType(a.owner, "POST", "/admin/api/v1/moderation/rules/import", "代开发票\tfraud\tblock\n坏行\n刷单\tfraud\tmaybe\n", "text/plain")
		if r.status != 400 || r.code() != "invalid_rule_file" || !strings.Contains(string(r.body), `"line 2"`) || !strings.Contains(string(r.body), `"line 3"`) {
			t.Fatalf("bad file: %d %s", r.status, r.body)
		}
		r = e.doWithType(a.owner, "POST", "/admin/api/v1/moderation/rules/import", "word,category,level\n代开发票,fraud,block\n刷单,fraud,review\n", "text/csv")
		if r.status != 200 || r.json(t)["rules"] != float64(2) {
			t.Fatalf("CSV import: %d %s", r.status, r.body)
		}
		check := e.must(a.owner, 200, "POST", "/admin/api/v1/moderation/check", map[string]any{"text": "专业代開發票"})
		if check["verdict"] != "block" {
			t.Fatalf("check %v", check)
		}
		out := e.do(a.owner, "GET", "/admin/api/v1/moderation/rules/export", nil)
		if out.status != 200 || string(out.body) != "代开发票\tfraud\tblock\n刷单\tfraud\treview\n" || !strings.HasPrefix(out.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("export: %d %q", out.status, out.body)
		}
		if r := e.do(a.owner, "GET", "/admin/api/v1/moderation/rules?scope=base", nil); r.status != 403 {
			t.Fatalf("owner read the base list: %d", r.status)
		}
	})
}

// TestRuleChangeReachesTheOtherServer: a rule added through one server
// blocks content on another within seconds, without a restart.
func TestRuleChangeReachesTheOtherServer(t *testing.T) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			dsn := db.TestDSN(t, engine)
			sb := sandbox.New()
			one, two := newEnv(t, dsn, sb), newEnv(t, dsn, sb)
			op := one.operator()
			a := one.newShop(op, "甲", "enterprise")
			body := map[string]any{"kind": "comment", "text": "出售仿真枪"}
			two.must(a.member, 201, "POST", "/api/v1/contents", body)
			one.must(caller{token: op.token, shopID: a.id}, 201, "POST", "/admin/api/v1/moderation/rules",
				map[string]any{"scope": "operator", "word": "仿真枪", "category": "contraband", "level": "block"})
			start := time.Now()
			for two.do(a.member, "POST", "/api/v1/contents", body).status != 422 {
				if time.Since(start) > 5*time.Second {
					t.Fatal("the other server did not pick up the rule within 5 s")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestProductTextIsChecked: block rules refuse product titles and
// descriptions, in the product API and the CSV import.
func TestProductTextIsChecked(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.must(caller{token: op.token, shopID: a.id}, 201, "POST", "/admin/api/v1/moderation/rules",
			map[string]any{"scope": "base", "word": "高仿", "category": "counterfeit", "level": "block"})
		body := productBody(a.categoryID, "高 仿名牌包", true)
		if r := e.do(a.owner, "POST", "/admin/api/v1/products", body); r.status != 422 || r.code() != "content_blocked" {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "PUT", fmt.Sprintf("/admin/api/v1/products/%d", a.productID), body); r.status != 422 {
			t.Fatalf("replace: %d %s", r.status, r.body)
		}
		csv := "product_key,category,title,price,stock,description\np1,女装,连衣裙,99.00,5,正品\np2,包,名牌包,99.00,5,超A高仿\n"
		if r := e.doWithType(a.owner, "POST", "/admin/api/v1/products/import", csv, "text/csv"); r.status != 422 || !strings.Contains(string(r.body), "line 3") {
			t.Fatalf("import: %d %s", r.status, r.body)
		}
		e.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "真皮手提包", true))
	})
}

// TestNicknamesBecomeTheBuyersOnceClean: a clean nickname is the buyer's at
// once, one held for review only once staff approve it, a blocked one never.
func TestNicknamesBecomeTheBuyersOnceClean(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.must(a.owner, 201, "POST", "/admin/api/v1/moderation/rules", map[string]any{"word": "微信", "category": "ads", "level": "review"})
		e.must(a.owner, 201, "POST", "/admin/api/v1/moderation/rules", map[string]any{"word": "赌场", "category": "gambling", "level": "block"})
		nick := func(text string) response {
			return e.do(a.member, "POST", "/api/v1/contents", map[string]any{"kind": "nickname", "target": "member", "text": text})
		}
		me := func() string { return e.must(a.member, 200, "GET", "/api/v1/me", nil)["nickname"].(string) }
		if r := nick("小红"); r.status != 201 {
			t.Fatalf("clean nickname: %d %s", r.status, r.body)
		}
		if got := me(); got != "小红" {
			t.Fatalf("nickname = %q, want 小红", got)
		}
		held := nick("加微信的小红")
		if held.status != 201 || held.json(t)["status"] != "pending" {
			t.Fatalf("review nickname: %d %s", held.status, held.body)
		}
		if got := me(); got != "小红" {
			t.Fatalf("a held nickname took effect: %q", got)
		}
		if r := nick("赌场老板"); r.status != 422 {
			t.Fatalf("blocked nickname: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/moderation/items/%d/approve", int64(held.json(t)["id"].(float64))), nil)
		if got := me(); got != "加微信的小红" {
			t.Fatalf("after approval the nickname is %q", got)
		}
	})
}

// TestProductTextForReviewIsHeldOffTheShelf: product text that matches a
// review rule is saved off the shelf, queued, cannot go on the shelf, and
// can once a reviewer approves it; its item has no author to ban.
func TestProductTextForReviewIsHeldOffTheShelf(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.must(a.owner, 201, "POST", "/admin/api/v1/moderation/rules", map[string]any{"word": "最低价", "category": "ads", "level": "review"})
		p := e.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "全网最低价连衣裙", true))
		id := int64(p["id"].(float64))
		if p["on_shelf"] != false {
			t.Fatalf("a held product went on the shelf: %v", p["on_shelf"])
		}
		shelf := fmt.Sprintf("/admin/api/v1/products/%d/shelf", id)
		if r := e.do(a.owner, "POST", shelf, map[string]any{"on_shelf": true}); r.status != 409 || r.code() != "product_in_review" {
			t.Fatalf("shelving a held product: %d %s", r.status, r.body)
		}
		queue := e.mustList(a.owner, "/admin/api/v1/moderation/items?status=pending")
		var item map[string]any
		for _, it := range queue {
			if it["kind"] == "product" && it["target"] == fmt.Sprintf("product:%d", id) {
				item = it
			}
		}
		if item == nil {
			t.Fatalf("the product is not in the review queue: %v", queue)
		}
		itemID := int64(item["id"].(float64))
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/moderation/items/%d/ban", itemID), map[string]any{"days": 1, "reason": "广告文案"}); r.status != 409 {
			t.Fatalf("banning the author of staff text: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/moderation/items/%d/approve", itemID), nil)
		if got := e.must(a.owner, 200, "POST", shelf, map[string]any{"on_shelf": true}); got["on_shelf"] != true {
			t.Fatalf("after approval: %v", got["on_shelf"])
		}
		// A CSV import of held text: imported off the shelf and queued too.
		csv := "product_key,category,title,price,stock,on_shelf\np1,女装,最低价T恤,59.00,5,1\n"
		if r := e.doWithType(a.owner, "POST", "/admin/api/v1/products/import", csv, "text/csv"); r.status != 200 && r.status != 201 {
			t.Fatalf("import: %d %s", r.status, r.body)
		}
		n := 0
		for _, it := range e.mustList(a.owner, "/admin/api/v1/moderation/items?status=pending") {
			if it["kind"] == "product" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the imported held product is not queued: %d items", n)
		}
	})
}

// TestSubmissionsAndComplaintsAreRateLimited: a buyer may post 20 items a
// minute, an address file 10 complaints an hour; beyond that, 429 with the
// limiter's own wait as Retry-After (not a constant minute).
func TestSubmissionsAndComplaintsAreRateLimited(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		// Start 8 to 30 s into a minute, so the 21 posts share one window and
		// the expected wait (≤ 58 s) can never be the old constant 60.
		switch ms := time.Now().UnixMilli() % 60000; {
		case ms < 8000:
			time.Sleep(time.Duration(8000-ms+50) * time.Millisecond)
		case ms > 30000:
			time.Sleep(time.Duration(60000-ms+8050) * time.Millisecond)
		}
		got := map[int]int{}
		var last response
		var before, after int64
		for i := range 21 {
			before = time.Now().UnixMilli()
			last = e.do(a.member, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": "product:1", "text": fmt.Sprintf("好评第%d条", i)})
			after = time.Now().UnixMilli()
			got[last.status]++
		}
		if got[201] != 20 || got[429] != 1 || last.status != 429 {
			t.Fatalf("21 posts in a minute: %v", got)
		}
		// The sliding window lets a 22nd post through once 21·(rest of the
		// next window) ≤ 19·window: the rest of this minute + 60 − 19·60/21 s.
		checkRetryAfter(t, last, 60000, 60000-19*60000/21, before, after)
		item := e.mustList(a.member, "/api/v1/contents?target=product:1")[0]
		got = map[int]int{}
		for range 11 {
			before = time.Now().UnixMilli()
			last = e.do(caller{appid: a.appid}, "POST", "/api/v1/complaints", map[string]any{"item_id": item["id"], "reason": "抄袭了我的原创内容", "contact": "13800138000"})
			after = time.Now().UnixMilli()
			got[last.status]++
		}
		if got[201] != 10 || got[429] != 1 || last.status != 429 {
			t.Fatalf("11 complaints in an hour: %v", got)
		}
		checkRetryAfter(t, last, 3600000, 3600000-9*3600000/11, before, after)
	})
}

// checkRetryAfter checks a 429's Retry-After against the limiter's window
// of size ms: the rest of the current window (the request was sent between
// before and after, Unix ms) plus extra ms into the next, in whole seconds
// rounded up.
func checkRetryAfter(t *testing.T, r response, size, extra, before, after int64) {
	t.Helper()
	secs := func(at int64) int64 { return (size - at%size + extra + 999) / 1000 }
	got, err := strconv.ParseInt(r.header.Get("Retry-After"), 10, 64)
	if err != nil || got < secs(after) || got > secs(before) {
		t.Fatalf("Retry-After %q, want %d to %d s (the limiter's window)", r.header.Get("Retry-After"), secs(after), secs(before))
	}
}
