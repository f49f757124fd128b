package content

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const day = 24 * time.Hour

type fixture struct {
	d                        *db.DB
	svc                      *Service
	clock                    *clock
	shopA, a1, a2, shopB, b1 int64
}

func setup(t testing.TB, d *db.DB) *fixture {
	f := &fixture{d: d, clock: &clock{t: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}}
	f.svc = NewService(d, []byte("0123456789abcdef0123456789abcdef"), nil)
	f.svc.SetClock(f.clock.now)
	f.shopA, f.shopB = db.TestShop(t, d, "wx00000000000000a1"), db.TestShop(t, d, "wx00000000000000b1")
	f.a1, f.a2 = db.TestMember(t, d, f.shopA, "a1"), db.TestMember(t, d, f.shopA, "a2")
	f.b1 = db.TestMember(t, d, f.shopB, "b1")
	return f
}

func ok[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func (f *fixture) course(t testing.TB, shop int64, price int64) Course {
	return ok[Course](t)(f.svc.CreateCourse(context.Background(), shop, CourseInput{Kind: "course", Title: "课程", PriceFen: price, ForSale: true, Status: "published"}))
}

func (f *fixture) lesson(t testing.TB, shop, course int64, free bool) Lesson {
	return ok[Lesson](t)(f.svc.CreateLesson(context.Background(), shop, course, LessonInput{Kind: "article", Title: "第一课",
		Body: `<p>hi<script>x()</script></p>`, Free: free, Status: "published"}))
}

func (f *fixture) grant(t testing.TB, shop, member int64, kind string, id int64, ref string, days int) (Entitlement, bool) {
	t.Helper()
	var e Entitlement
	var created bool
	err := f.d.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		e, created, err = f.svc.GrantTx(context.Background(), tx, Grant{ShopID: shop, MemberID: member, TargetKind: kind, TargetID: id,
			Source: "purchase", SourceRef: ref, Days: days, By: "system"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, created
}

func (f *fixture) revoke(t testing.TB, shop int64, ref, reason string) (Entitlement, error) {
	var e Entitlement
	err := f.d.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		e, err = f.svc.RevokeTx(context.Background(), tx, shop, ref, reason, "staff:1")
		return err
	})
	return e, err
}

func count(t testing.TB, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGrantIsIdempotentAndRenewalsChain(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		c := f.course(t, f.shopA, 9900)
		now := f.clock.now()
		e1, created := f.grant(t, f.shopA, f.a1, KindCourse, c.ID, "order:1", 30)
		if !created || !e1.StartsAt.Equal(now.Truncate(time.Millisecond)) || !e1.EndsAt.Equal(e1.StartsAt.Add(30*day)) {
			t.Fatalf("first grant: %+v", e1)
		}
		again, created := f.grant(t, f.shopA, f.a1, KindCourse, c.ID, "order:1", 30)
		if created || again.ID != e1.ID {
			t.Fatalf("the same ref granted twice: %+v", again)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM content_entitlements WHERE shop_id = ?`, f.shopA); n != 1 {
			t.Fatalf("%d rows", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM content_entitlement_events WHERE shop_id = ? AND kind = 'grant'`, f.shopA); n != 1 {
			t.Fatalf("%d grant events", n)
		}
		// The same ref for another member: refused.
		err := d.InTx(context.Background(), func(tx *db.Tx) error {
			_, _, err := f.svc.GrantTx(context.Background(), tx, Grant{ShopID: f.shopA, MemberID: f.a2, TargetKind: KindCourse, TargetID: c.ID,
				Source: "purchase", SourceRef: "order:1", Days: 30})
			return err
		})
		wantCode(t, err, "source_ref_reused")
		// Renewal 10 days in, before the end: extends from the end.
		f.clock.add(10 * day)
		e2, _ := f.grant(t, f.shopA, f.a1, KindCourse, c.ID, "order:2", 30)
		if !e2.StartsAt.Equal(*e1.EndsAt) || !e2.EndsAt.Equal(e1.EndsAt.Add(30*day)) {
			t.Fatalf("renewal before the end: %+v, first ends %v", e2, e1.EndsAt)
		}
		// Refunding the first period leaves the renewal's period as it was.
		if _, err := f.revoke(t, f.shopA, "order:1", "refund"); err != nil {
			t.Fatal(err)
		}
		if got := ok[[]Entitlement](t)(f.svc.Entitlements(context.Background(), f.shopA, f.a1, 0, 10)); !got[0].StartsAt.Equal(e2.StartsAt) || got[0].RevokedAt != nil {
			t.Fatalf("the renewal changed: %+v", got[0])
		}
		// After a lapse (past the end and the grace): starts now.
		f.clock.add(100 * day)
		e3, _ := f.grant(t, f.shopA, f.a1, KindCourse, c.ID, "order:3", 30)
		if !e3.StartsAt.Equal(f.clock.now().Truncate(time.Millisecond)) {
			t.Fatalf("renewal after a lapse starts %v, want now %v", e3.StartsAt, f.clock.now())
		}
		// A grant without end, and bad grants.
		forever, _ := f.grant(t, f.shopA, f.a2, KindCourse, c.ID, "gift:1", 0)
		if forever.EndsAt != nil {
			t.Fatalf("no end: %+v", forever)
		}
		for _, g := range []Grant{
			{ShopID: f.shopA, MemberID: f.a1, TargetKind: "book", TargetID: c.ID, Source: "purchase", SourceRef: "x1"},
			{ShopID: f.shopA, MemberID: f.a1, TargetKind: KindCourse, TargetID: c.ID, Source: "stolen", SourceRef: "x2"},
			{ShopID: f.shopA, MemberID: f.a1, TargetKind: KindCourse, TargetID: c.ID, Source: "purchase", SourceRef: ""},
			{ShopID: f.shopA, MemberID: f.a1, TargetKind: KindCourse, TargetID: c.ID, Source: "purchase", SourceRef: "x3", Days: -1},
			{ShopID: f.shopA, MemberID: f.b1, TargetKind: KindCourse, TargetID: c.ID, Source: "purchase", SourceRef: "x4"},
			{ShopID: f.shopB, MemberID: f.b1, TargetKind: KindCourse, TargetID: c.ID, Source: "purchase", SourceRef: "x5"},
		} {
			err := d.InTx(context.Background(), func(tx *db.Tx) error {
				_, _, err := f.svc.GrantTx(context.Background(), tx, g)
				return err
			})
			if k := errs.As(err).Kind; k != errs.Invalid && k != errs.NotFound {
				t.Fatalf("bad grant %+v: %v", g, err)
			}
		}
	})
}

