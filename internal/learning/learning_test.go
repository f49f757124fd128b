package learning

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/image/font/gofont/goregular"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// fakeLessons stands in for internal/content: lessons and course titles
// of each shop, and a set of locked (member, lesson) pairs.
type fakeLessons struct {
	mu      sync.Mutex
	lessons map[int64]LessonInfo
	order   map[int64][]int64 // course -> published lessons in order
	titles  map[int64]string
	shopOf  map[int64]int64 // course -> shop
	locked  map[[2]int64]bool
}

var errLessonNotFound = errs.E(errs.NotFound, "content_lesson_missing", "no such lesson")

func (f *fakeLessons) Lesson(_ context.Context, shopID, id int64) (LessonInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.lessons[id]
	if !ok || l.ShopID != shopID {
		return LessonInfo{}, errLessonNotFound
	}
	return l, nil
}

func (f *fakeLessons) CourseLessons(_ context.Context, shopID, courseID int64) ([]LessonInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shopOf[courseID] != shopID {
		return []LessonInfo{}, nil
	}
	var out []LessonInfo
	for _, id := range f.order[courseID] {
		out = append(out, f.lessons[id])
	}
	return out, nil
}

func (f *fakeLessons) CourseTitle(_ context.Context, shopID, courseID int64) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shopOf[courseID] != shopID {
		return "", errs.E(errs.NotFound, "course_not_found", "no such course")
	}
	return f.titles[courseID], nil
}

func (f *fakeLessons) CanAccess(_ context.Context, shopID, memberID, lessonID int64) (Access, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Access{Allowed: !f.locked[[2]int64{memberID, lessonID}], Via: "course"}, nil
}

func (f *fakeLessons) addCourse(shopID, courseID int64, title string, lessons ...LessonInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.titles[courseID], f.shopOf[courseID] = title, shopID
	for _, l := range lessons {
		l.ShopID, l.CourseID = shopID, courseID
		f.lessons[l.ID] = l
		f.order[courseID] = append(f.order[courseID], l.ID)
	}
}

type env struct {
	t            *testing.T
	d            *db.DB
	svc          *Service
	lessons      *fakeLessons
	mux          *http.ServeMux
	shopA, shopB int64
	a1, a2, b1   int64
	completions  atomic.Int64
	hookFails    atomic.Bool
}

const (
	courseA, courseA2, courseB = 100, 101, 200
	video, audio, article      = 1001, 1002, 1003 // course A
	other                      = 1101             // course A2
	videoB                     = 2001             // course B (shop B)
)

func newEnv(t *testing.T, d *db.DB) *env {
	e := &env{t: t, d: d, lessons: &fakeLessons{lessons: map[int64]LessonInfo{}, order: map[int64][]int64{},
		titles: map[int64]string{}, shopOf: map[int64]int64{}, locked: map[[2]int64]bool{}}}
	e.shopA, e.shopB = db.TestShop(t, d, "wx00000000000000a1"), db.TestShop(t, d, "wx00000000000000b1")
	e.a1, e.a2, e.b1 = db.TestMember(t, d, e.shopA, "a1"), db.TestMember(t, d, e.shopA, "a2"), db.TestMember(t, d, e.shopB, "b1")
	if _, err := d.Exec(context.Background(), `UPDATE members SET nickname = ? WHERE id = ?`, "张三 Zoe", e.a1); err != nil {
		t.Fatal(err)
	}
	e.lessons.addCourse(e.shopA, courseA, "Go 入门",
		LessonInfo{ID: video, Kind: Video, Title: "one", DurationSec: 100},
		LessonInfo{ID: audio, Kind: Audio, Title: "two", DurationSec: 50},
		LessonInfo{ID: article, Kind: Article, Title: "three"})
	e.lessons.addCourse(e.shopA, courseA2, "Second", LessonInfo{ID: other, Kind: Video, Title: "other", DurationSec: 60})
	e.lessons.addCourse(e.shopB, courseB, "B's", LessonInfo{ID: videoB, Kind: Video, Title: "b", DurationSec: 60})
	e.svc = NewService(d, e.lessons, nil)
	var tick atomic.Int64
	start := time.Date(2026, 12, 7, 15, 30, 0, 0, time.UTC) // 23:30 in China: the date printed is the 7th
	e.svc.SetClock(func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Millisecond) })
	e.svc.OnCourseCompleted(func(ctx context.Context, tx *db.Tx, shopID, memberID, courseID int64) error {
		if tx == nil || shopID == 0 || memberID == 0 || courseID == 0 {
			return fmt.Errorf("bad hook call %v %d %d %d", tx, shopID, memberID, courseID)
		}
		if e.hookFails.Load() {
			return errors.New("points down")
		}
		e.completions.Add(1)
		return nil
	})
	e.mux = http.NewServeMux()
	(&Handlers{Svc: e.svc}).Routes(httpx.NewAPI(e.mux, testGuards()))
	return e
}

