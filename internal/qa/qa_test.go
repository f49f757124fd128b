package qa

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kaidian/kaidian/internal/moderation"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// The moderation service is the Moderator server passes, as it is.
var _ Moderator = (*moderation.Service)(nil)

type fakeLessons struct {
	mu      sync.Mutex
	lessons map[int64]Lesson
	locked  map[[2]int64]bool
}

func (f *fakeLessons) Lesson(_ context.Context, shopID, id int64) (Lesson, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.lessons[id]
	if !ok || l.ShopID != shopID {
		return Lesson{}, errs.E(errs.NotFound, "content_lesson_missing", "no such lesson")
	}
	return l, nil
}

func (f *fakeLessons) CanAccess(_ context.Context, shopID, memberID, lessonID int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.locked[[2]int64{memberID, lessonID}], nil
}

// fakeModerator judges by markers in the text: BLOCK is refused, HOLD is
// held for review, BANNED is an author who may not post; the rest passes.
type fakeModerator struct {
	calls atomic.Int64
	next  atomic.Int64
}

func (m *fakeModerator) Submit(_ context.Context, shopID, memberID int64, in moderation.NewItem) (moderation.Item, error) {
	m.calls.Add(1)
	if in.Kind != "comment" || !strings.HasPrefix(in.Target, "lesson:") || shopID == 0 || memberID == 0 {
		return moderation.Item{}, fmt.Errorf("bad submit %d %d %+v", shopID, memberID, in)
	}
	switch {
	case strings.Contains(in.Text, "BLOCK"):
		return moderation.Item{}, errs.E(errs.Unprocessable, "content_blocked", "prohibited")
	case strings.Contains(in.Text, "BANNED"):
		return moderation.Item{}, errs.E(errs.Forbidden, "member_banned", "banned")
	}
	it := moderation.Item{ID: m.next.Add(1), Kind: in.Kind, Target: in.Target, Text: in.Text, Status: moderation.Published}
	if strings.Contains(in.Text, "HOLD") {
		it.Status = moderation.Pending
	}
	return it, nil
}

type env struct {
	t            *testing.T
	d            *db.DB
	svc          *Service
	lessons      *fakeLessons
	mod          *fakeModerator
	mux          *http.ServeMux
	shopA, shopB int64
	a1, a2, b1   int64
}

const (
	lessonA, lessonA2, lessonB = 11, 12, 21
	courseA, courseA2, courseB = 1, 2, 3
)

func newEnv(t *testing.T, d *db.DB) *env {
	e := &env{t: t, d: d, lessons: &fakeLessons{lessons: map[int64]Lesson{}, locked: map[[2]int64]bool{}}, mod: &fakeModerator{}}
	e.shopA, e.shopB = db.TestShop(t, d, "wx00000000000000a1"), db.TestShop(t, d, "wx00000000000000b1")
	e.a1, e.a2, e.b1 = db.TestMember(t, d, e.shopA, "a1"), db.TestMember(t, d, e.shopA, "a2"), db.TestMember(t, d, e.shopB, "b1")
	for id, nick := range map[int64]string{e.a1: "小明", e.a2: "小红", e.b1: "B"} {
		if _, err := d.Exec(context.Background(), `UPDATE members SET nickname = ? WHERE id = ?`, nick, id); err != nil {
			t.Fatal(err)
		}
	}
	e.lessons.lessons[lessonA] = Lesson{ID: lessonA, ShopID: e.shopA, CourseID: courseA}
	e.lessons.lessons[lessonA2] = Lesson{ID: lessonA2, ShopID: e.shopA, CourseID: courseA2}
	e.lessons.lessons[lessonB] = Lesson{ID: lessonB, ShopID: e.shopB, CourseID: courseB}
	e.svc = NewService(d, e.lessons, e.mod)
	e.mux = http.NewServeMux()
	(&Handlers{Svc: e.svc}).Routes(httpx.NewAPI(e.mux, testGuards()))
	return e
}

