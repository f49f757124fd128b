package content

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/richtext"
)

// Limits of the catalogue's inputs.
const (
	MaxTitle    = 100
	MaxIntro    = 200_000 // bytes of an article or introduction's HTML
	MaxPriceFen = 100_000_000
	MaxDays     = 36_500
	MaxCourses  = 500 // in a package or plan
)

var (
	errCourseNotFound  = errs.E(errs.NotFound, "course_not_found", "no such course")
	errLessonNotFound  = errs.E(errs.NotFound, "lesson_not_found", "no such lesson")
	errPackageNotFound = errs.E(errs.NotFound, "package_not_found", "no such package")
	errPlanNotFound    = errs.E(errs.NotFound, "plan_not_found", "no such plan")
)

// Release is when a thing is shown to buyers: published and its
// publish_at passed (none: at once).
type Release struct {
	Status    string     `json:"status" enum:"draft,published"`
	PublishAt *time.Time `json:"publish_at" doc:"scheduled release: buyers see it once published and this time has passed; null: at once"`
	Sort      int        `json:"sort" doc:"position in its list (the reorder routes set it)"`
}

// visible reports whether buyers see it at now.
func visible(status string, publishAt int64, now time.Time) bool {
	return status == "published" && publishAt <= ms(now)
}

func checkRelease(v *errs.Validator, status string) {
	v.Check(status == "draft" || status == "published", "status", "must be draft or published")
}

func publishMS(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return ms(*t)
}

func pubOut(status string, publishAt int64, sort int) Release {
	r := Release{Status: status, Sort: sort}
	if publishAt > 0 {
		t := fromMS(publishAt)
		r.PublishAt = &t
	}
	return r
}

func checkTitle(v *errs.Validator, field, s string) {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	v.Check(n >= 1 && n <= MaxTitle, field, fmt.Sprintf("1 to %d characters", MaxTitle))
}

func checkPrice(v *errs.Validator, price int64, days int) {
	v.Check(price >= 0 && price <= MaxPriceFen, "price_fen", "0 to 100000000 fen")
	v.Check(days >= 0 && days <= MaxDays, "days", "0 (no end) to 36500")
}

// checkHTTPS accepts an empty string or an https URL.
func checkHTTPS(v *errs.Validator, field, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	v.Check(err == nil && u.Scheme == "https" && u.Host != "" && len(s) <= 2000, field, "must be an https URL")
}

// checkKey accepts an empty key or a blob key of the shop's uploads.
func checkKey(v *errs.Validator, field, key string, shopID int64) {
	if key == "" {
		return
	}
	v.Check(blob.ValidKey(key) && strings.HasPrefix(key, fmt.Sprintf("shop/%d/", shopID)), field, "must be a key of this shop's uploads")
}