// testGuards put the caller in the context as the server's guards do: a
// member from X-Test-Member (shop:member), staff from X-Test-Staff (shop),
// the mini program's shop from X-Test-Shop.
func testGuards() httpx.Guards {
	unauth := errs.E(errs.Unauthenticated, "unauthenticated", "log in")
	return httpx.Guards{
		Member: func(r *http.Request) (*http.Request, error) {
			shop, id, ok := strings.Cut(r.Header.Get("X-Test-Member"), ":")
			if !ok {
				return r, unauth
			}
			s, _ := strconv.ParseInt(shop, 10, 64)
			m, _ := strconv.ParseInt(id, 10, 64)
			return r.WithContext(auth.WithMember(r.Context(), auth.Member{ID: m, ShopID: s})), nil
		},
		Staff: func(r *http.Request, p auth.Permission) (*http.Request, error) {
			s, err := strconv.ParseInt(r.Header.Get("X-Test-Staff"), 10, 64)
			if err != nil {
				return r, unauth
			}
			st := auth.Staff{AccountID: 9, ShopID: s, Role: auth.RoleOperations}
			if !st.Role.Can(p) {
				return r, errs.E(errs.Forbidden, "permission_denied", "no")
			}
			return r.WithContext(auth.WithStaff(r.Context(), st)), nil
		},
		Shop: func(r *http.Request) (*http.Request, error) {
			s, err := strconv.ParseInt(r.Header.Get("X-Test-Shop"), 10, 64)
			if err != nil {
				return r, errs.E(errs.Invalid, "appid_required", "appid")
			}
			return r.WithContext(auth.WithShop(r.Context(), s)), nil
		},
	}
}

type resp struct {
	*httptest.ResponseRecorder
}

func (r resp) code() string {
	var b struct{ Code string }
	_ = json.Unmarshal(r.Body.Bytes(), &b)
	return b.Code
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if r.Code >= 300 {
		t.Fatalf("status %d: %s", r.Code, r.Body)
	}
	// Into a zero value: a field the answer omits must not keep an old value.
	rv := reflect.ValueOf(v).Elem()
	rv.Set(reflect.Zero(rv.Type()))
	if err := json.Unmarshal(r.Body.Bytes(), v); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
}

// do sends a request as who: "m:<shop>:<member>", "s:<shop>" or "shop:<shop>".
func (e *env) do(who, method, path, body string) resp {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	kind, rest, _ := strings.Cut(who, ":")
	switch kind {
	case "m":
		req.Header.Set("X-Test-Member", rest)
	case "s":
		req.Header.Set("X-Test-Staff", rest)
	case "shop":
		req.Header.Set("X-Test-Shop", rest)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return resp{rec}
}

func (e *env) as(shop, member int64) string { return fmt.Sprintf("m:%d:%d", shop, member) }

func (e *env) put(who string, lesson int64, body string) resp {
	return e.do(who, "PUT", fmt.Sprintf("/api/v1/me/lessons/%d/progress", lesson), body)
}

func (e *env) course(who string, course int64) CourseProgress {
	var p CourseProgress
	e.do(who, "GET", fmt.Sprintf("/api/v1/me/courses/%d/progress", course), "").decode(e.t, &p)
	return p
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestProgressMovesBothWaysAndFurthestOnlyForward(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		me := e.as(e.shopA, e.a1)
		var r Recorded
		e.put(me, video, `{"position_sec": 30}`).decode(t, &r)
		if r.Lesson.PositionSec != 30 || r.Lesson.FurthestSec != 30 || r.Lesson.Completed || r.Course.Percent != 0 {
			t.Fatalf("after 30: %+v", r)
		}
		e.put(me, video, `{"position_sec": 10}`).decode(t, &r)
		if r.Lesson.PositionSec != 10 || r.Lesson.FurthestSec != 30 {
			t.Fatalf("backwards: %+v", r.Lesson)
		}
		e.put(me, video, `{"position_sec": 89}`).decode(t, &r)
		if r.Lesson.Completed {
			t.Fatalf("89 %% completed the lesson: %+v", r.Lesson)
		}
		e.put(me, video, `{"position_sec": 90}`).decode(t, &r)
		if !r.Lesson.Completed || r.Course.LessonsCompleted != 1 || r.Course.Percent != 33 {
			t.Fatalf("90 %%: %+v", r)
		}
		e.put(me, video, `{"position_sec": 5}`).decode(t, &r)
		if !r.Lesson.Completed || r.Lesson.FurthestSec != 90 || r.Lesson.PositionSec != 5 {
			t.Fatalf("a completed lesson went back: %+v", r.Lesson)
		}
		e.put(me, article, `{"read": true}`).decode(t, &r)
		if !r.Lesson.Read || !r.Lesson.Completed || r.Course.Percent != 66 || r.Course.Completed {
			t.Fatalf("article: %+v", r)
		}
		p := e.course(me, courseA)
		if p.LessonsTotal != 3 || p.LessonsCompleted != 2 || p.Percent != 66 || len(p.Lessons) != 3 ||
			p.Lessons[0].FurthestSec != 90 || p.Lessons[1].UpdatedAt != nil || p.Continue == nil || p.Continue.LessonID != article {
			t.Fatalf("course progress: %+v", p)
		}
		// Another member's progress is their own.
		if q := e.course(e.as(e.shopA, e.a2), courseA); q.LessonsCompleted != 0 || q.Continue != nil {
			t.Fatalf("a2 sees a1's progress: %+v", q)
		}
	})
}

