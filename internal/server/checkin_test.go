package server_test

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// seedCheckin gives shop a rules version, a check-in of its member and a
// grant of make-up cards, each naming marker so a leak shows.
func (e *env) seedCheckin(a testShop, marker string) {
	e.t.Helper()
	e.must(a.owner, 200, "PUT", "/admin/api/v1/checkin/rules", map[string]any{"daily_points": 1, "makeup_days": 3, "makeup_per_month": 2,
		"rewards": []map[string]any{{"day": 3, "points": 10, "label": marker + "连签三天"}}})
	e.must(a.member, 200, "POST", "/api/v1/me/checkin", nil)
	e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/members/%d/makeup-cards", a.memberID), map[string]any{"count": 2, "reason": marker + "补签卡"})
}

// TestCheckinOverHTTP walks a buyer through three days with a gap and a
// make-up, against the server's clock moved across Shanghai midnights.
func TestCheckinOverHTTP(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish(nil)
		op := e.operator()
		a := e.newShop(op, "签", "enterprise")
		var mu sync.Mutex
		now := time.Date(2026, 12, 6, 15, 59, 0, 0, time.UTC) // 23:59 on Dec 6 in Shanghai
		e.srv.Checkins.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		move := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

		e.must(a.owner, 200, "PUT", "/admin/api/v1/checkin/rules", map[string]any{"daily_points": 1, "makeup_days": 3, "makeup_per_month": 2,
			"rewards": []map[string]any{{"day": 3, "points": 10, "label": "三天"}}})
		if r := e.do(a.member, "POST", "/api/v1/me/checkin", map[string]any{"date": "2026-12-01"}); r.status != 400 || r.code() != "checkin_takes_no_date" {
			t.Fatalf("a client's date: %d %s", r.status, r.body)
		}
		r := e.must(a.member, 200, "POST", "/api/v1/me/checkin", nil)
		if r["day"] != "2026-12-06" || r["streak"] != 1.0 || r["already_checked_in"] != false || r["rule_version"] != 1.0 {
			t.Fatalf("first: %v", r)
		}
		if r := e.must(a.member, 200, "POST", "/api/v1/me/checkin", "{}"); r["already_checked_in"] != true || r["points"] != 1.0 {
			t.Fatalf("again: %v", r)
		}
		move(2 * time.Minute) // 00:01 on Dec 7
		if r := e.must(a.member, 200, "POST", "/api/v1/me/checkin", nil); r["day"] != "2026-12-07" || r["streak"] != 2.0 {
			t.Fatalf("after midnight: %v", r)
		}
		move(48 * time.Hour) // Dec 9: Dec 8 missed
		if r := e.must(a.member, 200, "POST", "/api/v1/me/checkin", nil); r["streak"] != 1.0 {
			t.Fatalf("after a gap: %v", r)
		}
		if r := e.do(a.member, "POST", "/api/v1/me/checkin/makeup", map[string]any{"day": "2026-12-08"}); r.status != 409 || r.code() != "no_makeup_cards" {
			t.Fatalf("without cards: %d %s", r.status, r.body)
		}
		grant := fmt.Sprintf("/admin/api/v1/members/%d/makeup-cards", a.memberID)
		for _, bad := range []map[string]any{{"count": 0, "reason": "x"}, {"count": 101, "reason": "x"}, {"count": -1, "reason": "x"}, {"count": 1, "reason": ""}} {
			if r := e.keyed().do(a.owner, "POST", grant, bad); r.status != 400 {
				t.Fatalf("grant %v: %d %s", bad, r.status, r.body)
			}
		}
		if r := e.keyed().do(a.owner, "POST", "/admin/api/v1/members/999999/makeup-cards", map[string]any{"count": 1, "reason": "x"}); r.status != 404 || r.code() != "member_not_found" {
			t.Fatalf("unknown member: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "POST", grant, map[string]any{"count": 2, "reason": "活动"}); r.status != 400 || r.code() != "idempotency_key_required" {
			t.Fatalf("a grant without a key: %d %s", r.status, r.body)
		}
		once := e.withHeader("Idempotency-Key", "grant-once-0001")
		first := once.must(a.owner, 201, "POST", grant, map[string]any{"count": 2, "reason": "活动"})
		if again := once.must(a.owner, 201, "POST", grant, map[string]any{"count": 2, "reason": "活动"}); again["id"] != first["id"] || again["balance"] != 2.0 {
			t.Fatalf("a retried grant: %v, first %v", again, first)
		}
		for day, want := range map[string]string{"2026-12-09": "makeup_day_not_past", "2026-12-10": "makeup_day_not_past", "2026-12-05": "makeup_out_of_reach",
			"2026-12-07": "already_checked_in", "12/08": "invalid_day"} {
			if r := e.do(a.member, "POST", "/api/v1/me/checkin/makeup", map[string]any{"day": day}); r.code() != want || r.status >= 500 {
				t.Fatalf("make-up %s: %d %s, want %s", day, r.status, r.body, want)
			}
		}
		if r := e.must(a.member, 200, "POST", "/api/v1/me/checkin/makeup", map[string]any{"day": "2026-12-08"}); r["streak"] != 4.0 || r["cards"] != 1.0 {
			t.Fatalf("make-up: %v", r)
		}
		cal := e.must(a.member, 200, "GET", "/api/v1/me/checkin?month=2026-12", nil)
		if cal["streak"] != 4.0 || cal["checked_in_today"] != true || len(cal["days"].([]any)) != 4 || cal["cards"] != 1.0 {
			t.Fatalf("calendar: %v", cal)
		}
		if r := e.do(a.member, "GET", "/api/v1/me/checkin?month=13-2026", nil); r.status != 400 || r.code() != "invalid_month" {
			t.Fatalf("bad month: %d %s", r.status, r.body)
		}
		// Each check-in earned its daily point in the points ledger; the make-up earned none.
		if p := e.must(a.member, 200, "GET", "/api/v1/me/points", nil); p["balance"] != 3.0 || p["earned"] != 3.0 {
			t.Fatalf("points: %v", p)
		}
		staff := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%d/checkin", a.memberID), nil)
		if staff["calendar"].(map[string]any)["total_days"] != 4.0 || len(staff["card_ledger"].([]any)) != 2 {
			t.Fatalf("staff view: %v", staff)
		}
		if r := e.do(a.owner, "PUT", "/admin/api/v1/checkin/rules", map[string]any{"rewards": []map[string]any{{"day": 3, "points": 1}, {"day": 3, "points": 2}}}); r.status != 400 || r.code() != "reward_day_duplicate" {
			t.Fatalf("overlapping days: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "PUT", "/admin/api/v1/checkin/rules", map[string]any{"daily_points": 2})
		vs := e.must(a.owner, 200, "GET", "/admin/api/v1/checkin/rules/versions?limit=1", nil)
		if items := vs["items"].([]any); len(items) != 1 || items[0].(map[string]any)["version"] != 2.0 || vs["next_cursor"] == nil {
			t.Fatalf("versions: %v", vs)
		}
		if r := e.must(a.owner, 200, "GET", "/admin/api/v1/checkin/rules", nil); r["version"] != 2.0 {
			t.Fatalf("rules: %v", r)
		}
		next := e.must(a.owner, 200, "GET", "/admin/api/v1/checkin/rules/versions?limit=1&cursor="+vs["next_cursor"].(string), nil)
		if items := next["items"].([]any); len(items) != 1 || items[0].(map[string]any)["version"] != 1.0 || next["next_cursor"] != nil {
			t.Fatalf("the second page of versions: %v", next)
		}

		// Customer service sees a member's check-ins but changes neither
		// the rules nor the cards.
		e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "service_" + a.appid, "password": "service-pass-1", "role": "service"})
		service := e.staffLogin("service_"+a.appid, "service-pass-1")
		e.must(service, 200, "GET", fmt.Sprintf("/admin/api/v1/members/%d/checkin", a.memberID), nil)
		if r := e.do(service, "PUT", "/admin/api/v1/checkin/rules", map[string]any{"daily_points": 100}); r.status != 403 {
			t.Fatalf("service saved rules: %d %s", r.status, r.body)
		}
		if r := e.keyed().do(service, "POST", grant, map[string]any{"count": 5, "reason": "x"}); r.status != 403 {
			t.Fatalf("service granted cards: %d %s", r.status, r.body)
		}
	})
}

// TestCheckinAtMidnightCountsOnce: one buyer in many tabs at once.
func TestCheckinAtMidnightCountsOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "午", "enterprise")
		e.must(a.owner, 200, "PUT", "/admin/api/v1/checkin/rules", map[string]any{"daily_points": 5})
		var wg sync.WaitGroup
		firsts := make(chan bool, 20)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do(a.member, "POST", "/api/v1/me/checkin", nil)
				if r.status != 200 {
					t.Errorf("%d %s", r.status, r.body)
					return
				}
				firsts <- r.json(t)["already_checked_in"] == false
			}()
		}
		wg.Wait()
		close(firsts)
		n := 0
		for first := range firsts {
			if first {
				n++
			}
		}
		var rows int
		if err := e.srv.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM checkins WHERE member_id = ?`, a.memberID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if n != 1 || rows != 1 {
			t.Fatalf("%d first answers, %d rows", n, rows)
		}
		if p := e.must(a.member, 200, "GET", "/api/v1/me/points", nil); p["balance"] != 5.0 {
			t.Fatalf("points after one check-in in 20 tabs: %v", p)
		}
	})
}