// Course is a course or a column (专栏), as staff see it.
type Course struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind" enum:"course,column"`
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"`
	Cover    string `json:"cover"`
	Intro    string `json:"intro" doc:"sanitized HTML"`
	PriceFen int64  `json:"price_fen" doc:"the one-time price"`
	Days     int    `json:"days" doc:"how long a purchase gives access; 0: no end"`
	ForSale  bool   `json:"for_sale"`
	Release
	Lessons   int       `json:"lessons" doc:"lessons in it (drafts too)"`
	Learners  int       `json:"learners" doc:"members holding it now, bought alone or in a package (counted from entitlements)"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CourseInput creates or replaces a course.
type CourseInput struct {
	Kind      string     `json:"kind" enum:"course,column"`
	Title     string     `json:"title"`
	Subtitle  string     `json:"subtitle"`
	Cover     string     `json:"cover" doc:"an image URL (https or /media/…)"`
	Intro     string     `json:"intro" doc:"HTML, made safe"`
	PriceFen  int64      `json:"price_fen"`
	Days      int        `json:"days"`
	ForSale   bool       `json:"for_sale"`
	Status    string     `json:"status" enum:"draft,published"`
	PublishAt *time.Time `json:"publish_at"`
}

func (in *CourseInput) check() error {
	var v errs.Validator
	v.Check(in.Kind == "course" || in.Kind == "column", "kind", "must be course or column")
	checkTitle(&v, "title", in.Title)
	v.Check(utf8.RuneCountInString(in.Subtitle) <= 200, "subtitle", "at most 200 characters")
	v.Check(len(in.Cover) <= 2000, "cover", "at most 2000 bytes")
	v.Check(len(in.Intro) <= MaxIntro, "intro", "at most 200000 bytes")
	checkPrice(&v, in.PriceFen, in.Days)
	checkRelease(&v, in.Status)
	return v.Err()
}

const courseCols = `c.id, c.kind, c.title, c.subtitle, c.cover, c.intro, c.price_fen, c.days, c.for_sale, c.status, c.publish_at, c.sort, c.created_at, c.updated_at,
	(SELECT COUNT(*) FROM content_lessons l WHERE l.shop_id = c.shop_id AND l.course_id = c.id)`

func scanCourse(r db.Scanner) (Course, error) {
	var c Course
	var status string
	var pub, created, updated int64
	var sort int
	err := r.Scan(&c.ID, &c.Kind, &c.Title, &c.Subtitle, &c.Cover, &c.Intro, &c.PriceFen, &c.Days, &c.ForSale, &status, &pub, &sort, &created, &updated, &c.Lessons)
	c.Release, c.CreatedAt, c.UpdatedAt = pubOut(status, pub, sort), fromMS(created), fromMS(updated)
	return c, err
}

// CreateCourse adds a course at the end of the shop's list.
func (s *Service) CreateCourse(ctx context.Context, shopID int64, in CourseInput) (Course, error) {
	if err := in.check(); err != nil {
		return Course{}, err
	}
	var id int64
	err := s.edit(ctx, shopID, func(tx *db.Tx) error {
		now := ms(s.now())
		return tx.QueryRow(ctx, `INSERT INTO content_courses (shop_id, kind, title, subtitle, cover, intro, price_fen, days, for_sale, status, publish_at, sort, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort), 0) + 1 FROM content_courses WHERE shop_id = ?), ?, ?) RETURNING id`,
			shopID, in.Kind, strings.TrimSpace(in.Title), in.Subtitle, in.Cover, richtext.Sanitize(in.Intro), in.PriceFen, in.Days, in.ForSale,
			in.Status, publishMS(in.PublishAt), shopID, now, now).Scan(&id)
	})
	if err != nil {
		return Course{}, errs.Wrap("create course", err)
	}
	return s.Course(ctx, shopID, id)
}

// UpdateCourse replaces a course's fields.
func (s *Service) UpdateCourse(ctx context.Context, shopID, id int64, in CourseInput) (Course, error) {
	if err := in.check(); err != nil {
		return Course{}, err
	}
	err := s.edit(ctx, shopID, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE content_courses SET kind = ?, title = ?, subtitle = ?, cover = ?, intro = ?, price_fen = ?, days = ?,
			for_sale = ?, status = ?, publish_at = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
			in.Kind, strings.TrimSpace(in.Title), in.Subtitle, in.Cover, richtext.Sanitize(in.Intro), in.PriceFen, in.Days, in.ForSale,
			in.Status, publishMS(in.PublishAt), ms(s.now()), id, shopID))
		if db.IsNoRows(err) {
			return errCourseNotFound
		}
		return err
	})
	if err != nil {
		return Course{}, errs.Wrap("update course", err)
	}
	return s.Course(ctx, shopID, id)
}

// Course is one course for staff, with its learner count.
func (s *Service) Course(ctx context.Context, shopID, id int64) (Course, error) {
	c, err := scanCourse(s.db.QueryRow(ctx, `SELECT `+courseCols+` FROM content_courses c WHERE c.id = ? AND c.shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Course{}, errCourseNotFound
	}
	if err != nil {
		return Course{}, errs.Wrap("course", err)
	}
	c.Learners, err = s.learners(ctx, shopID, id)
	return c, err
}