func TestBadProgressIs4xxAndChangesNothing(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		me := e.as(e.shopA, e.a1)
		if r := e.put(me, video, `{"position_sec": 40}`); r.Code != 200 {
			t.Fatalf("%d %s", r.Code, r.Body)
		}
		e.lessons.locked[[2]int64{e.a1, audio}] = true
		cases := []struct {
			lesson int64
			body   string
			status int
			code   string
		}{
			{video, `{"position_sec": 101}`, 400, "position_beyond_length"},
			{video, `{"position_sec": -1}`, 400, "invalid_position"},
			{video, `{"read": true}`, 400, "progress_kind_mismatch"},
			{video, `{}`, 400, "progress_kind_mismatch"},
			{article, `{"position_sec": 1}`, 400, "progress_kind_mismatch"},
			{article, `{"read": false}`, 400, "progress_kind_mismatch"},
			{video, `{"position_sec": "ten"}`, 400, "invalid_type"},
			{video, `{"position_sec": 1e99}`, 400, "invalid_type"},
			{video, `{"position_sec": 3`, 400, "malformed_json"},
			{video, `{"position": 3}`, 400, "unknown_field"},
			{video, `{"position_sec": 3, "position_sec": 4}`, 400, ""},
			{video, `{"position_sec": 3}{}`, 400, "malformed_json"},
			{video, `{"position_sec": 3, "x": "` + strings.Repeat("a", 2<<20) + `"}`, 413, "body_too_large"},
			{9999, `{"position_sec": 3}`, 404, "lesson_not_found"},
			{videoB, `{"position_sec": 3}`, 404, "lesson_not_found"}, // shop B's lesson
			{audio, `{"position_sec": 3}`, 403, "lesson_locked"},
		}
		for _, c := range cases {
			r := e.put(me, c.lesson, c.body)
			if r.Code != c.status || (c.code != "" && r.code() != c.code) {
				t.Errorf("%d %.60s: got %d %s, want %d %s", c.lesson, c.body, r.Code, r.code(), c.status, c.code)
			}
		}
		for _, path := range []string{"/api/v1/me/lessons/abc/progress", "/api/v1/me/lessons/-3/progress", "/api/v1/me/lessons/99999999999999999999/progress"} {
			if r := e.do(me, "PUT", path, `{"position_sec": 3}`); r.Code != 400 || r.code() != "invalid_id" {
				t.Errorf("%s: %d %s", path, r.Code, r.Body)
			}
		}
		if r := e.do("", "PUT", "/api/v1/me/lessons/1001/progress", `{"position_sec": 3}`); r.Code != 401 {
			t.Errorf("no session: %d", r.Code)
		}
		p := e.course(me, courseA)
		if p.Lessons[0].PositionSec != 40 || p.Lessons[0].FurthestSec != 40 || p.Lessons[1].UpdatedAt != nil {
			t.Fatalf("bad input changed progress: %+v", p.Lessons)
		}
		if n := e.count(`SELECT COUNT(*) FROM learning_progress`); n != 1 {
			t.Fatalf("%d progress rows", n)
		}
		for _, path := range []string{"/api/v1/me/courses/abc/progress", "/api/v1/me/courses/0/certificate.png", "/api/v1/me/learning/continue?cursor=zz", "/api/v1/me/learning/continue?limit=1000"} {
			if r := e.do(me, "GET", path, ""); r.Code != 400 {
				t.Errorf("%s: %d %s", path, r.Code, r.Body)
			}
		}
		if r := e.do(me, "GET", "/api/v1/me/courses/424242/progress", ""); r.Code != 404 || r.code() != "course_not_found" {
			t.Errorf("unknown course: %d %s", r.Code, r.Body)
		}
		if r := e.do(e.as(e.shopA, e.a2), "PUT", "/api/v1/me/lessons/1001/progress", `{"position_sec": 200}`); r.Code != 400 {
			t.Errorf("beyond length: %d", r.Code)
		}
	})
}