func TestAccessGraceAndRevoke(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c := f.course(t, f.shopA, 9900)
		free, paid := f.lesson(t, f.shopA, c.ID, true), f.lesson(t, f.shopA, c.ID, false)
		access := func(m, lesson int64) Access { return ok[Access](t)(f.svc.CanAccess(ctx, f.shopA, m, lesson)) }
		if a := access(f.a1, free.ID); !a.Allowed || a.Via != "free" {
			t.Fatalf("free: %+v", a)
		}
		if a := access(f.a1, paid.ID); a.Allowed {
			t.Fatalf("paid without entitlement: %+v", a)
		}
		e, _ := f.grant(t, f.shopA, f.a1, KindCourse, c.ID, "order:1", 30)
		if a := access(f.a1, paid.ID); !a.Allowed || a.InGrace || a.Via != "course" || !a.EndsAt.Equal(*e.EndsAt) {
			t.Fatalf("course: %+v", a)
		}
		if a := access(f.a2, paid.ID); a.Allowed {
			t.Fatalf("another member: %+v", a)
		}
		f.clock.add(31 * day) // ended a day ago: the default 3 grace days
		if a := access(f.a1, paid.ID); !a.Allowed || !a.InGrace {
			t.Fatalf("grace: %+v", a)
		}
		f.clock.add(3 * day)
		if a := access(f.a1, paid.ID); a.Allowed {
			t.Fatalf("after grace: %+v", a)
		}
		ok[Settings](t)(f.svc.SaveSettings(ctx, f.shopA, SettingsInput{GraceDays: 7}))
		if a := access(f.a1, paid.ID); !a.Allowed || !a.InGrace {
			t.Fatalf("a longer grace: %+v", a)
		}
		_, err := f.svc.SaveSettings(ctx, f.shopA, SettingsInput{GraceDays: -1})
		wantCode(t, err, "invalid_grace_days")
		// Revoke: reason required; never deleted; again a no-op.
		f.grant(t, f.shopA, f.a2, KindCourse, c.ID, "order:2", 0)
		if a := access(f.a2, paid.ID); !a.Allowed || a.EndsAt != nil {
			t.Fatalf("no end: %+v", a)
		}
		_, err = f.revoke(t, f.shopA, "order:2", " ")
		wantCode(t, err, "reason_required")
		r := ok[Entitlement](t)(f.revoke(t, f.shopA, "order:2", "refunded"))
		if r.RevokedAt == nil || r.RevokeReason != "refunded" {
			t.Fatalf("revoked: %+v", r)
		}
		if a := access(f.a2, paid.ID); a.Allowed {
			t.Fatalf("after revoke: %+v", a)
		}
		again := ok[Entitlement](t)(f.revoke(t, f.shopA, "order:2", "twice"))
		if again.RevokeReason != "refunded" {
			t.Fatalf("a second revoke changed it: %+v", again)
		}
		_, err = f.revoke(t, f.shopA, "order:404", "x")
		wantCode(t, err, "entitlement_not_found")
		_, err = f.revoke(t, f.shopB, "order:1", "another shop")
		wantCode(t, err, "entitlement_not_found")
		if n := count(t, d, `SELECT COUNT(*) FROM content_entitlements WHERE shop_id = ?`, f.shopA); n != 2 {
			t.Fatalf("rows deleted: %d", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM content_entitlement_events WHERE shop_id = ? AND kind = 'revoke' AND reason = 'refunded'`, f.shopA); n != 1 {
			t.Fatalf("revoke events: %d", n)
		}
		// Another shop's member and lesson: not found.
		_, err = f.svc.CanAccess(ctx, f.shopB, f.b1, paid.ID)
		wantCode(t, err, "lesson_not_found")
	})
}

func TestPackagesPlansAndOffers(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c1, c2, c3 := f.course(t, f.shopA, 10000), f.course(t, f.shopA, 5000), f.course(t, f.shopA, 3333)
		l1, l2, l3 := f.lesson(t, f.shopA, c1.ID, false), f.lesson(t, f.shopA, c2.ID, false), f.lesson(t, f.shopA, c3.ID, false)
		pkg := ok[Package](t)(f.svc.SavePackage(ctx, f.shopA, 0, PackageInput{Title: "套餐", PriceFen: 12000, ForSale: true, CourseIDs: []int64{c1.ID, c2.ID}, Status: "published"}))
		set := ok[Plan](t)(f.svc.SavePlan(ctx, f.shopA, 0, PlanInput{Name: "月卡", Period: "month", PriceFen: 3000, CourseIDs: []int64{c3.ID}, DiscountBP: 2000, ForSale: true, Status: "published"}))
		all := ok[Plan](t)(f.svc.SavePlan(ctx, f.shopA, 0, PlanInput{Name: "年卡", Period: "year", PriceFen: 30000, CoversAll: true, ForSale: true, Status: "published"}))
		if set.Days != 30 || all.Days != 365 {
			t.Fatalf("period days: %d %d", set.Days, all.Days)
		}
		access := func(m, lesson int64) Access { return ok[Access](t)(f.svc.CanAccess(ctx, f.shopA, m, lesson)) }
		f.grant(t, f.shopA, f.a1, KindPackage, pkg.ID, "p1", 0)
		if a := access(f.a1, l1.ID); !a.Allowed || a.Via != "package" {
			t.Fatalf("package: %+v", a)
		}
		if a := access(f.a1, l3.ID); a.Allowed {
			t.Fatalf("outside the package: %+v", a)
		}
		o := ok[Offer](t)(f.svc.Offer(ctx, f.shopA, f.a1, KindCourse, c3.ID))
		if o.ListFen != 3333 || o.PriceFen != 3333 {
			t.Fatalf("no plan, no discount: %+v", o)
		}
		f.grant(t, f.shopA, f.a1, KindPlan, set.ID, "m1", set.Days)
		if a := access(f.a1, l3.ID); !a.Allowed || a.Via != "plan" {
			t.Fatalf("plan with a set: %+v", a)
		}
		if a := access(f.a2, l2.ID); a.Allowed {
			t.Fatalf("a2 holds nothing: %+v", a)
		}
		o = ok[Offer](t)(f.svc.Offer(ctx, f.shopA, f.a1, KindCourse, c3.ID))
		if o.PriceFen != 2666 || o.ListFen != 3333 { // 3333 × 0.8 = 2666.4
			t.Fatalf("member price: %+v", o)
		}
		if o := ok[Offer](t)(f.svc.Offer(ctx, f.shopA, f.a1, KindPlan, all.ID)); o.PriceFen != 30000 || o.Days != 365 {
			t.Fatalf("a plan's own price: %+v", o)
		}
		f.grant(t, f.shopA, f.a2, KindPlan, all.ID, "m2", all.Days)
		for _, l := range []Lesson{l1, l2, l3} {
			if a := access(f.a2, l.ID); !a.Allowed || a.Via != "plan" {
				t.Fatalf("plan covering all, lesson %d: %+v", l.ID, a)
			}
		}
		if h := ok[Access](t)(f.svc.HoldsTarget(ctx, f.shopA, f.a2, KindPlan, all.ID)); !h.Allowed {
			t.Fatalf("holds the plan: %+v", h)
		}
		if h := ok[Access](t)(f.svc.HoldsTarget(ctx, f.shopA, f.a1, KindCourse, c2.ID)); !h.Allowed || h.Via != "package" {
			t.Fatalf("holds a course through its package: %+v", h)
		}
		if ps := ok[[]BuyerPackage](t)(f.svc.BuyerPackages(ctx, f.shopA, f.a1, firstPage, 20)); len(ps) != 1 || !ps[0].Access.Allowed || ps[0].PriceFen != 9600 {
			t.Fatalf("buyer packages (20%% off for a plan holder): %+v", ps)
		}
		if ps := ok[[]BuyerPlan](t)(f.svc.BuyerPlans(ctx, f.shopA, f.a2, firstPage, 20)); len(ps) != 2 || ps[0].Access.Allowed || !ps[1].Access.Allowed {
			t.Fatalf("buyer plans: %+v", ps)
		}
		f.clock.add(400 * day)
		if a := access(f.a2, l1.ID); a.Allowed {
			t.Fatalf("expired plan: %+v", a)
		}
		if a := access(f.a1, l1.ID); !a.Allowed {
			t.Fatalf("a package without end stays: %+v", a)
		}
		// Not for sale, draft, unknown, camp: no offer.
		ok[Course](t)(f.svc.UpdateCourse(ctx, f.shopA, c2.ID, CourseInput{Kind: "course", Title: "x", PriceFen: 1, Status: "published"}))
		for _, k := range []struct {
			kind string
			id   int64
		}{{KindCourse, c2.ID}, {KindCourse, 999999}, {KindCamp, 1}, {KindPackage, 999999}, {"book", 1}} {
			_, err := f.svc.Offer(ctx, f.shopA, f.a1, k.kind, k.id)
			if errs.As(err).Kind != errs.NotFound {
				t.Fatalf("offer %v: %v", k, err)
			}
		}
		_, err := f.svc.Offer(ctx, f.shopB, f.b1, KindCourse, c1.ID)
		wantCode(t, err, "target_not_found")
		// Learner counts are entitlements: c1 is held by a1 through the package only.
		if got := ok[Course](t)(f.svc.Course(ctx, f.shopA, c1.ID)); got.Learners != 1 {
			t.Fatalf("learners: %d", got.Learners)
		}
	})
}

func TestScheduledReleaseAndOrder(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		at := f.clock.now().Add(2 * time.Hour)
		c := ok[Course](t)(f.svc.CreateCourse(ctx, f.shopA, CourseInput{Kind: "column", Title: "专栏", Status: "published", PublishAt: &at}))
		l := f.lesson(t, f.shopA, c.ID, true)
		_, err := f.svc.CanAccess(ctx, f.shopA, f.a1, l.ID)
		wantCode(t, err, "lesson_not_found")
		_, err = f.svc.BuyerCourse(ctx, f.shopA, f.a1, c.ID)
		wantCode(t, err, "course_not_found")
		if list := ok[[]BuyerCourse](t)(f.svc.BuyerCourses(ctx, f.shopA, f.a1, firstPage, 20)); len(list) != 0 {
			t.Fatalf("scheduled course listed: %+v", list)
		}
		f.clock.add(3 * time.Hour)
		if list := ok[[]BuyerCourse](t)(f.svc.BuyerCourses(ctx, f.shopA, f.a1, firstPage, 20)); len(list) != 1 || list[0].Lessons != 1 {
			t.Fatalf("released: %+v", list)
		}
		// A draft lesson stays hidden; reorder changes the order.
		draft := ok[Lesson](t)(f.svc.CreateLesson(ctx, f.shopA, c.ID, LessonInput{Kind: "article", Title: "草稿", Status: "draft"}))
		second := f.lesson(t, f.shopA, c.ID, false)
		if ls := ok[[]LessonInfo](t)(f.svc.CourseLessons(ctx, f.shopA, c.ID)); len(ls) != 2 || ls[0].ID != l.ID || ls[1].ID != second.ID {
			t.Fatalf("lessons: %+v", ls)
		}
		if err := f.svc.Reorder(ctx, f.shopA, "lessons", c.ID, ReorderInput{IDs: []int64{second.ID, draft.ID, l.ID}}); err != nil {
			t.Fatal(err)
		}
		if ls := ok[[]LessonInfo](t)(f.svc.CourseLessons(ctx, f.shopA, c.ID)); ls[0].ID != second.ID {
			t.Fatalf("after reorder: %+v", ls)
		}
		wantCode(t, f.svc.Reorder(ctx, f.shopB, "lessons", c.ID, ReorderInput{IDs: []int64{l.ID}}), "item_not_found")
		wantCode(t, f.svc.Reorder(ctx, f.shopA, "courses", 0, ReorderInput{IDs: []int64{c.ID, c.ID}}), "invalid_ids")
		if err := f.svc.Reorder(ctx, f.shopA, "courses", 0, ReorderInput{IDs: []int64{c.ID}}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.Reorder(ctx, f.shopB, "courses", 0, ReorderInput{IDs: []int64{c.ID}}), "item_not_found")
		audio := ok[Lesson](t)(f.svc.CreateLesson(ctx, f.shopA, c.ID, LessonInput{Kind: "audio", Title: "无文件", Status: "draft"}))
		wantCode(t, f.svc.SetRelease(ctx, f.shopA, "lessons", audio.ID, ReleaseInput{Status: "published"}), "invalid_fields")
		// The article body is made safe.
		bl := ok[BuyerLesson](t)(f.svc.BuyerLesson(ctx, f.shopA, f.a1, l.ID))
		if bl.Locked || len(bl.Body) == 0 || fmt.Sprint(bl.Body) == "" {
			t.Fatalf("free article: %+v", bl)
		}
		if st := ok[Lesson](t)(f.svc.StaffLesson(ctx, f.shopA, l.ID)); st.Body != "<p>hi</p>" {
			t.Fatalf("sanitized body: %q", st.Body)
		}
		locked := ok[BuyerLesson](t)(f.svc.BuyerLesson(ctx, f.shopA, f.a1, second.ID))
		if !locked.Locked || locked.Body != nil {
			t.Fatalf("locked article shows its body: %+v", locked)
		}
		// Staff take it back to draft: gone for buyers at once.
		if err := f.svc.SetRelease(ctx, f.shopA, "courses", c.ID, ReleaseInput{Status: "draft"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Lesson(ctx, f.shopA, l.ID)
		wantCode(t, err, "lesson_not_found")
		if title := ok[string](t)(f.svc.CourseTitle(ctx, f.shopA, c.ID)); title != "专栏" {
			t.Fatalf("title: %q", title)
		}
		_, err = f.svc.CourseTitle(ctx, f.shopB, c.ID)
		wantCode(t, err, "course_not_found")
		// Tenancy: shop B cannot read or change shop A's course.
		_, err = f.svc.Course(ctx, f.shopB, c.ID)
		wantCode(t, err, "course_not_found")
		_, err = f.svc.UpdateCourse(ctx, f.shopB, c.ID, CourseInput{Kind: "course", Title: "x", Status: "draft"})
		wantCode(t, err, "course_not_found")
		_, err = f.svc.CreateLesson(ctx, f.shopB, c.ID, LessonInput{Kind: "article", Title: "x", Status: "draft"})
		wantCode(t, err, "course_not_found")
		_, err = f.svc.SavePackage(ctx, f.shopB, 0, PackageInput{Title: "x", CourseIDs: []int64{c.ID}, Status: "draft"})
		wantCode(t, err, "course_not_found")
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c := f.course(t, f.shopA, 100)
		for _, in := range []CourseInput{{Kind: "book", Title: "x", Status: "draft"}, {Kind: "course", Title: "", Status: "draft"},
			{Kind: "course", Title: "x", PriceFen: -1, Status: "draft"}, {Kind: "course", Title: "x", Status: "live"}, {Kind: "course", Title: "x", Days: -3, Status: "draft"}} {
			_, err := f.svc.CreateCourse(ctx, f.shopA, in)
			wantCode(t, err, "invalid_fields")
		}
		for _, in := range []LessonInput{
			{Kind: "audio", Title: "x", Status: "published"},                                                       // no file
			{Kind: "audio", Title: "x", MediaKey: fmt.Sprintf("shop/%d/a.mp3", f.shopB), Status: "draft"},          // another shop's file
			{Kind: "video", Title: "x", MediaURL: "http://vod.example.com/v.mp4", Status: "draft"},                 // not https
			{Kind: "video", Title: "x", MediaURL: "https://v/x", DurationSec: 10, PreviewSec: 20, Status: "draft"}, // preview too long
			{Kind: "live", Title: "x", Status: "draft"},                                                            // no time
			{Kind: "article", Title: "x", LiveURL: "https://x", Status: "draft"},
		} {
			_, err := f.svc.CreateLesson(ctx, f.shopA, c.ID, in)
			wantCode(t, err, "invalid_fields")
		}
		for _, in := range []PlanInput{{Name: "x", Period: "week", Status: "draft"}, {Name: "x", Period: "custom", Days: 0, Status: "draft"},
			{Name: "x", Period: "month", DiscountBP: 10001, Status: "draft"}, {Name: "x", Period: "month", CoversAll: true, CourseIDs: []int64{c.ID}, Status: "draft"}} {
			_, err := f.svc.SavePlan(ctx, f.shopA, 0, in)
			wantCode(t, err, "invalid_fields")
		}
		_, err := f.svc.SavePackage(ctx, f.shopA, 0, PackageInput{Title: "x", CourseIDs: []int64{999999}, Status: "draft"})
		wantCode(t, err, "course_not_found")
		_, err = f.svc.StaffGrant(ctx, f.shopA, f.a1, 1, "short", StaffGrantInput{TargetKind: KindCourse, TargetID: c.ID, Reason: "x"})
		wantCode(t, err, "idempotency_key_required")
		_, err = f.svc.StaffGrant(ctx, f.shopA, f.a1, 1, "key-00000001", StaffGrantInput{TargetKind: KindCourse, TargetID: c.ID})
		wantCode(t, err, "reason_required")
		_, err = f.svc.StaffGrant(ctx, f.shopA, f.b1, 1, "key-00000001", StaffGrantInput{TargetKind: KindCourse, TargetID: c.ID, Reason: "x"})
		wantCode(t, err, "member_not_found")
		for table, n := range map[string]int{"content_lessons": 0, "content_plans": 0, "content_packages": 0, "content_entitlements": 0, "content_courses": 1} {
			if got := count(t, d, `SELECT COUNT(*) FROM `+table); got != n {
				t.Fatalf("%s: %d rows", table, got)
			}
		}
		// A staff grant: logged with its reason, once per key.
		e := ok[Entitlement](t)(f.svc.StaffGrant(ctx, f.shopA, f.a1, 7, "key-00000002", StaffGrantInput{TargetKind: KindCourse, TargetID: c.ID, Days: 7, Reason: "补偿"}))
		e2 := ok[Entitlement](t)(f.svc.StaffGrant(ctx, f.shopA, f.a1, 7, "key-00000002", StaffGrantInput{TargetKind: KindCourse, TargetID: c.ID, Days: 7, Reason: "补偿"}))
		if e.ID != e2.ID || e.Source != "grant" {
			t.Fatalf("staff grant twice: %+v %+v", e, e2)
		}
		_, err = f.svc.StaffGrant(ctx, f.shopA, f.a2, 7, "key-00000002", StaffGrantInput{TargetKind: KindCourse, TargetID: c.ID, Reason: "x"})
		wantCode(t, err, "idempotency_key_reused")
		evs := ok[[]Event](t)(f.svc.Events(ctx, f.shopA, f.a1, 0, 20))
		if len(evs) != 1 || evs[0].Actor != "staff:7" || evs[0].Reason != "补偿" {
			t.Fatalf("events: %+v", evs)
		}
		_, err = f.svc.StaffRevoke(ctx, f.shopB, e.ID, 7, StaffRevokeInput{Reason: "x"})
		wantCode(t, err, "entitlement_not_found")
		r := ok[Entitlement](t)(f.svc.StaffRevoke(ctx, f.shopA, e.ID, 7, StaffRevokeInput{Reason: "误发"}))
		if r.RevokedAt == nil {
			t.Fatalf("not revoked: %+v", r)
		}
	})
}

// Many renewals of one membership at once: each period follows the last
// with no overlap and no gap.
func TestConcurrentRenewalsNeitherOverlapNorGap(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		plan := ok[Plan](t)(f.svc.SavePlan(ctx, f.shopA, 0, PlanInput{Name: "月卡", Period: "month", PriceFen: 1000, ForSale: true, Status: "published"}))
		const n = 16
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				for attempt := 0; ; attempt++ {
					err := d.InTx(ctx, func(tx *db.Tx) error {
						_, _, err := f.svc.GrantTx(ctx, tx, Grant{ShopID: f.shopA, MemberID: f.a1, TargetKind: KindPlan, TargetID: plan.ID,
							Source: "purchase", SourceRef: fmt.Sprintf("renew:%d", i%12), Days: 30, By: "system"})
						return err
					})
					if err == nil || attempt > 50 {
						errc <- err
						return
					}
					time.Sleep(time.Millisecond) // SQLite busy under -race: try again
				}
			}(i)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		ents := ok[[]Entitlement](t)(f.svc.Entitlements(ctx, f.shopA, f.a1, 0, 100))
		if len(ents) != 12 {
			t.Fatalf("%d entitlements, want 12 (4 refs repeated)", len(ents))
		}
		// Newest first: walk oldest first.
		start := f.clock.now().Truncate(time.Millisecond)
		for i := len(ents) - 1; i >= 0; i-- {
			e := ents[i]
			if !e.StartsAt.Equal(start) || !e.EndsAt.Equal(start.Add(30*day)) {
				t.Fatalf("period %d: %v – %v, want start %v", len(ents)-i, e.StartsAt, e.EndsAt, start)
			}
			start = *e.EndsAt
		}
	})
}

// Two processes on one database: what one changes, the other sees after
// its next Sync (the catalogue by its version, entitlements by the log).
func TestAnotherProcessConvergesOnSync(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		other := NewService(d, []byte("0123456789abcdef0123456789abcdef"), nil)
		other.SetClock(f.clock.now)
		c := f.course(t, f.shopA, 100)
		l := f.lesson(t, f.shopA, c.ID, false)
		f.clock.add(10 * time.Second) // past this process's tombstones: the other caches freely
		if a := ok[Access](t)(other.CanAccess(ctx, f.shopA, f.a1, l.ID)); a.Allowed {
			t.Fatalf("before the grant: %+v", a)
		}
		since := f.clock.now()
		f.grant(t, f.shopA, f.a1, KindCourse, c.ID, "o1", 0)
		if a := ok[Access](t)(other.CanAccess(ctx, f.shopA, f.a1, l.ID)); a.Allowed {
			t.Fatalf("the other process's cache answered before its sync: %+v (the test shows nothing)", a)
		}
		if err := other.Sync(ctx, since.Add(-SyncMargin)); err != nil {
			t.Fatal(err)
		}
		if a := ok[Access](t)(other.CanAccess(ctx, f.shopA, f.a1, l.ID)); !a.Allowed {
			t.Fatalf("after sync: %+v", a)
		}
		// A lesson taken back to draft by this process: gone there after its sync.
		if err := f.svc.SetRelease(ctx, f.shopA, "lessons", l.ID, ReleaseInput{Status: "draft"}); err != nil {
			t.Fatal(err)
		}
		if err := other.Sync(ctx, f.clock.now()); err != nil {
			t.Fatal(err)
		}
		_, err := other.CanAccess(ctx, f.shopA, f.a1, l.ID)
		wantCode(t, err, "lesson_not_found")
	})
}
