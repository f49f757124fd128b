package content

import (
	"context"
	"database/sql"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/richtext"
)

// The buyers' types: no drafts, no staff notes, no other member's data.

// BuyerCourse is a released course in the buyers' lists.
type BuyerCourse struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind" enum:"course,column"`
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"`
	Cover    string `json:"cover"`
	PriceFen int64  `json:"price_fen" doc:"what it costs this member now (member discount applied)"`
	ListFen  int64  `json:"list_fen"`
	Days     int    `json:"days" doc:"0: no end"`
	ForSale  bool   `json:"for_sale"`
	Lessons  int    `json:"lessons" doc:"released lessons"`
	Learners int    `json:"learners" doc:"members holding it now (real entitlements)"`
	Access   Access `json:"access" doc:"whether this member holds it"`
	sort     int
}

// BuyerLessonItem is a lesson in a course's list.
type BuyerLessonItem struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind" enum:"article,audio,video,live"`
	Title       string `json:"title"`
	DurationSec int    `json:"duration_sec"`
	Free        bool   `json:"free"`
	PreviewSec  int    `json:"preview_sec" doc:"seconds playable without access"`
	Locked      bool   `json:"locked" doc:"the member may not open it in full"`
	Preview     bool   `json:"preview" doc:"locked, but a preview plays"`
}

// BuyerCourseDetail is a course with its lessons.
type BuyerCourseDetail struct {
	BuyerCourse
	Intro       []richtext.Node   `json:"intro" doc:"<rich-text> nodes"`
	LessonsList []BuyerLessonItem `json:"lesson_list"`
}

// BuyerLesson is a lesson opened by a member: in full when allowed, else
// its preview (locked=true).
type BuyerLesson struct {
	ID          int64           `json:"id"`
	CourseID    int64           `json:"course_id"`
	Kind        string          `json:"kind" enum:"article,audio,video,live"`
	Title       string          `json:"title"`
	DurationSec int             `json:"duration_sec"`
	Free        bool            `json:"free"`
	PreviewSec  int             `json:"preview_sec"`
	Locked      bool            `json:"locked"`
	Access      Access          `json:"access"`
	Body        []richtext.Node `json:"body" doc:"an article's <rich-text> nodes (null when locked)"`
	MediaURL    string          `json:"media_url" doc:"audio/video (or a live replay): a short-lived URL; when locked, the preview only (empty when none)"`
	MediaUntil  *time.Time      `json:"media_until" doc:"when media_url stops playing"`
	LiveAt      *time.Time      `json:"live_at"`
	LiveURL     string          `json:"live_url" doc:"live: the link (only with access)"`
}

// BuyerPackage is a released package.
type BuyerPackage struct {
	ID        int64   `json:"id"`
	Title     string  `json:"title"`
	Cover     string  `json:"cover"`
	PriceFen  int64   `json:"price_fen" doc:"what it costs this member now"`
	ListFen   int64   `json:"list_fen"`
	Days      int     `json:"days"`
	ForSale   bool    `json:"for_sale"`
	CourseIDs []int64 `json:"course_ids"`
	Access    Access  `json:"access"`
	sort      int
}

// BuyerPlan is a released membership plan.
type BuyerPlan struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Period     string  `json:"period" enum:"month,quarter,year,custom"`
	Days       int     `json:"days"`
	PriceFen   int64   `json:"price_fen"`
	CoversAll  bool    `json:"covers_all"`
	CourseIDs  []int64 `json:"course_ids"`
	DiscountBP int     `json:"discount_bp"`
	ForSale    bool    `json:"for_sale"`
	Access     Access  `json:"access" doc:"whether this member holds it (in_grace: show the renewal banner)"`
	sort       int
}

// MyEntitlement is one of the member's entitlements (已购 / 我的会员).
type MyEntitlement struct {
	ID         int64      `json:"id"`
	TargetKind string     `json:"target_kind" enum:"course,package,plan,camp"`
	TargetID   int64      `json:"target_id"`
	Title      string     `json:"title"`
	Source     string     `json:"source" enum:"purchase,membership,gift,grant,trial"`
	StartsAt   time.Time  `json:"starts_at"`
	EndsAt     *time.Time `json:"ends_at"`
	Active     bool       `json:"active"`
	InGrace    bool       `json:"in_grace" doc:"ended; the grace period still gives access: show the renewal banner"`
}

