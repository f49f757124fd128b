package content

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// LessonInfo is what other rooms (learning, qa) need of a lesson.
type LessonInfo struct {
	ID, ShopID, CourseID int64
	Kind                 string // article|audio|video|live
	Title                string
	DurationSec          int
	Free                 bool
	PreviewSec           int
}

// Access is the answer of the access check.
type Access struct {
	Allowed bool       `json:"allowed"`
	InGrace bool       `json:"in_grace" doc:"the entitlement has ended and the shop's grace period keeps access: show a banner"`
	EndsAt  *time.Time `json:"ends_at" doc:"when the entitlement giving access ends (null: no end, or free)"`
	Via     string     `json:"via" enum:"free,course,package,plan," doc:"what gives access (empty when not allowed)"`
}

// Offer is what a target costs this member now: one function for what is
// shown and what is charged.
type Offer struct {
	TargetKind string
	TargetID   int64
	Title      string
	ListFen    int64
	PriceFen   int64
	Days       int
}

var errTargetNotFound = errs.E(errs.NotFound, "target_not_found", "no such thing for sale")

// courseVisible: a published course whose release time passed.
func (idx *shopIndex) courseVisible(id int64, now time.Time) (*courseFact, bool) {
	c := idx.courses[id]
	return c, c != nil && visible(c.status, c.publishAt, now)
}

// lesson is a lesson buyers can see now (it and its course released).
func (idx *shopIndex) lesson(id int64, now time.Time) (*lessonFact, bool) {
	l := idx.lessons[id]
	if l == nil || !visible(l.status, l.publishAt, now) {
		return nil, false
	}
	_, ok := idx.courseVisible(l.CourseID, now)
	return l, ok
}

// Lesson is a lesson buyers can see (errs NotFound otherwise).
func (s *Service) Lesson(ctx context.Context, shopID, lessonID int64) (LessonInfo, error) {
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return LessonInfo{}, err
	}
	l, ok := idx.lesson(lessonID, s.now())
	if !ok {
		return LessonInfo{}, errLessonNotFound
	}
	return l.LessonInfo, nil
}

// CourseLessons is a released course's released lessons, in order.
func (s *Service) CourseLessons(ctx context.Context, shopID, courseID int64) ([]LessonInfo, error) {
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c, ok := idx.courseVisible(courseID, now)
	if !ok {
		return nil, errCourseNotFound
	}
	out := make([]LessonInfo, 0, len(c.lessons))
	for _, id := range c.lessons {
		if l := idx.lessons[id]; visible(l.status, l.publishAt, now) {
			out = append(out, l.LessonInfo)
		}
	}
	return out, nil
}

// CanAccess says whether the member may open the lesson now: free, or an
// entitlement to its course, a package bundling it or a plan covering it
// (within its period or the shop's grace after it). errs NotFound when
// buyers cannot see the lesson.
func (s *Service) CanAccess(ctx context.Context, shopID, memberID, lessonID int64) (Access, error) {
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return Access{}, err
	}
	now := s.now()
	l, ok := idx.lesson(lessonID, now)
	if !ok {
		return Access{}, errLessonNotFound
	}
	if l.Free {
		return Access{Allowed: true, Via: "free"}, nil
	}
	ents, err := s.cache.get(ctx, shopID, memberID, now)
	if err != nil {
		return Access{}, err
	}
	return idx.courseAccess(ents, l.CourseID, now), nil
}

// HoldsTarget says whether the member holds the target now: a course
// directly, in a package or through a plan; a package, plan or camp only
// directly.
func (s *Service) HoldsTarget(ctx context.Context, shopID, memberID int64, kind string, id int64) (Access, error) {
	switch kind {
	case KindCourse, KindPackage, KindPlan, KindCamp:
	default:
		return Access{}, errs.Field("target_kind", "invalid_target_kind", "must be course, package, plan or camp")
	}
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return Access{}, err
	}
	now := s.now()
	ents, err := s.cache.get(ctx, shopID, memberID, now)
	if err != nil {
		return Access{}, err
	}
	if kind == KindCourse {
		return idx.courseAccess(ents, id, now), nil
	}
	var best give
	for _, h := range ents {
		if h.kind == kind && h.id == id {
			best = best.better(idx.gives(h, ms(now)))
		}
	}
	return best.access(), nil
}