// Courses lists the shop's courses in their order.
func (s *Service) Courses(ctx context.Context, shopID int64, after []int64, limit int) ([]Course, error) {
	list, err := db.All(ctx, s.db, scanCourse, `SELECT `+courseCols+` FROM content_courses c WHERE c.shop_id = ? AND (c.sort > ? OR (c.sort = ? AND c.id > ?))
		ORDER BY c.sort, c.id LIMIT ?`, shopID, after[0], after[0], after[1], limit+1)
	if err != nil {
		return nil, errs.Wrap("courses", err)
	}
	for i := range list {
		if list[i].Learners, err = s.learners(ctx, shopID, list[i].ID); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// learners counts the members holding the course now, alone or in a
// package: real entitlements, never a counter staff can set.
func (s *Service) learners(ctx context.Context, shopID, courseID int64) (int, error) {
	now := ms(s.now())
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(DISTINCT member_id) FROM content_entitlements e
		WHERE e.shop_id = ? AND e.revoked_at IS NULL AND e.starts_at <= ? AND (e.ends_at IS NULL OR e.ends_at > ?)
		AND ((e.target_kind = 'course' AND e.target_id = ?)
		  OR (e.target_kind = 'package' AND e.target_id IN (SELECT package_id FROM content_package_courses WHERE shop_id = ? AND course_id = ?)))`,
		shopID, now, now, courseID, shopID, courseID).Scan(&n)
	return n, errs.Wrap("learners", err)
}

// edit runs a catalogue change with the shop's version bump, and drops
// this process's index of the shop after it.
func (s *Service) edit(ctx context.Context, shopID int64, fn func(tx *db.Tx) error) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.bump(ctx, tx, shopID)
	})
	s.index.drop(shopID)
	return err
}

// ReorderInput is the new order of a list: every id of it, first first.
type ReorderInput struct {
	IDs []int64 `json:"ids" doc:"the ids in their new order; ids not named keep their sort value"`
}

// reorderable names the tables whose rows the reorder routes sort.
var reorderable = map[string]string{"courses": "content_courses", "packages": "content_packages", "plans": "content_plans", "lessons": "content_lessons"}

// Reorder sets sort = position for the ids of list (a table of
// reorderable) in the shop; for lessons, of one course. Unknown ids: 404,
// nothing changed.
func (s *Service) Reorder(ctx context.Context, shopID int64, list string, courseID int64, in ReorderInput) error {
	table := reorderable[list]
	if table == "" {
		return errs.E(errs.NotFound, "list_not_found", "no such list")
	}
	if len(in.IDs) == 0 || len(in.IDs) > 1000 {
		return errs.Field("ids", "invalid_ids", "1 to 1000 ids")
	}
	seen := map[int64]bool{}
	for _, id := range in.IDs {
		if id <= 0 || seen[id] {
			return errs.Field("ids", "invalid_ids", "positive ids, each once")
		}
		seen[id] = true
	}
	// Lessons are sorted within their course; the other lists name no course.
	where := `id = ? AND shop_id = ? AND CAST(? AS BIGINT) = 0`
	if list == "lessons" {
		where = `id = ? AND shop_id = ? AND course_id = ?`
	}
	return s.edit(ctx, shopID, func(tx *db.Tx) error {
		for i, id := range in.IDs {
			err := db.ExpectOne(tx.Exec(ctx, `UPDATE `+table+` SET sort = ? WHERE `+where, i+1, id, shopID, courseID))
			if db.IsNoRows(err) {
				return errs.E(errs.NotFound, "item_not_found", fmt.Sprintf("no item %d in this list", id))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
