package camp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// snapshot is every camp table's content, to show a refused request
// changed nothing.
func snapshot(t *testing.T, d *db.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, title, intro, price_fen, start_day, days, capacity, enrolled, makeups, status, version FROM camps ORDER BY id`,
		`SELECT camp_id, day, title, body, lesson_id FROM camp_tasks ORDER BY camp_id, day`,
		`SELECT id, member_id, makeups_left, days_done, last_checkin_at FROM camp_enrolments ORDER BY id`,
		`SELECT id, member_id, day, text, images, status, made_up, reviewed_by FROM camp_checkins ORDER BY id`,
	} {
		rows, err := d.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

// TestRoutesEndToEnd: staff create and edit a camp, a learner joins,
// checks in, reads their camp and the feed, staff see the learners.
func TestRoutesEndToEnd(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		staff := f.staff(f.shopA, auth.RoleOperations)
		w := staff.do(t, "POST", "/admin/api/v1/camps", input("2026-12-07", 3))
		wantStatus(t, w, http.StatusCreated, "")
		c := decode[Camp](t, w)
		if len(c.Tasks) != 3 || c.EndDate != "2026-12-09" || c.Status != Open {
			t.Fatalf("created: %+v", c)
		}
		id := fmt.Sprint(c.ID)
		wantStatus(t, f.staff(f.shopA, auth.RoleFinance).do(t, "GET", "/admin/api/v1/camps", nil), http.StatusForbidden, "permission_denied")
		wantStatus(t, f.staff(f.shopA, auth.RoleService).do(t, "PUT", "/admin/api/v1/camps/"+id, input("2026-12-07", 3)), http.StatusForbidden, "permission_denied")
		if p := decode[httpx.Page[Camp]](t, staff.do(t, "GET", "/admin/api/v1/camps?status=open", nil)); len(p.Items) != 1 {
			t.Fatalf("list: %+v", p)
		}
		if p := decode[httpx.Page[BuyerCamp]](t, f.public(f.shopA).do(t, "GET", "/api/v1/camps", nil)); len(p.Items) != 1 {
			t.Fatalf("public list: %+v", p)
		}
		pub := decode[BuyerCamp](t, f.public(f.shopA).do(t, "GET", "/api/v1/camps/"+id, nil))
		if len(pub.Schedule) != 3 || pub.Schedule[2].Date != "2026-12-09" || pub.SeatsLeft != nil {
			t.Fatalf("public camp: %+v", pub)
		}
		me := f.member(f.shopA, f.a1)
		wantStatus(t, me.do(t, "GET", "/api/v1/me/camps/"+id, nil), http.StatusForbidden, "not_enrolled")
		wantStatus(t, me.do(t, "POST", "/api/v1/camps/"+id+"/join", nil), http.StatusOK, "")
		if e := decode[Enrolment](t, me.do(t, "POST", "/api/v1/camps/"+id+"/join", nil)); !e.AlreadyJoined {
			t.Fatalf("joined twice: %+v", e)
		}
		w = me.do(t, "POST", "/api/v1/me/camps/"+id+"/checkins", CheckinInput{Day: 1, Text: "打卡"})
		wantStatus(t, w, http.StatusOK, "")
		wantStatus(t, me.do(t, "POST", "/api/v1/me/camps/"+id+"/checkins", CheckinInput{Day: 2, Text: "打卡"}), http.StatusConflict, "day_not_open")
		wantStatus(t, me.do(t, "POST", "/api/v1/me/camps/"+id+"/checkins", `{"day":1,"text":"再来一次"}`), http.StatusOK, "") // answers the first
		wantStatus(t, me.do(t, "DELETE", "/api/v1/camps/"+id+"/join", nil), http.StatusConflict, "camp_started")
		mine := decode[MyCamp](t, me.do(t, "GET", "/api/v1/me/camps/"+id, nil))
		if mine.Days[0].Status != DayDone || mine.Days[1].Status != DayLocked || mine.Streak != 1 {
			t.Fatalf("mine: %+v", mine)
		}
		feed := decode[httpx.Page[FeedItem]](t, me.do(t, "GET", "/api/v1/camps/"+id+"/checkins?day=1", nil))
		if len(feed.Items) != 1 || !feed.Items[0].Mine {
			t.Fatalf("feed: %+v", feed)
		}
		ls := decode[httpx.Page[Learner]](t, staff.do(t, "GET", "/admin/api/v1/camps/"+id+"/learners", nil))
		if len(ls.Items) != 1 || ls.Items[0].MemberID != f.a1 || ls.Items[0].DaysDone != 1 {
			t.Fatalf("learners: %+v", ls)
		}
		cs := decode[httpx.Page[StaffCheckin]](t, staff.do(t, "GET", "/admin/api/v1/camps/"+id+"/checkins?day=1", nil))
		if len(cs.Items) != 1 {
			t.Fatalf("check-ins: %+v", cs)
		}
		w = staff.do(t, "POST", fmt.Sprintf("/admin/api/v1/camp-checkins/%d/reject", cs.Items[0].ID), nil)
		wantStatus(t, w, http.StatusOK, "")
		wantStatus(t, staff.do(t, "POST", fmt.Sprintf("/admin/api/v1/camp-checkins/%d/approve", cs.Items[0].ID), nil),
			http.StatusConflict, "checkin_already_rejected")
	})
}

// TestBuyerAnswersCarryNoStaffFields: the buyers' JSON names no member id,
// reviewer or staff-only field.
func TestBuyerAnswersCarryNoStaffFields(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		c := f.camp(t, f.shopA, input("2026-12-07", 2))
		id := fmt.Sprint(c.ID)
		f.join(t, f.shopA, f.a1, c.ID)
		f.join(t, f.shopA, f.a2, c.ID)
		must[CheckinResult](t)(f.checkIn(f.shopA, f.a2, c.ID, 1, text))
		me := f.member(f.shopA, f.a1)
		for _, path := range []string{"/api/v1/camps", "/api/v1/camps/" + id, "/api/v1/me/camps/" + id, "/api/v1/camps/" + id + "/checkins"} {
			w := me.do(t, "GET", path, nil)
			wantStatus(t, w, http.StatusOK, "")
			for _, field := range []string{"member_id", "reviewed_by", "version", "capacity", "makeups\"", "via"} {
				if strings.Contains(w.Body.String(), `"`+field) {
					t.Fatalf("%s shows %s: %s", path, field, w.Body.String())
				}
			}
		}
	})
}