// completeAll reports each lesson of course A complete.
func (e *env) completeAll(who string) []Recorded {
	var out []Recorded
	for _, b := range []struct {
		l    int64
		body string
	}{{video, `{"position_sec": 100}`}, {audio, `{"position_sec": 45}`}, {article, `{"read": true}`}} {
		var r Recorded
		e.put(who, b.l, b.body).decode(e.t, &r)
		out = append(out, r)
	}
	return out
}

func TestCourseCompletionFiresOnceUnderConcurrency(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		me := e.as(e.shopA, e.a1)
		var wg sync.WaitGroup
		var now atomic.Int64
		bodies := map[int64]string{video: `{"position_sec": 95}`, audio: `{"position_sec": 50}`, article: `{"read": true}`}
		for i := 0; i < 24; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				for _, l := range []int64{video, audio, article} {
					lesson := []int64{video, audio, article}[(int(l)+i)%3]
					r := e.put(me, lesson, bodies[lesson])
					if r.Code != 200 {
						t.Errorf("%d: %d %s", lesson, r.Code, r.Body)
						return
					}
					var rec Recorded
					r.decode(t, &rec)
					if rec.CourseCompletedNow {
						now.Add(1)
					}
				}
			}(i)
		}
		wg.Wait()
		if got := e.completions.Load(); got != 1 {
			t.Fatalf("hook ran %d times", got)
		}
		if now.Load() != 1 {
			t.Fatalf("%d reports said they completed the course", now.Load())
		}
		if n := e.count(`SELECT COUNT(*) FROM learning_certificates WHERE member_id = ?`, e.a1); n != 1 {
			t.Fatalf("%d certificates", n)
		}
		p := e.course(me, courseA)
		if !p.Completed || p.Percent != 100 || p.CertificateCode == "" || p.CompletedAt == nil {
			t.Fatalf("course: %+v", p.CourseSummary)
		}
		// Later reports do not complete it again.
		e.completeAll(me)
		if e.completions.Load() != 1 {
			t.Fatal("completed twice")
		}
	})
}

func TestFailingHookUndoesTheCompletingReport(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		me := e.as(e.shopA, e.a1)
		e.put(me, video, `{"position_sec": 100}`)
		e.put(me, audio, `{"position_sec": 50}`)
		e.hookFails.Store(true)
		if r := e.put(me, article, `{"read": true}`); r.Code != 500 {
			t.Fatalf("%d %s", r.Code, r.Body)
		}
		if n := e.count(`SELECT COUNT(*) FROM learning_progress WHERE lesson_id = ?`, article); n != 0 {
			t.Fatal("the failed report was kept")
		}
		e.hookFails.Store(false)
		var r Recorded
		e.put(me, article, `{"read": true}`).decode(t, &r)
		if !r.CourseCompletedNow || e.completions.Load() != 1 {
			t.Fatalf("%+v %d", r, e.completions.Load())
		}
	})
}