// testGuards put the caller in the context as the server's guards do: a
// member from X-Test-Member (shop:member), staff from X-Test-Staff
// (shop:role).
func testGuards() httpx.Guards {
	unauth := errs.E(errs.Unauthenticated, "unauthenticated", "log in")
	split := func(v string) (int64, string, bool) {
		a, b, ok := strings.Cut(v, ":")
		n, err := strconv.ParseInt(a, 10, 64)
		return n, b, ok && err == nil
	}
	return httpx.Guards{
		Member: func(r *http.Request) (*http.Request, error) {
			shop, id, ok := split(r.Header.Get("X-Test-Member"))
			if !ok {
				return r, unauth
			}
			m, _ := strconv.ParseInt(id, 10, 64)
			return r.WithContext(auth.WithMember(r.Context(), auth.Member{ID: m, ShopID: shop})), nil
		},
		Staff: func(r *http.Request, p auth.Permission) (*http.Request, error) {
			shop, role, ok := split(r.Header.Get("X-Test-Staff"))
			if !ok {
				return r, unauth
			}
			st := auth.Staff{AccountID: 7, ShopID: shop, Role: auth.Role(role)}
			if !st.Role.Can(p) {
				return r, errs.E(errs.Forbidden, "permission_denied", "no")
			}
			return r.WithContext(auth.WithStaff(r.Context(), st)), nil
		},
	}
}

type resp struct{ *httptest.ResponseRecorder }

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
	rv := reflect.ValueOf(v).Elem()
	rv.Set(reflect.Zero(rv.Type()))
	if err := json.Unmarshal(r.Body.Bytes(), v); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
}