// TestShopsAreIsolated: another shop's staff and members can neither read
// nor change a camp, its learners or its check-ins.
func TestShopsAreIsolated(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		c := f.camp(t, f.shopA, input("2026-12-07", 3))
		f.join(t, f.shopA, f.a1, c.ID)
		res := must[CheckinResult](t)(f.checkIn(f.shopA, f.a1, c.ID, 1, CheckinInput{Text: "待审"}))
		id, cid := fmt.Sprint(c.ID), fmt.Sprint(res.Checkin.ID)
		before := snapshot(t, d)
		staffB := f.staff(f.shopB, auth.RoleOwner)
		memberB := f.member(f.shopB, f.b1)
		for _, r := range []struct {
			who          caller
			method, path string
			body         any
		}{
			{staffB, "GET", "/admin/api/v1/camps/" + id, nil},
			{staffB, "PUT", "/admin/api/v1/camps/" + id, input("2026-12-07", 3)},
			{staffB, "GET", "/admin/api/v1/camps/" + id + "/learners", nil},
			{staffB, "GET", "/admin/api/v1/camps/" + id + "/checkins", nil},
			{staffB, "POST", "/admin/api/v1/camp-checkins/" + cid + "/approve", nil},
			{staffB, "POST", "/admin/api/v1/camp-checkins/" + cid + "/reject", nil},
			{f.public(f.shopB), "GET", "/api/v1/camps/" + id, nil},
			{memberB, "POST", "/api/v1/camps/" + id + "/join", nil},
			{memberB, "DELETE", "/api/v1/camps/" + id + "/join", nil},
			{memberB, "GET", "/api/v1/me/camps/" + id, nil},
			{memberB, "POST", "/api/v1/me/camps/" + id + "/checkins", CheckinInput{Day: 1, Text: "乙"}},
			{memberB, "GET", "/api/v1/camps/" + id + "/checkins?day=1", nil},
		} {
			w := r.who.do(t, r.method, r.path, r.body)
			wantStatus(t, w, http.StatusNotFound, "")
		}
		if p := decode[httpx.Page[Camp]](t, staffB.do(t, "GET", "/admin/api/v1/camps", nil)); len(p.Items) != 0 {
			t.Fatalf("shop B lists A's camps: %+v", p)
		}
		if p := decode[httpx.Page[BuyerCamp]](t, f.public(f.shopB).do(t, "GET", "/api/v1/camps", nil)); len(p.Items) != 0 {
			t.Fatalf("shop B's buyers see A's camps: %+v", p)
		}
		if after := snapshot(t, d); after != before {
			t.Fatalf("a refused request changed:\n%s\n%s", before, after)
		}
	})
}