func TestContinueWhereILeftOff(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		me := e.as(e.shopA, e.a1)
		var page httpx.Page[ContinueItem]
		e.do(me, "GET", "/api/v1/me/learning/continue", "").decode(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("before learning: %+v", page)
		}
		e.put(me, video, `{"position_sec": 20}`)
		e.put(me, other, `{"position_sec": 7}`)
		e.put(me, audio, `{"position_sec": 12}`)
		e.do(me, "GET", "/api/v1/me/learning/continue", "").decode(t, &page)
		if len(page.Items) != 2 || page.Items[0].CourseID != courseA || page.Items[0].Lesson.LessonID != audio ||
			page.Items[0].Lesson.PositionSec != 12 || page.Items[0].Lesson.Title != "two" ||
			page.Items[1].CourseID != courseA2 || page.Items[1].Lesson.PositionSec != 7 {
			t.Fatalf("continue: %+v", page.Items)
		}
		e.do(me, "GET", "/api/v1/me/learning/continue?limit=1", "").decode(t, &page)
		if len(page.Items) != 1 || page.NextCursor == "" || page.Items[0].CourseID != courseA {
			t.Fatalf("page 1: %+v", page)
		}
		e.do(me, "GET", "/api/v1/me/learning/continue?limit=1&cursor="+page.NextCursor, "").decode(t, &page)
		if len(page.Items) != 1 || page.NextCursor != "" || page.Items[0].CourseID != courseA2 {
			t.Fatalf("page 2: %+v", page)
		}
		// Shop B's member of the same number sees nothing of it.
		e.do(e.as(e.shopB, e.b1), "GET", "/api/v1/me/learning/continue", "").decode(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("b1 sees: %+v", page.Items)
		}
	})
}

func TestCertificateAndItsVerification(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		me := e.as(e.shopA, e.a1)
		if r := e.do(me, "GET", "/api/v1/me/courses/100/certificate.png", ""); r.Code != 404 || r.code() != "certificate_not_found" {
			t.Fatalf("before completing: %d %s", r.Code, r.Body)
		}
		recs := e.completeAll(me)
		code := recs[2].Course.CertificateCode
		if !recs[2].CourseCompletedNow || len(code) != 14 {
			t.Fatalf("completion: %+v", recs[2])
		}
		r := e.do(me, "GET", "/api/v1/me/courses/100/certificate.png", "")
		if r.Code != 200 || r.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("%d %s", r.Code, r.Header())
		}
		img, err := png.Decode(bytes.NewReader(r.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != certW || b.Dy() != certH {
			t.Fatalf("size %v", b)
		}
		// The name's band holds ink: the text was drawn.
		inked := 0
		for x := 0; x < certW; x++ {
			for y := 220; y < 270; y++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r>>8 < 0x80 {
					inked++
				}
			}
		}
		if inked < 200 {
			t.Fatalf("only %d dark pixels where the name goes", inked)
		}
		var v CertificateView
		e.do(fmt.Sprintf("shop:%d", e.shopA), "GET", "/api/v1/certificates/"+strings.ToLower(code), "").decode(t, &v)
		if v.Code != code || v.LearnerName != "张三 Zoe" || v.CourseTitle != "Go 入门" || v.CompletedOn != "2026-12-07" || v.CourseID != courseA {
			t.Fatalf("verify: %+v", v)
		}
		for who, path := range map[string]string{
			fmt.Sprintf("shop:%d", e.shopB): "/api/v1/certificates/" + code, // another shop's
			fmt.Sprintf("shop:%d", e.shopA): "/api/v1/certificates/AAAA-BBBB-CCCC",
		} {
			if r := e.do(who, "GET", path, ""); r.Code != 404 || r.code() != "certificate_not_found" {
				t.Errorf("%s %s: %d %s", who, path, r.Code, r.Body)
			}
		}
		if r := e.do(fmt.Sprintf("shop:%d", e.shopA), "GET", "/api/v1/certificates/"+strings.Repeat("x", 500), ""); r.Code != 404 {
			t.Errorf("long code: %d", r.Code)
		}
		// Another member, and another shop's member, have no certificate of it.
		for _, who := range []string{e.as(e.shopA, e.a2), e.as(e.shopB, e.b1)} {
			if r := e.do(who, "GET", "/api/v1/me/courses/100/certificate.png", ""); r.Code != 404 {
				t.Errorf("%s: %d", who, r.Code)
			}
		}
	})
}

func TestPrintableFallsBackToPinyin(t *testing.T) {
	s := &Service{}
	if got := s.printable("张三 Zoe"); got != "Zhang San Zoe" {
		t.Fatalf("%q", got)
	}
	if got := s.printable("Go 入门课"); got != "Go Ru Men Ke" {
		t.Fatalf("%q", got)
	}
	if got := s.printable("é😀"); got != "??" {
		t.Fatalf("%q", got)
	}
}