func (e *env) do(who, method, path, body string) resp {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	kind, rest, _ := strings.Cut(who, "=")
	if kind == "m" {
		req.Header.Set("X-Test-Member", rest)
	} else if kind == "s" {
		req.Header.Set("X-Test-Staff", rest)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return resp{rec}
}

func (e *env) m(shop, member int64) string { return fmt.Sprintf("m=%d:%d", shop, member) }
func (e *env) teacher(shop int64) string   { return fmt.Sprintf("s=%d:operations", shop) }

func (e *env) post(who string, lesson int64, kind, text string) BuyerPost {
	e.t.Helper()
	var p BuyerPost
	body, _ := json.Marshal(NewPost{Kind: kind, Text: text})
	e.do(who, "POST", fmt.Sprintf("/api/v1/lessons/%d/posts", lesson), string(body)).decode(e.t, &p)
	return p
}

func (e *env) thread(who string, lesson int64, query string) []BuyerPost {
	e.t.Helper()
	var page httpx.Page[BuyerPost]
	e.do(who, "GET", fmt.Sprintf("/api/v1/lessons/%d/posts%s", lesson, query), "").decode(e.t, &page)
	return page.Items
}

func ids(ps []BuyerPost) []int64 {
	out := []int64{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestEverythingALearnerWritesIsModerated(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a1, a2 := e.m(e.shopA, e.a1), e.m(e.shopA, e.a2)
		ok := e.post(a1, lessonA, Comment, "  great lesson  ")
		if ok.Pending || ok.Text != "great lesson" || ok.Author != "小明" || !ok.Mine {
			t.Fatalf("published: %+v", ok)
		}
		held := e.post(a1, lessonA, Question, "HOLD why?")
		if !held.Pending || held.Kind != Question {
			t.Fatalf("held: %+v", held)
		}
		if got := ids(e.thread(a2, lessonA, "")); !reflect.DeepEqual(got, []int64{ok.ID}) {
			t.Fatalf("a2 sees %v, want only the published post", got)
		}
		if got := ids(e.thread(a1, lessonA, "")); !reflect.DeepEqual(got, []int64{held.ID, ok.ID}) {
			t.Fatalf("the author sees %v", got)
		}
		for text, code := range map[string]string{"BLOCK this": "content_blocked", "BANNED me": "member_banned"} {
			body, _ := json.Marshal(NewPost{Kind: Comment, Text: text})
			r := e.do(a1, "POST", "/api/v1/lessons/11/posts", string(body))
			if r.code() != code || (r.Code != 422 && r.Code != 403) {
				t.Errorf("%s: %d %s", text, r.Code, r.Body)
			}
		}
		// Replies go through it too.
		var rep BuyerReply
		e.do(a2, "POST", fmt.Sprintf("/api/v1/qa/posts/%d/replies", ok.ID), `{"text": "HOLD me too"}`).decode(t, &rep)
		if !rep.Pending || rep.Teacher {
			t.Fatalf("reply: %+v", rep)
		}
		if r := e.do(a2, "POST", fmt.Sprintf("/api/v1/qa/posts/%d/replies", ok.ID), `{"text": "BLOCK"}`); r.Code != 422 {
			t.Fatalf("blocked reply: %d", r.Code)
		}
		if th := e.thread(a1, lessonA, ""); len(th[1].Replies) != 0 {
			t.Fatalf("a1 sees a2's held reply: %+v", th[1].Replies)
		}
		// Approval publishes the held question (moderation's OnPublished).
		var item int64
		if err := d.QueryRow(context.Background(), `SELECT moderation_item_id FROM qa_posts WHERE id = ?`, held.ID).Scan(&item); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Release(context.Background(), e.shopB, item); err != nil { // another shop's release changes nothing
			t.Fatal(err)
		}
		if got := ids(e.thread(a2, lessonA, "")); len(got) != 1 {
			t.Fatalf("another shop's release published it: %v", got)
		}
		if err := e.svc.Release(context.Background(), e.shopA, item); err != nil {
			t.Fatal(err)
		}
		if got := ids(e.thread(a2, lessonA, "")); !reflect.DeepEqual(got, []int64{held.ID, ok.ID}) {
			t.Fatalf("after approval a2 sees %v", got)
		}
		// Only members who may open the lesson post; the moderator is not asked.
		e.lessons.locked[[2]int64{e.a2, lessonA}] = true
		calls := e.mod.calls.Load()
		if r := e.do(a2, "POST", "/api/v1/lessons/11/posts", `{"kind": "comment", "text": "hi"}`); r.Code != 403 || r.code() != "lesson_locked" {
			t.Fatalf("locked: %d %s", r.Code, r.Body)
		}
		if r := e.do(a2, "POST", fmt.Sprintf("/api/v1/qa/posts/%d/replies", ok.ID), `{"text": "hi"}`); r.Code != 403 || r.code() != "lesson_locked" {
			t.Fatalf("locked reply: %d %s", r.Code, r.Body)
		}
		if e.mod.calls.Load() != calls {
			t.Fatal("a refused post reached moderation")
		}
		if n := e.count(`SELECT COUNT(*) FROM qa_posts`); n != 3 {
			t.Fatalf("%d posts stored, want 3", n)
		}
	})
}

func TestTeacherRepliesPinsHidingAndTheQueue(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a1, a2, teacher := e.m(e.shopA, e.a1), e.m(e.shopA, e.a2), e.teacher(e.shopA)
		q1 := e.post(a1, lessonA, Question, "q1")
		q2 := e.post(a2, lessonA2, Question, "q2")
		c1 := e.post(a2, lessonA, Comment, "c1")
		q3 := e.post(a2, lessonA, Question, "q3")
		e.post(a1, lessonA2, Question, "HOLD q4") // pending: not in the queue yet
		queue := func(query string) []int64 {
			var page httpx.Page[Post]
			e.do(teacher, "GET", "/admin/api/v1/qa/questions"+query, "").decode(t, &page)
			out := []int64{}
			for _, p := range page.Items {
				out = append(out, p.ID)
			}
			return out
		}
		if got := queue(""); !reflect.DeepEqual(got, []int64{q1.ID, q2.ID, q3.ID}) {
			t.Fatalf("queue %v", got)
		}
		if got := queue(fmt.Sprintf("?course_id=%d", courseA)); !reflect.DeepEqual(got, []int64{q1.ID, q3.ID}) {
			t.Fatalf("course queue %v", got)
		}
		var page httpx.Page[Post]
		e.do(teacher, "GET", "/admin/api/v1/qa/questions?limit=2", "").decode(t, &page)
		if len(page.Items) != 2 || page.NextCursor == "" {
			t.Fatalf("%+v", page)
		}
		e.do(teacher, "GET", "/admin/api/v1/qa/questions?limit=2&cursor="+page.NextCursor, "").decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != q3.ID {
			t.Fatalf("page 2 %+v", page)
		}
		// A learner's reply does not answer a question; the teacher's does.
		var lr BuyerReply
		e.do(a2, "POST", fmt.Sprintf("/api/v1/qa/posts/%d/replies", q1.ID), `{"text": "me too"}`).decode(t, &lr)
		if got := queue(""); len(got) != 3 {
			t.Fatalf("a learner's reply answered: %v", got)
		}
		var tr Post
		e.do(teacher, "POST", fmt.Sprintf("/admin/api/v1/qa/posts/%d/replies", q1.ID), `{"text": "because"}`).decode(t, &tr)
		if !tr.Teacher || tr.ParentID != q1.ID || tr.StaffID != 7 || tr.Status != Published {
			t.Fatalf("teacher reply %+v", tr)
		}
		// A second teacher's reply, to the learner's reply, goes under q1.
		e.do(teacher, "POST", fmt.Sprintf("/admin/api/v1/qa/posts/%d/replies", lr.ID), `{"text": "and also"}`).decode(t, &tr)
		if tr.ParentID != q1.ID {
			t.Fatalf("nested reply %+v", tr)
		}
		if got := queue(""); !reflect.DeepEqual(got, []int64{q2.ID, q3.ID}) {
			t.Fatalf("after the answer %v", got)
		}
		th := e.thread(a1, lessonA, "")
		if !reflect.DeepEqual(ids(th), []int64{q3.ID, c1.ID, q1.ID}) {
			t.Fatalf("thread %v", ids(th))
		}
		reps := th[2].Replies
		if !th[2].Answered || len(reps) != 3 || reps[0].Teacher || !reps[1].Teacher || reps[1].Author != TeacherLabel || reps[1].Mine {
			t.Fatalf("replies %+v", reps)
		}
		// Pin the question and the teacher's first answer: both lead.
		e.do(teacher, "PUT", fmt.Sprintf("/admin/api/v1/qa/posts/%d/pin", q1.ID), "").decode(t, &tr)
		e.do(teacher, "PUT", fmt.Sprintf("/admin/api/v1/qa/posts/%d/pin", reps[2].ID), "").decode(t, &tr)
		if tr.PinnedAt == nil {
			t.Fatal("not pinned")
		}
		th = e.thread(a1, lessonA, "")
		if th[0].ID != q1.ID || !th[0].Pinned || th[0].Replies[0].ID != reps[2].ID || !th[0].Replies[0].Pinned {
			t.Fatalf("pinned thread %+v", th[0])
		}
		// Pages keep the order across the pin.
		var p1, p2 httpx.Page[BuyerPost]
		e.do(a1, "GET", "/api/v1/lessons/11/posts?limit=2", "").decode(t, &p1)
		e.do(a1, "GET", "/api/v1/lessons/11/posts?limit=2&cursor="+p1.NextCursor, "").decode(t, &p2)
		if got := append(ids(p1.Items), ids(p2.Items)...); !reflect.DeepEqual(got, []int64{q1.ID, q3.ID, c1.ID}) || p2.NextCursor != "" {
			t.Fatalf("paged %v", got)
		}
		e.do(teacher, "DELETE", fmt.Sprintf("/admin/api/v1/qa/posts/%d/pin", q1.ID), "").decode(t, &tr)
		if th = e.thread(a1, lessonA, ""); th[0].ID != q3.ID {
			t.Fatalf("unpinned %v", ids(th))
		}
		// Hiding takes it out of the thread and the queue.
		e.do(teacher, "POST", fmt.Sprintf("/admin/api/v1/qa/posts/%d/hide", q3.ID), "").decode(t, &tr)
		if tr.Status != Hidden {
			t.Fatalf("%+v", tr)
		}
		if got := ids(e.thread(a2, lessonA, "")); !reflect.DeepEqual(got, []int64{c1.ID, q1.ID}) {
			t.Fatalf("after hide %v", got)
		}
		if got := queue(""); !reflect.DeepEqual(got, []int64{q2.ID}) {
			t.Fatalf("queue after hide %v", got)
		}
		for _, c := range []struct{ method, path, code string }{
			{"PUT", fmt.Sprintf("/admin/api/v1/qa/posts/%d/pin", q3.ID), "post_not_published"},
			{"POST", fmt.Sprintf("/admin/api/v1/qa/posts/%d/replies", q3.ID), "post_not_published"},
		} {
			body := ""
			if c.method == "POST" {
				body = `{"text": "x"}`
			}
			if r := e.do(teacher, c.method, c.path, body); r.Code != 409 || r.code() != c.code {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Code, r.Body)
			}
		}
		if r := e.do(a1, "POST", fmt.Sprintf("/api/v1/qa/posts/%d/replies", q3.ID), `{"text": "x"}`); r.Code != 404 {
			t.Errorf("reply to a hidden post: %d", r.Code)
		}
		var all httpx.Page[Post]
		e.do(teacher, "GET", "/admin/api/v1/content/lessons/11/posts", "").decode(t, &all)
		if len(all.Items) != 6 || all.Items[0].ID < all.Items[1].ID {
			t.Fatalf("staff's lesson posts: %d", len(all.Items))
		}
		// Staff without content.teach may not.
		if r := e.do(fmt.Sprintf("s=%d:finance", e.shopA), "GET", "/admin/api/v1/qa/questions", ""); r.Code != 403 {
			t.Fatalf("finance: %d", r.Code)
		}
	})
}

func TestLikeTwiceCountsOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a1, a2 := e.m(e.shopA, e.a1), e.m(e.shopA, e.a2)
		p := e.post(a1, lessonA, Comment, "like me")
		older := e.post(a1, lessonA, Comment, "older? no, newer")
		path := fmt.Sprintf("/api/v1/qa/posts/%d/like", p.ID)
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := e.do(a2, "PUT", path, ""); r.Code != 200 {
					t.Errorf("%d %s", r.Code, r.Body)
				}
			}()
		}
		wg.Wait()
		var res LikeResult
		e.do(a2, "PUT", path, "").decode(t, &res)
		if res.Likes != 1 || !res.LikedByMe {
			t.Fatalf("after many likes by one member: %+v", res)
		}
		e.do(a1, "PUT", path, "").decode(t, &res)
		if res.Likes != 2 {
			t.Fatalf("two members: %+v", res)
		}
		th := e.thread(a2, lessonA, "?sort=likes")
		if th[0].ID != p.ID || th[0].Likes != 2 || !th[0].LikedByMe || th[1].ID != older.ID || th[1].LikedByMe {
			t.Fatalf("by likes %+v", th)
		}
		if th := e.thread(a2, lessonA, ""); th[0].ID != older.ID {
			t.Fatalf("newest first %v", ids(th))
		}
		e.do(a2, "DELETE", path, "").decode(t, &res)
		e.do(a2, "DELETE", path, "").decode(t, &res)
		if res.Likes != 1 || res.LikedByMe {
			t.Fatalf("unlike twice %+v", res)
		}
		if n := e.count(`SELECT COUNT(*) FROM qa_likes WHERE post_id = ?`, p.ID); n != 1 {
			t.Fatalf("%d like rows", n)
		}
		held := e.post(a1, lessonA, Comment, "HOLD")
		if r := e.do(a2, "PUT", fmt.Sprintf("/api/v1/qa/posts/%d/like", held.ID), ""); r.Code != 404 {
			t.Fatalf("like a held post: %d", r.Code)
		}
	})
}

