package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/checkin"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// seedBadge defines a badge in shop a, held by its buyer once it checks in.
func (e *env) seedBadge(a testShop, marker string) int64 {
	e.t.Helper()
	b := e.must(a.owner, 201, "POST", "/admin/api/v1/badges", map[string]any{"name": marker + "首签", "kind": "checkin_streak", "threshold": 1})
	return int64(b["id"].(float64))
}

// TestTasksBadgesAndRecordOverHTTP: a new buyer completes every first-week
// task (each rewarded once, even when repeated), earns the badges staff
// defined from its check-in and received order, and "my record" adds up
// the history: active days, streak, the order, what it spent and saved,
// points earned, badges.
func TestTasksBadgesAndRecordOverHTTP(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish(nil)
		op := e.operator()
		a := e.newShop(op, "务", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		e.enablePoints(a, 0)
		startDay := checkin.DayOf(time.Now())

		if off := e.must(a.member, 200, "GET", "/api/v1/me/tasks", nil); len(off["tasks"].([]any)) != 0 {
			t.Fatalf("tasks offered before staff turned them on: %v", off)
		}
		tasks := e.must(a.owner, 200, "PUT", "/admin/api/v1/tasks", map[string]any{"tasks": []map[string]any{
			{"task": "profile", "enabled": true, "points": 20}, {"task": "phone", "enabled": true, "points": 20},
			{"task": "first_purchase", "enabled": true, "points": 66}, {"task": "first_checkin", "enabled": true, "points": 11}}})
		if ts := tasks["tasks"].([]any); len(ts) != 4 || ts[2].(map[string]any)["points"] != 66.0 {
			t.Fatalf("saved tasks: %v", tasks)
		}
		for _, bad := range []map[string]any{{"tasks": []map[string]any{{"task": "bogus", "enabled": true, "points": 1}}},
			{"tasks": []map[string]any{{"task": "phone", "enabled": true, "points": -5}}}, {"tasks": []map[string]any{}}} {
			if r := e.do(a.owner, "PUT", "/admin/api/v1/tasks", bad); r.status != 400 {
				t.Fatalf("tasks %v: %d %s", bad, r.status, r.body)
			}
		}
		streak := e.must(a.owner, 201, "POST", "/admin/api/v1/badges", map[string]any{"name": "首签", "kind": "checkin_streak", "threshold": 1, "points": 5})
		e.must(a.owner, 201, "POST", "/admin/api/v1/badges", map[string]any{"name": "首单", "kind": "orders_received", "threshold": 1})
		e.must(a.owner, 201, "POST", "/admin/api/v1/badges", map[string]any{"name": "消费一元", "kind": "spent", "threshold": 100, "points": 7})
		unused := e.must(a.owner, 201, "POST", "/admin/api/v1/badges", map[string]any{"name": "百单", "kind": "orders_received", "threshold": 100})
		if r := e.do(a.owner, "POST", "/admin/api/v1/badges", map[string]any{"name": "x", "kind": "reviews", "threshold": 1}); r.status != 400 {
			t.Fatalf("unknown kind: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "PUT", "/admin/api/v1/badges/999999", map[string]any{"name": "x", "kind": "spent", "threshold": 1}); r.status != 404 || r.code() != "badge_not_found" {
			t.Fatalf("unknown badge: %d %s", r.status, r.body)
		}

		// The profile: a birthday, a nickname (through moderation), a phone.
		e.must(a.member, 200, "PUT", "/api/v1/me/birthday", map[string]any{"birthday": "07-21"})
		e.must(a.member, 201, "POST", "/api/v1/contents", map[string]any{"kind": "nickname", "target": "member", "text": "小务"})
		phoneCode, _ := e.sandbox.PhoneCode(a.appid, "13800138000")
		e.must(a.member, 200, "POST", "/api/v1/me/phone", map[string]string{"code": phoneCode})
		phoneCode, _ = e.sandbox.PhoneCode(a.appid, "13800138000")
		e.must(a.member, 200, "POST", "/api/v1/me/phone", map[string]string{"code": phoneCode}) // again: no second reward

		// A check-in (twice) and an order paid with points, shipped, received.
		e.must(a.member, 200, "POST", "/api/v1/me/checkin", nil)
		e.must(a.member, 200, "POST", "/api/v1/me/checkin", nil)
		e.keyed().must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/members/%d/points/adjust", a.memberID), map[string]any{"delta": 300, "reason": "测试"})
		o := e.keyed().must(a.member, 201, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}},
			"address": testAddress, "points": 300})
		id := int64(o["id"].(float64))
		if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(a.member, id)); err != nil || !d.Delivered {
			t.Fatalf("pay: %v %+v", err, d)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", id), map[string]any{"carrier": "顺丰", "tracking_no": "SF7000000001"})
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/confirm-receipt", id), nil)

		mine := e.must(a.member, 200, "GET", "/api/v1/me/tasks", nil)
		if len(mine["tasks"].([]any)) != 4 {
			t.Fatalf("my tasks: %v", mine)
		}
		for _, x := range mine["tasks"].([]any) {
			if task := x.(map[string]any); task["status"] != "done" {
				t.Fatalf("task not done: %v", mine)
			}
		}
		entries := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/members/%d/points/entries", a.memberID))
		rewards := map[string]int{}
		for _, en := range entries {
			if en["kind"] == "reward" {
				rewards[en["reason"].(string)+":"+en["source_id"].(string)]++
			}
		}
		if rewards["task:profile"] != 1 || rewards["task:phone"] != 1 || rewards["task:first_purchase"] != 1 || rewards["task:first_checkin"] != 1 ||
			rewards[fmt.Sprintf("badge:%v", streak["id"])] != 1 {
			t.Fatalf("rewards in the ledger: %v", rewards)
		}

		held := e.mustList(a.member, "/api/v1/me/badges")
		earned := 0
		for _, b := range held {
			if b["earned"] == true {
				earned++
			}
		}
		if earned != 3 || len(held) != 4 {
			t.Fatalf("my badges: %v", held)
		}
		if staffView := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/members/%d/badges", a.memberID)); len(staffView) != 3 {
			t.Fatalf("the member's badges for staff: %v", staffView)
		}
		if r := e.do(a.owner, "DELETE", fmt.Sprintf("/admin/api/v1/badges/%v", streak["id"]), nil); r.status != 409 || r.code() != "badge_awarded" {
			t.Fatalf("delete a held badge: %d %s", r.status, r.body)
		}
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/badges/%v", unused["id"]), nil)

		rec := e.must(a.member, 200, "GET", "/api/v1/me/record", nil)
		points := e.must(a.member, 200, "GET", "/api/v1/me/points", nil)
		paid := o["total_amount"].(float64)
		wantDays := 1.0
		if checkin.DayOf(time.Now()) != startDay { // the test crossed Shanghai midnight
			wantDays = rec["days_active"].(float64)
		}
		if rec["days_active"] != wantDays || rec["streak"] != 1.0 || rec["longest_streak"] != 1.0 || rec["orders_received"] != 1.0 ||
			rec["spent"] != paid || rec["money_saved"] != o["points_discount"] || o["points_discount"] != 300.0 ||
			rec["points_earned"] != points["earned"] || rec["badges"] != 3.0 {
			t.Fatalf("my record %v (order %v, points %v)", rec, o, points)
		}
		e.refundPart(a, id, 100)
		if rec := e.must(a.member, 200, "GET", "/api/v1/me/record", nil); rec["spent"] != paid-100 || rec["badges"] != 3.0 {
			t.Fatalf("my record after a refund of 100 fen: %v", rec)
		}
	})
}