func TestStaffSeeTheirCoursesLearnersOnly(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		e.completeAll(e.as(e.shopA, e.a1))
		e.put(e.as(e.shopA, e.a2), video, `{"position_sec": 99}`)
		e.put(e.as(e.shopB, e.b1), videoB, `{"position_sec": 1}`)
		var page httpx.Page[Learner]
		e.do(fmt.Sprintf("s:%d", e.shopA), "GET", "/admin/api/v1/content/courses/100/learners", "").decode(t, &page)
		if len(page.Items) != 2 || page.Items[0].MemberID != e.a2 || page.Items[0].Percent != 33 || page.Items[0].CompletedAt != nil ||
			page.Items[1].MemberID != e.a1 || page.Items[1].Percent != 100 || page.Items[1].CompletedAt == nil || page.Items[1].Nickname != "张三 Zoe" {
			t.Fatalf("learners: %+v", page.Items)
		}
		e.do(fmt.Sprintf("s:%d", e.shopA), "GET", "/admin/api/v1/content/courses/100/learners?limit=1", "").decode(t, &page)
		if len(page.Items) != 1 || page.NextCursor == "" {
			t.Fatalf("%+v", page)
		}
		e.do(fmt.Sprintf("s:%d", e.shopA), "GET", "/admin/api/v1/content/courses/100/learners?limit=1&cursor="+page.NextCursor, "").decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].MemberID != e.a1 || page.NextCursor != "" {
			t.Fatalf("%+v", page)
		}
		// Shop B's staff see nothing of shop A's course; A's see nothing of B's.
		for shop, course := range map[int64]int64{e.shopB: courseA, e.shopA: courseB} {
			if r := e.do(fmt.Sprintf("s:%d", shop), "GET", fmt.Sprintf("/admin/api/v1/content/courses/%d/learners", course), ""); r.Code != 404 {
				t.Fatalf("shop %d reads another shop's course's learners: %d %s", shop, r.Code, r.Body)
			}
		}
		if r := e.do(fmt.Sprintf("s:%d", e.shopA), "GET", "/admin/api/v1/content/courses/x/learners", ""); r.Code != 400 {
			t.Fatalf("%d", r.Code)
		}
	})
}

// Two lessons completed at the same moment: each report alone sees the
// other lesson unfinished unless they take turns, and the course would
// never complete. Every member here must end with the certificate.
func TestCompletionIsNotLostWhenTheLastLessonsRace(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		const n = 12
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			m := db.TestMember(t, d, e.shopA, fmt.Sprintf("race%d", i))
			who := e.as(e.shopA, m)
			e.put(who, video, `{"position_sec": 100}`)
			for lesson, body := range map[int64]string{audio: `{"position_sec": 50}`, article: `{"read": true}`} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r := e.put(who, lesson, body); r.Code != 200 {
						t.Errorf("%d %s", r.Code, r.Body)
					}
				}()
			}
		}
		wg.Wait()
		if got := e.count(`SELECT COUNT(*) FROM learning_certificates`); got != n || e.completions.Load() != n {
			t.Fatalf("%d certificates, %d hook runs for %d members", got, e.completions.Load(), n)
		}
	})
}

// A face set with SetFace draws the certificate (Go's own font here: the
// test has no CJK font to load; server loads one from a file).
func TestCertificateWithAFaceOfItsOwn(t *testing.T) {
	path := t.TempDir() + "/go.ttf"
	if err := os.WriteFile(path, goregular.TTF, 0o600); err != nil {
		t.Fatal(err)
	}
	face, err := LoadFace(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFace(t.TempDir()+"/none.ttf", 32); err == nil {
		t.Fatal("a missing font loaded")
	}
	s := &Service{}
	s.SetFace(face)
	b, err := s.render(CertificateView{Code: "ABCD-EFGH-JKLM", LearnerName: "Zoe", CourseTitle: "Go", CompletedOn: "2026-12-07"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	dark := 0
	for x := 0; x < certW; x++ {
		for y := 230; y < 270; y++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r>>8 < 0x80 {
				dark++
			}
		}
	}
	if dark < 50 {
		t.Fatalf("the name was not drawn (%d dark pixels)", dark)
	}
	if s.printable("张三") != "张三" {
		t.Fatal("a face of its own prints the text as it is")
	}
}