func TestAnotherShopCannotReadOrChange(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a1, b1, teacherB := e.m(e.shopA, e.a1), e.m(e.shopB, e.b1), e.teacher(e.shopB)
		q := e.post(a1, lessonA, Question, "mine")
		before := e.count(`SELECT COUNT(*) FROM qa_posts`) + e.count(`SELECT COUNT(*) FROM qa_likes`)
		for _, c := range []struct{ who, method, path, body string }{
			{b1, "GET", "/api/v1/lessons/11/posts", ""},
			{b1, "POST", "/api/v1/lessons/11/posts", `{"kind": "comment", "text": "x"}`},
			{b1, "POST", fmt.Sprintf("/api/v1/qa/posts/%d/replies", q.ID), `{"text": "x"}`},
			{b1, "PUT", fmt.Sprintf("/api/v1/qa/posts/%d/like", q.ID), ""},
			{b1, "DELETE", fmt.Sprintf("/api/v1/qa/posts/%d/like", q.ID), ""},
			{teacherB, "POST", fmt.Sprintf("/admin/api/v1/qa/posts/%d/replies", q.ID), `{"text": "x"}`},
			{teacherB, "PUT", fmt.Sprintf("/admin/api/v1/qa/posts/%d/pin", q.ID), ""},
			{teacherB, "DELETE", fmt.Sprintf("/admin/api/v1/qa/posts/%d/pin", q.ID), ""},
			{teacherB, "POST", fmt.Sprintf("/admin/api/v1/qa/posts/%d/hide", q.ID), ""},
			{teacherB, "GET", "/admin/api/v1/content/lessons/11/posts", ""},
		} {
			if r := e.do(c.who, c.method, c.path, c.body); r.Code != 404 {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Code, r.Body)
			}
		}
		for _, path := range []string{"/admin/api/v1/qa/questions"} {
			var page httpx.Page[Post]
			e.do(teacherB, "GET", path, "").decode(t, &page)
			if len(page.Items) != 0 {
				t.Errorf("%s: shop B sees %+v", path, page.Items)
			}
		}
		after := e.count(`SELECT COUNT(*) FROM qa_posts`) + e.count(`SELECT COUNT(*) FROM qa_likes`)
		var status string
		var pinned *int64
		if err := d.QueryRow(context.Background(), `SELECT status, pinned_at FROM qa_posts WHERE id = ?`, q.ID).Scan(&status, &pinned); err != nil {
			t.Fatal(err)
		}
		if after != before || status != Published || pinned != nil {
			t.Fatalf("shop B changed shop A's thread: %d→%d %s %v", before, after, status, pinned)
		}
	})
}