func (s *Service) buyerCourse(ctx context.Context, idx *shopIndex, shopID, memberID int64, c *courseFact, now time.Time) (BuyerCourse, error) {
	b := BuyerCourse{ID: c.id, Title: c.title, ListFen: c.priceFen, PriceFen: c.priceFen, Days: c.days, ForSale: c.forSale, sort: c.sort}
	for _, id := range c.lessons {
		if l := idx.lessons[id]; visible(l.status, l.publishAt, now) {
			b.Lessons++
		}
	}
	if c.forSale {
		o, err := s.Offer(ctx, shopID, memberID, KindCourse, c.id)
		if err != nil {
			return b, err
		}
		b.PriceFen = o.PriceFen
	}
	err := s.db.QueryRow(ctx, `SELECT kind, subtitle, cover FROM content_courses WHERE id = ? AND shop_id = ?`, c.id, shopID).Scan(&b.Kind, &b.Subtitle, &b.Cover)
	if err != nil {
		return b, errs.Wrap("course", err)
	}
	if b.Learners, err = s.learners(ctx, shopID, c.id); err != nil {
		return b, err
	}
	ents, err := s.cache.get(ctx, shopID, memberID, now)
	b.Access = idx.courseAccess(ents, c.id, now)
	return b, err
}

// BuyerCourses lists the released courses in order.
func (s *Service) BuyerCourses(ctx context.Context, shopID, memberID int64, after []int64, limit int) ([]BuyerCourse, error) {
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ids, err := db.All(ctx, s.db, scanID, `SELECT id FROM content_courses WHERE shop_id = ? AND status = 'published' AND publish_at <= ?
		AND (sort > ? OR (sort = ? AND id > ?)) ORDER BY sort, id LIMIT ?`, shopID, ms(now), after[0], after[0], after[1], limit+1)
	if err != nil {
		return nil, errs.Wrap("courses", err)
	}
	out := []BuyerCourse{}
	for _, id := range ids {
		if c, ok := idx.courseVisible(id, now); ok {
			b, err := s.buyerCourse(ctx, idx, shopID, memberID, c, now)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

func scanID(r db.Scanner) (int64, error) {
	var id int64
	return id, r.Scan(&id)
}

// BuyerCourse is a released course with its lessons' flags.
func (s *Service) BuyerCourse(ctx context.Context, shopID, memberID, id int64) (BuyerCourseDetail, error) {
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return BuyerCourseDetail{}, err
	}
	now := s.now()
	c, ok := idx.courseVisible(id, now)
	if !ok {
		return BuyerCourseDetail{}, errCourseNotFound
	}
	b, err := s.buyerCourse(ctx, idx, shopID, memberID, c, now)
	if err != nil {
		return BuyerCourseDetail{}, err
	}
	d := BuyerCourseDetail{BuyerCourse: b, LessonsList: []BuyerLessonItem{}}
	var intro string
	if err := s.db.QueryRow(ctx, `SELECT intro FROM content_courses WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&intro); err != nil {
		return BuyerCourseDetail{}, errs.Wrap("course intro", err)
	}
	d.Intro = richtext.Nodes(intro)
	for _, lid := range c.lessons {
		l := idx.lessons[lid]
		if !visible(l.status, l.publishAt, now) {
			continue
		}
		locked := !l.Free && !b.Access.Allowed
		d.LessonsList = append(d.LessonsList, BuyerLessonItem{ID: l.ID, Kind: l.Kind, Title: l.Title, DurationSec: l.DurationSec, Free: l.Free,
			PreviewSec: l.PreviewSec, Locked: locked, Preview: locked && l.PreviewSec > 0})
	}
	return d, nil
}

// lessonDetail is what the lesson route shows beyond LessonInfo, the
// article already turned into nodes.
type lessonDetail struct {
	body                        []richtext.Node
	mediaKey, mediaURL, liveURL string
	replayKey, replayURL, kind  string
	liveAt                      *time.Time
}

// detail is the lesson's detail, from the index's cache or the database.
func (s *Service) detail(ctx context.Context, idx *shopIndex, shopID, id int64) (*lessonDetail, error) {
	if d, ok := idx.details.Load(id); ok {
		return d.(*lessonDetail), nil
	}
	l, err := s.StaffLesson(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	d := &lessonDetail{body: richtext.Nodes(l.Body), mediaKey: l.MediaKey, mediaURL: l.MediaURL, liveURL: l.LiveURL,
		replayKey: l.ReplayKey, replayURL: l.ReplayURL, kind: l.Kind, liveAt: l.LiveAt}
	idx.details.Store(id, d)
	return d, nil
}

// BuyerLesson opens a lesson: in full when the member may, else the
// preview (audio/video: a signed URL serving the preview's share of the
// file; an external VOD URL is never shown without access) and locked.
func (s *Service) BuyerLesson(ctx context.Context, shopID, memberID, id int64) (BuyerLesson, error) {
	a, err := s.CanAccess(ctx, shopID, memberID, id)
	if err != nil {
		return BuyerLesson{}, err
	}
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return BuyerLesson{}, err
	}
	info, ok := idx.lessons[id]
	if !ok {
		return BuyerLesson{}, errLessonNotFound
	}
	d, err := s.detail(ctx, idx, shopID, id)
	if err != nil {
		return BuyerLesson{}, err
	}
	out := BuyerLesson{ID: info.ID, CourseID: info.CourseID, Kind: info.Kind, Title: info.Title, DurationSec: info.DurationSec, Free: info.Free,
		PreviewSec: info.PreviewSec, Locked: !a.Allowed, Access: a, LiveAt: d.liveAt}
	key, external := d.mediaKey, d.mediaURL
	if d.kind == "live" {
		key, external = d.replayKey, d.replayURL
	}
	if !a.Allowed {
		if key != "" && info.PreviewSec > 0 && info.DurationSec > 0 {
			var until time.Time
			out.MediaURL, until, err = s.mediaURL(ctx, shopID, key, max(1, info.PreviewSec*1000/info.DurationSec))
			out.MediaUntil = &until
		}
		return out, err
	}
	out.Body = d.body
	out.LiveURL = d.liveURL
	switch {
	case key != "":
		var until time.Time
		out.MediaURL, until, err = s.mediaURL(ctx, shopID, key, 1000)
		out.MediaUntil = &until
	case external != "":
		out.MediaURL = external
	}
	return out, err
}

// BuyerPackages lists the released packages.
func (s *Service) BuyerPackages(ctx context.Context, shopID, memberID int64, after []int64, limit int) ([]BuyerPackage, error) {
	list, err := s.packages(ctx, shopID, ms(s.now()), after, limit)
	if err != nil {
		return nil, err
	}
	out := []BuyerPackage{}
	for _, p := range list {
		b := BuyerPackage{sort: p.Sort, ID: p.ID, Title: p.Title, Cover: p.Cover, ListFen: p.PriceFen, PriceFen: p.PriceFen, Days: p.Days, ForSale: p.ForSale, CourseIDs: p.CourseIDs}
		if p.ForSale {
			o, err := s.Offer(ctx, shopID, memberID, KindPackage, p.ID)
			if err != nil {
				return nil, err
			}
			b.PriceFen = o.PriceFen
		}
		if b.Access, err = s.HoldsTarget(ctx, shopID, memberID, KindPackage, p.ID); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// BuyerPlans lists the released plans.
func (s *Service) BuyerPlans(ctx context.Context, shopID, memberID int64, after []int64, limit int) ([]BuyerPlan, error) {
	list, err := s.plans(ctx, shopID, ms(s.now()), after, limit)
	if err != nil {
		return nil, err
	}
	out := []BuyerPlan{}
	for _, p := range list {
		b := BuyerPlan{sort: p.Sort, ID: p.ID, Name: p.Name, Period: p.Period, Days: p.Days, PriceFen: p.PriceFen, CoversAll: p.CoversAll, CourseIDs: p.CourseIDs,
			DiscountBP: p.DiscountBP, ForSale: p.ForSale}
		if b.Access, err = s.HoldsTarget(ctx, shopID, memberID, KindPlan, p.ID); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// MyEntitlements lists the member's unrevoked entitlements, newest first.
func (s *Service) MyEntitlements(ctx context.Context, shopID, memberID int64, after int64, limit int) ([]MyEntitlement, error) {
	idx, err := s.index.get(ctx, shopID)
	if err != nil {
		return nil, err
	}
	if after == 0 {
		after = 1<<63 - 1
	}
	now := s.now()
	list, err := db.All(ctx, s.db, func(r db.Scanner) (MyEntitlement, error) {
		var m MyEntitlement
		var starts int64
		var ends sql.NullInt64
		err := r.Scan(&m.ID, &m.TargetKind, &m.TargetID, &m.Source, &starts, &ends)
		m.StartsAt = fromMS(starts)
		h := held{kind: m.TargetKind, id: m.TargetID, start: starts, end: ends.Int64}
		if ends.Valid {
			m.EndsAt = optMS(&ends.Int64)
		}
		g := idx.gives(h, ms(now))
		m.Active, m.InGrace = g.allowed, g.grace
		m.Title = idx.title(m.TargetKind, m.TargetID)
		return m, err
	}, `SELECT id, target_kind, target_id, source, starts_at, ends_at FROM content_entitlements WHERE shop_id = ? AND member_id = ?
		AND revoked_at IS NULL AND id < ? ORDER BY id DESC LIMIT ?`, shopID, memberID, after, limit+1)
	return list, errs.Wrap("my entitlements", err)
}

func (idx *shopIndex) title(kind string, id int64) string {
	switch kind {
	case KindCourse:
		if c := idx.courses[id]; c != nil {
			return c.title
		}
	case KindPackage:
		if p := idx.packages[id]; p != nil {
			return p.title
		}
	case KindPlan:
		if p := idx.plans[id]; p != nil {
			return p.title
		}
	}
	return ""
}