// courseAccess is the best access the entitlements give to a course.
func (idx *shopIndex) courseAccess(ents []held, courseID int64, now time.Time) Access {
	var best give
	t := ms(now)
	for i := range ents {
		if idx.covers(ents[i], courseID) {
			best = best.better(idx.gives(ents[i], t))
		}
	}
	return best.access()
}

// give is an entitlement's answer before it becomes an Access (no
// allocation on the hot path): end 0 is no end.
type give struct {
	allowed, grace bool
	end            int64
	via            string
}

func (idx *shopIndex) gives(h held, t int64) give {
	switch {
	case t < h.start:
		return give{}
	case h.end == 0 || t < h.end:
		return give{allowed: true, end: h.end, via: h.kind}
	case t < h.end+idx.grace.Milliseconds():
		return give{allowed: true, grace: true, end: h.end, via: h.kind}
	}
	return give{}
}

// better prefers access over none, within the period over grace, and the
// later end (no end latest).
func (a give) better(b give) give {
	switch {
	case !b.allowed:
		return a
	case !a.allowed:
		return b
	case a.grace != b.grace:
		if a.grace {
			return b
		}
		return a
	case a.end == 0:
		return a
	case b.end == 0 || b.end > a.end:
		return b
	}
	return a
}

func (g give) access() Access {
	if !g.allowed {
		return Access{}
	}
	a := Access{Allowed: true, InGrace: g.grace, Via: g.via}
	if g.end != 0 {
		a.EndsAt = optMS(&g.end)
	}
	return a
}

func (idx *shopIndex) covers(h held, courseID int64) bool {
	switch h.kind {
	case KindCourse:
		return h.id == courseID
	case KindPackage:
		p := idx.packages[h.id]
		return p != nil && p.courses[courseID]
	case KindPlan:
		p := idx.plans[h.id]
		return p != nil && (p.coversAll || p.courses[courseID])
	}
	return false
}

// Offer is what the target costs the member now: the list price, less the
// best member discount of a plan the member holds (within its period, not
// in grace) for a course or package. errs NotFound when the target does not
// exist, is not released or is not for sale.
func (s *Service) Offer(ctx context.Context, shopID, memberID int64, kind string, id int64) (Offer, error) {
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return Offer{}, err
	}
	now := s.now()
	o := Offer{TargetKind: kind, TargetID: id}
	switch kind {
	case KindCourse:
		c, ok := idx.courseVisible(id, now)
		if !ok || !c.forSale {
			return Offer{}, errTargetNotFound
		}
		o.Title, o.ListFen, o.Days = c.title, c.priceFen, c.days
	case KindPackage, KindPlan:
		b := idx.packages[id]
		if kind == KindPlan {
			b = idx.plans[id]
		}
		if b == nil || !visible(b.status, b.publishAt, now) || !b.forSale {
			return Offer{}, errTargetNotFound
		}
		o.Title, o.ListFen, o.Days = b.title, b.priceFen, b.days
	default:
		return Offer{}, errTargetNotFound
	}
	o.PriceFen = o.ListFen
	if kind == KindPlan || memberID == 0 {
		return o, nil
	}
	ents, err := s.cache.get(ctx, shopID, memberID, now)
	if err != nil {
		return Offer{}, err
	}
	bp := 0
	for _, h := range ents {
		if p := idx.plans[h.id]; h.kind == KindPlan && p != nil {
			if g := idx.gives(h, ms(now)); g.allowed && !g.grace {
				bp = max(bp, p.discountBP)
			}
		}
	}
	o.PriceFen = discounted(o.ListFen, bp)
	return o, nil
}

// discounted takes bp basis points off fen, rounding half up.
func discounted(fen int64, bp int) int64 {
	return (fen*int64(10000-bp) + 5000) / 10000
}

// CourseTitle names a course (for certificates); errs NotFound when the
// shop has no such course. Drafts are named too: a learner who completed a
// course keeps its certificate after staff take it back.
func (s *Service) CourseTitle(ctx context.Context, shopID, courseID int64) (string, error) {
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return "", err
	}
	c := idx.courses[courseID]
	if c == nil {
		return "", errCourseNotFound
	}
	return c.title, nil
}