func TestBadInputIs4xxWithStableCodes(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a1, teacher := e.m(e.shopA, e.a1), e.teacher(e.shopA)
		q := e.post(a1, lessonA, Question, "q")
		long := strings.Repeat("字", MaxTextRunes+1)
		cases := []struct {
			who, method, path, body string
			status                  int
			code                    string
		}{
			{a1, "POST", "/api/v1/lessons/11/posts", `{"kind": "rant", "text": "x"}`, 400, "invalid_kind"},
			{a1, "POST", "/api/v1/lessons/11/posts", `{"kind": "comment", "text": "   "}`, 400, "invalid_text"},
			{a1, "POST", "/api/v1/lessons/11/posts", `{"kind": "comment", "text": "` + long + `"}`, 400, "invalid_text"},
			{a1, "POST", "/api/v1/lessons/11/posts", `{"kind": "comment", "text": 5}`, 400, "invalid_type"},
			{a1, "POST", "/api/v1/lessons/11/posts", `{"kind": "comment"`, 400, "malformed_json"},
			{a1, "POST", "/api/v1/lessons/11/posts", `{"kind": "comment", "text": "x", "pinned": true}`, 400, "unknown_field"},
			{a1, "POST", "/api/v1/lessons/11/posts", `{"kind": "comment", "text": "x\u0000"}`, 400, ""},
			{a1, "POST", "/api/v1/lessons/999/posts", `{"kind": "comment", "text": "x"}`, 404, "lesson_not_found"},
			{a1, "POST", "/api/v1/lessons/abc/posts", `{"kind": "comment", "text": "x"}`, 400, "invalid_id"},
			{a1, "GET", "/api/v1/lessons/11/posts?sort=oldest", "", 400, "invalid_sort"},
			{a1, "GET", "/api/v1/lessons/11/posts?cursor=nope", "", 400, "invalid_cursor"},
			{a1, "GET", "/api/v1/lessons/11/posts?limit=0", "", 400, "invalid_query"},
			{a1, "GET", "/api/v1/lessons/999/posts", "", 404, "lesson_not_found"},
			{a1, "POST", "/api/v1/qa/posts/99999/replies", `{"text": "x"}`, 404, "post_not_found"},
			{a1, "POST", fmt.Sprintf("/api/v1/qa/posts/%d/replies", q.ID), `{"text": ""}`, 400, "invalid_text"},
			{a1, "PUT", "/api/v1/qa/posts/0/like", "", 400, "invalid_id"},
			{a1, "PUT", "/api/v1/qa/posts/99999/like", "", 404, "post_not_found"},
			{"", "PUT", fmt.Sprintf("/api/v1/qa/posts/%d/like", q.ID), "", 401, "unauthenticated"},
			{teacher, "GET", "/admin/api/v1/qa/questions?course_id=-1", "", 400, "invalid_query"},
			{teacher, "GET", "/admin/api/v1/qa/questions?course_id=x", "", 400, "invalid_query"},
			{teacher, "POST", "/admin/api/v1/qa/posts/99999/replies", `{"text": "x"}`, 404, "post_not_found"},
			{teacher, "POST", fmt.Sprintf("/admin/api/v1/qa/posts/%d/replies", q.ID), `{}`, 400, "invalid_text"},
			{teacher, "PUT", "/admin/api/v1/qa/posts/99999/pin", "", 404, "post_not_found"},
			{teacher, "POST", "/admin/api/v1/qa/posts/-1/hide", "", 400, "invalid_id"},
			{teacher, "GET", "/admin/api/v1/content/lessons/11/posts?cursor=abc", "", 400, "invalid_cursor"},
		}
		for _, c := range cases {
			r := e.do(c.who, c.method, c.path, c.body)
			if r.Code != c.status || (c.code != "" && r.code() != c.code) {
				t.Errorf("%s %s %.40s: got %d %s, want %d %s", c.method, c.path, c.body, r.Code, r.code(), c.status, c.code)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM qa_posts`); n != 1 {
			t.Fatalf("bad input stored posts: %d", n)
		}
		if n := e.count(`SELECT likes FROM qa_posts WHERE id = ?`, q.ID); n != 0 {
			t.Fatalf("likes %d", n)
		}
	})
}