// TestBadInputGets4xx: malformed or out-of-range input answers 4xx with a
// stable code and changes nothing.
func TestBadInputGets4xx(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		in := input("2026-12-05", 4) // today is day 3
		in.Makeups = 1
		c := f.camp(t, f.shopA, in)
		f.join(t, f.shopA, f.a1, c.ID)
		id := fmt.Sprint(c.ID)
		staff := f.staff(f.shopA, auth.RoleOwner)
		me := f.member(f.shopA, f.a1)
		neg := input("2026-12-07", 3)
		neg.PriceFen = -1
		long := input("2026-12-07", 3)
		long.Title = strings.Repeat("长", 61)
		many := input("2026-12-07", 367)
		tooMany := input("2026-12-07", 2)
		tooMany.Makeups = 3
		before := snapshot(t, d)
		checkin := "/api/v1/me/camps/" + id + "/checkins"
		day2 := CheckinInput{Day: 2, Text: "打卡"}
		for i, r := range []struct {
			who          caller
			method, path string
			body         any
			status       int
			code         string
		}{
			{staff, "POST", "/admin/api/v1/camps", `{"title":`, 400, "malformed_json"},
			{staff, "POST", "/admin/api/v1/camps", `{"title":5}`, 400, "invalid_type"},
			{staff, "POST", "/admin/api/v1/camps", `{"titel":"x"}`, 400, "unknown_field"},
			{staff, "POST", "/admin/api/v1/camps", `[]`, 400, "invalid_type"},
			{staff, "POST", "/admin/api/v1/camps", "", 400, "empty_body"},
			{staff, "POST", "/admin/api/v1/camps", neg, 400, "invalid_fields"},
			{staff, "POST", "/admin/api/v1/camps", long, 400, "invalid_fields"},
			{staff, "POST", "/admin/api/v1/camps", many, 400, "invalid_fields"},
			{staff, "POST", "/admin/api/v1/camps", tooMany, 400, "invalid_fields"},
			{staff, "POST", "/admin/api/v1/camps", input("2026-02-30", 3), 400, "invalid_fields"},
			{staff, "POST", "/admin/api/v1/camps", input("1999-01-01", 3), 400, "invalid_fields"},
			{staff, "POST", "/admin/api/v1/camps", `{"title":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "body_too_large"},
			{staff, "PUT", "/admin/api/v1/camps/abc", input("2026-12-07", 3), 400, "invalid_id"},
			{staff, "PUT", "/admin/api/v1/camps/-1", input("2026-12-07", 3), 400, "invalid_id"},
			{staff, "PUT", "/admin/api/v1/camps/99999", input("2026-12-07", 3), 404, "camp_not_found"},
			{staff, "GET", "/admin/api/v1/camps?status=gone", nil, 400, "invalid_query"},
			{staff, "GET", "/admin/api/v1/camps?limit=0", nil, 400, "invalid_query"},
			{staff, "GET", "/admin/api/v1/camps?cursor=zzz", nil, 400, "invalid_cursor"},
			{staff, "GET", "/admin/api/v1/camps/" + id + "/learners?cursor=abc", nil, 400, "invalid_cursor"},
			{staff, "GET", "/admin/api/v1/camps/" + id + "/checkins?day=0", nil, 400, "invalid_query"},
			{staff, "GET", "/admin/api/v1/camps/" + id + "/checkins?status=x", nil, 400, "invalid_query"},
			{staff, "POST", "/admin/api/v1/camp-checkins/99999/approve", nil, 404, "checkin_not_found"},
			{me, "POST", "/api/v1/camps/99999/join", nil, 404, "camp_not_found"},
			{me, "POST", checkin, CheckinInput{Day: 4, Text: "早"}, 409, "day_not_open"},
			{me, "POST", checkin, CheckinInput{Day: 5, Text: "早"}, 400, "day_out_of_range"},
			{me, "POST", checkin, CheckinInput{Text: "早"}, 400, "day_out_of_range"},
			{me, "POST", checkin, CheckinInput{Day: -1, Text: "早"}, 400, "day_out_of_range"},
			{me, "POST", checkin, `{"day":"2","text":"a"}`, 400, "invalid_type"},
			{me, "POST", checkin, `{"day":99999999999999999999,"text":"a"}`, 400, "invalid_type"},
			{me, "POST", checkin, `{"day":1.5,"text":"a"}`, 400, "invalid_type"},
			{me, "POST", "/api/v1/me/camps/99999/checkins", day2, 404, "camp_not_found"},
			{me, "POST", "/api/v1/me/camps/x/checkins", day2, 400, "invalid_id"},
			{me, "POST", checkin, `{"day":2}`, 400, "invalid_fields"},
			{me, "POST", checkin, `{"day":2,"text":"   "}`, 400, "invalid_fields"},
			{me, "POST", checkin, `{"day":2,"text":1}`, 400, "invalid_type"},
			{me, "POST", checkin, `{"day":2,"text":"a","images":"x"}`, 400, "invalid_type"},
			{me, "POST", checkin, `{"day":2,"text":"a","member_id":1}`, 400, "unknown_field"},
			{me, "POST", checkin, `{"day":2,"text":"a\u0000"}`, 400, ""},
			{me, "POST", checkin, CheckinInput{Day: 2, Text: strings.Repeat("字", 2001)}, 400, "invalid_fields"},
			{me, "POST", checkin, CheckinInput{Day: 2, Images: []string{fmt.Sprintf("shop/%d/a.jpg", f.shopB)}}, 400, "invalid_fields"},
			{me, "POST", checkin, CheckinInput{Day: 2, Images: []string{fmt.Sprintf("shop/%d/../x.jpg", f.shopA)}}, 400, "invalid_fields"},
			{me, "POST", checkin, CheckinInput{Day: 2, Images: make([]string, 10)}, 400, "invalid_fields"},
			{me, "POST", checkin, CheckinInput{Day: 2, Text: "违禁"}, 422, "content_blocked"},
			{me, "POST", checkin, `{"day":2,"text":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "body_too_large"},
			{me, "GET", "/api/v1/camps/" + id + "/checkins?day=5", nil, 400, "day_out_of_range"},
			{me, "GET", "/api/v1/camps/" + id + "/checkins?day=0", nil, 400, "invalid_query"},
			{me, "GET", "/api/v1/camps/" + id + "/checkins?day=x", nil, 400, "invalid_query"},
			{f.member(f.shopA, f.a2), "POST", checkin, day2, 403, "not_enrolled"},
			{me, "DELETE", "/api/v1/camps/" + id + "/join", nil, 409, "camp_started"},
		} {
			w := r.who.do(t, r.method, r.path, r.body)
			if w.Code != r.status {
				t.Fatalf("case %d %s %s: status %d, want %d: %s", i, r.method, r.path, w.Code, r.status, w.Body.String())
			}
			if got := decode[httpx.ErrorBody](t, w).Code; got == "" || (r.code != "" && got != r.code) {
				t.Fatalf("case %d %s %s: code %q, want %q", i, r.method, r.path, got, r.code)
			}
		}
		if after := snapshot(t, d); after != before {
			t.Fatalf("bad input changed:\n%s\n%s", before, after)
		}
		// Day 1 with the one make-up: then none is left for day 2.
		wantStatus(t, me.do(t, "POST", checkin, CheckinInput{Day: 1, Text: "早"}), http.StatusOK, "")
		before = snapshot(t, d)
		wantStatus(t, me.do(t, "POST", checkin, day2), http.StatusConflict, "no_makeups_left")
		if after := snapshot(t, d); after != before {
			t.Fatalf("a refused make-up changed:\n%s\n%s", before, after)
		}
	})
}

// TestRoutesAreDocumented: every camp route is in the OpenAPI document
// with its own error codes.
func TestRoutesAreDocumented(t *testing.T) {
	f := &fixture{svc: NewService(nil, nil, nil)}
	_, api := f.mux()
	doc := api.OpenAPI("kaidian", "test")
	paths := doc["paths"].(map[string]map[string]any)
	for _, rt := range api.Routes() {
		op, ok := paths[rt.Path][strings.ToLower(rt.Method)].(map[string]any)
		if !ok {
			t.Fatalf("%s %s is not documented", rt.Method, rt.Path)
		}
		if !strings.HasPrefix(rt.Path, "/api/v1/") && rt.Perm == "" {
			t.Fatalf("%s %s has no permission", rt.Method, rt.Path)
		}
		if op["responses"] == nil {
			t.Fatalf("%s %s has no responses", rt.Method, rt.Path)
		}
	}
	if n := len(api.Routes()); n != 15 {
		t.Fatalf("%d routes", n)
	}
}