// TestAchievementEventsRaceForOneMember: one buyer's orders received and
// check-ins at the same moment, with points earned on receipt, task and
// badge rewards: every event counts once and nothing deadlocks (the record
// is locked before the points account in every transaction).
func TestAchievementEventsRaceForOneMember(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "竞", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		e.enablePoints(a, 0)
		e.must(a.owner, 200, "PUT", "/admin/api/v1/tasks", map[string]any{"tasks": []map[string]any{
			{"task": "first_purchase", "enabled": true, "points": 9}, {"task": "first_checkin", "enabled": true, "points": 3}}})
		e.must(a.owner, 201, "POST", "/admin/api/v1/badges", map[string]any{"name": "两单", "kind": "orders_received", "threshold": 2, "points": 4})
		e.must(a.owner, 201, "POST", "/admin/api/v1/badges", map[string]any{"name": "首签", "kind": "checkin_streak", "threshold": 1, "points": 2})
		var ids []int64
		for i := 0; i < 4; i++ {
			o := e.keyed().must(a.member, 201, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "address": testAddress})
			id := int64(o["id"].(float64))
			if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(a.member, id)); err != nil || !d.Delivered {
				t.Fatalf("pay: %v %+v", err, d)
			}
			e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", id), map[string]any{"carrier": "顺丰", "tracking_no": fmt.Sprintf("SF80000000%02d", i)})
			ids = append(ids, id)
		}
		var wg sync.WaitGroup
		statuses := make(chan string, 64)
		for round := 0; round < 3; round++ {
			for _, id := range ids {
				wg.Add(1)
				go func(id int64) {
					defer wg.Done()
					r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/orders/%d/confirm-receipt", id), nil)
					statuses <- fmt.Sprintf("receipt %d %s", r.status, r.code())
				}(id)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do(a.member, "POST", "/api/v1/me/checkin", nil)
				statuses <- fmt.Sprintf("checkin %d %s", r.status, r.code())
			}()
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if strings.Contains(s, " 5") {
				t.Fatalf("a racing event failed: %s", s)
			}
		}
		rec := e.must(a.member, 200, "GET", "/api/v1/me/record", nil)
		points := e.must(a.member, 200, "GET", "/api/v1/me/points", nil)
		if rec["orders_received"] != 4.0 || rec["badges"] != 2.0 || rec["streak"] != 1.0 || rec["points_earned"] != points["earned"] {
			t.Fatalf("record after the race: %v (points %v)", rec, points)
		}
		rewards := 0
		for _, en := range e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/members/%d/points/entries?limit=100", a.memberID)) {
			if en["kind"] == "reward" && (en["reason"] == "task" || en["reason"] == "badge") {
				rewards++
			}
		}
		if rewards != 4 { // two tasks, two badges
			t.Fatalf("task and badge rewards: %d", rewards)
		}
	})
}
