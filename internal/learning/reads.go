package learning

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

type progressRow struct {
	lessonID, updated  int64
	position, furthest int
	read               bool
	completed          sql.NullInt64
}

func (s *Service) progressRows(ctx context.Context, shopID, memberID, courseID int64) (map[int64]progressRow, error) {
	rows, err := db.All(ctx, s.db, func(sc db.Scanner) (progressRow, error) {
		var r progressRow
		return r, sc.Scan(&r.lessonID, &r.position, &r.furthest, &r.read, &r.completed, &r.updated)
	}, `SELECT lesson_id, position_sec, furthest_sec, is_read, completed_at, updated_at FROM learning_progress
		WHERE shop_id = ? AND member_id = ? AND course_id = ?`, shopID, memberID, courseID)
	out := make(map[int64]progressRow, len(rows))
	for _, r := range rows {
		out[r.lessonID] = r
	}
	return out, err
}

func lessonView(l LessonInfo, r progressRow, ok bool) LessonProgress {
	p := LessonProgress{LessonID: l.ID, Title: l.Title, Kind: l.Kind, DurationSec: l.DurationSec}
	if ok {
		p.PositionSec, p.FurthestSec, p.Read = r.position, r.furthest, r.read
		p.fill(l, r.completed, r.updated)
		p.Title = l.Title
	}
	return p
}

// CourseProgress is where the member stands in a course: each published
// lesson, the percentage, the lesson to continue, the certificate.
func (s *Service) CourseProgress(ctx context.Context, shopID, memberID, courseID int64) (CourseProgress, error) {
	lessons, err := s.lessons.CourseLessons(ctx, shopID, courseID)
	if err != nil {
		return CourseProgress{}, errs.Wrap("course lessons", err)
	}
	if len(lessons) == 0 {
		return CourseProgress{}, errCourseEmpty
	}
	rows, err := s.progressRows(ctx, shopID, memberID, courseID)
	if err != nil {
		return CourseProgress{}, errs.Wrap("course progress", err)
	}
	out := CourseProgress{Lessons: make([]LessonProgress, len(lessons))}
	done := 0
	for i, l := range lessons {
		r, ok := rows[l.ID]
		out.Lessons[i] = lessonView(l, r, ok)
		if out.Lessons[i].Completed {
			done++
		}
	}
	out.CourseSummary = CourseSummary{CourseID: courseID, LessonsTotal: len(lessons), LessonsCompleted: done, Percent: percent(done, len(lessons))}
	if err := s.certificateInto(ctx, s.db, shopID, memberID, courseID, &out.CourseSummary); err != nil {
		return CourseProgress{}, errs.Wrap("course progress", err)
	}
	var last int64
	err = s.db.QueryRow(ctx, `SELECT last_lesson_id FROM learning_courses WHERE shop_id = ? AND member_id = ? AND course_id = ?`,
		shopID, memberID, courseID).Scan(&last)
	if err != nil && !db.IsNoRows(err) {
		return CourseProgress{}, errs.Wrap("course progress", err)
	}
	for i := range out.Lessons {
		if out.Lessons[i].LessonID == last {
			c := out.Lessons[i]
			out.Continue = &c
		}
	}
	return out, nil
}

// Continue lists the courses the member was learning, the most recently
// touched first (its first item is "continue where you left off"), each at
// the lesson touched last with its position. after is the previous page's
// last (last_at, course_id).
func (s *Service) Continue(ctx context.Context, shopID, memberID int64, after []int64, limit int) ([]ContinueItem, error) {
	cond, args := "", []any{shopID, memberID}
	if after != nil {
		cond = ` AND (c.last_at < ? OR (c.last_at = ? AND c.course_id < ?))`
		args = append(args, after[0], after[0], after[1])
	}
	type row struct {
		course, lesson, lastAt int64
		p                      progressRow
		has                    bool
	}
	rows, err := db.All(ctx, s.db, func(sc db.Scanner) (row, error) {
		var r row
		var pos, fur sql.NullInt64
		var read sql.NullBool
		var upd sql.NullInt64
		err := sc.Scan(&r.course, &r.lesson, &r.lastAt, &pos, &fur, &read, &r.p.completed, &upd)
		r.has = upd.Valid
		r.p.position, r.p.furthest, r.p.read, r.p.updated = int(pos.Int64), int(fur.Int64), read.Bool, upd.Int64
		return r, err
	}, `SELECT c.course_id, c.last_lesson_id, c.last_at, p.position_sec, p.furthest_sec, p.is_read, p.completed_at, p.updated_at
		FROM learning_courses c LEFT JOIN learning_progress p
			ON p.shop_id = c.shop_id AND p.member_id = c.member_id AND p.lesson_id = c.last_lesson_id
		WHERE c.shop_id = ? AND c.member_id = ?`+cond+`
		ORDER BY c.last_at DESC, c.course_id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, errs.Wrap("continue", err)
	}
	out := make([]ContinueItem, 0, len(rows))
	for _, r := range rows {
		l, err := s.lessons.Lesson(ctx, shopID, r.lesson)
		if err != nil && errs.As(err).Kind != errs.NotFound {
			return nil, errs.Wrap("continue", err)
		}
		if err != nil { // deleted since: the position stays, without the lesson's facts
			l = LessonInfo{ID: r.lesson, CourseID: r.course}
		}
		out = append(out, ContinueItem{CourseID: r.course, Lesson: lessonView(l, r.p, r.has), LastAt: msTime(r.lastAt)})
	}
	return out, nil
}

// ContinueKeys are an item's sort keys, for the next page's cursor.
func ContinueKeys(c ContinueItem) []int64 { return []int64{c.LastAt.UnixMilli(), c.CourseID} }

type certificate struct {
	memberID, courseID int64
	code, name         string
	completedAt        time.Time
}

var errNoCertificate = errs.E(errs.NotFound, "certificate_not_found", "no certificate: the course is not completed")

func (s *Service) certificate(ctx context.Context, where string, args ...any) (certificate, error) {
	var c certificate
	var at int64
	err := s.db.QueryRow(ctx, `SELECT member_id, course_id, code, learner_name, completed_at FROM learning_certificates WHERE `+where, args...).
		Scan(&c.memberID, &c.courseID, &c.code, &c.name, &at)
	if db.IsNoRows(err) {
		return c, errNoCertificate
	}
	c.completedAt = msTime(at)
	return c, errs.Wrap("certificate", err)
}

// Verify answers what a certificate code certifies (in the shop of the
// mini program asking).
func (s *Service) Verify(ctx context.Context, shopID int64, code string) (CertificateView, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 14 {
		return CertificateView{}, errNoCertificate
	}
	c, err := s.certificate(ctx, `shop_id = ? AND code = ?`, shopID, code)
	if err != nil {
		return CertificateView{}, err
	}
	return s.view(ctx, shopID, c)
}

func (s *Service) view(ctx context.Context, shopID int64, c certificate) (CertificateView, error) {
	title, err := s.lessons.CourseTitle(ctx, shopID, c.courseID)
	if err != nil && errs.As(err).Kind != errs.NotFound {
		return CertificateView{}, errs.Wrap("course title", err)
	}
	return CertificateView{Code: c.code, LearnerName: c.name, CourseID: c.courseID, CourseTitle: title, CompletedOn: chinaDate(c.completedAt)}, nil
}

// CertificatePNG draws the member's certificate of a course.
func (s *Service) CertificatePNG(ctx context.Context, shopID, memberID, courseID int64) ([]byte, error) {
	c, err := s.certificate(ctx, `shop_id = ? AND member_id = ? AND course_id = ?`, shopID, memberID, courseID)
	if err != nil {
		return nil, err
	}
	v, err := s.view(ctx, shopID, c)
	if err != nil {
		return nil, err
	}
	return s.render(v)
}

// Learner is one member's progress in a course, for staff.
type Learner struct {
	MemberID         int64      `json:"member_id"`
	Nickname         string     `json:"nickname"`
	LessonsCompleted int        `json:"lessons_completed"`
	LessonsTotal     int        `json:"lessons_total"`
	Percent          int        `json:"percent"`
	CompletedAt      *time.Time `json:"completed_at" doc:"when the course was completed (the certificate issued)"`
	CertificateCode  string     `json:"certificate_code,omitempty"`
	LastLessonID     int64      `json:"last_lesson_id"`
	LastAt           time.Time  `json:"last_at"`
}

// LearnerKeys are a learner's sort keys, for the next page's cursor.
func LearnerKeys(l Learner) []int64 { return []int64{l.LastAt.UnixMilli(), l.MemberID} }

// Learners lists a course's learners, the most recently active first.
func (s *Service) Learners(ctx context.Context, shopID, courseID int64, after []int64, limit int) ([]Learner, error) {
	if _, err := s.lessons.CourseTitle(ctx, shopID, courseID); err != nil {
		return nil, err // another shop's course is not found
	}
	lessons, err := s.lessons.CourseLessons(ctx, shopID, courseID)
	if err != nil {
		return nil, errs.Wrap("course lessons", err)
	}
	cond, args := "", []any{shopID, courseID}
	if after != nil {
		cond = ` AND (c.last_at < ? OR (c.last_at = ? AND c.member_id < ?))`
		args = append(args, after[0], after[0], after[1])
	}
	out, err := db.All(ctx, s.db, func(sc db.Scanner) (Learner, error) {
		var l Learner
		var last int64
		var done sql.NullInt64
		var code sql.NullString
		err := sc.Scan(&l.MemberID, &l.Nickname, &l.LastLessonID, &last, &done, &code)
		l.LastAt, l.CompletedAt, l.CertificateCode = msTime(last), msPtr(nullPtr(done)), code.String
		return l, err
	}, `SELECT c.member_id, m.nickname, c.last_lesson_id, c.last_at, t.completed_at, t.code
		FROM learning_courses c JOIN members m ON m.id = c.member_id AND m.shop_id = c.shop_id
		LEFT JOIN learning_certificates t ON t.shop_id = c.shop_id AND t.member_id = c.member_id AND t.course_id = c.course_id
		WHERE c.shop_id = ? AND c.course_id = ?`+cond+`
		ORDER BY c.last_at DESC, c.member_id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, errs.Wrap("learners", err)
	}
	done, err := s.completedByMember(ctx, shopID, courseID, out, lessons)
	if err != nil {
		return nil, errs.Wrap("learners", err)
	}
	for i := range out {
		n := done[out[i].MemberID]
		out[i].LessonsCompleted, out[i].LessonsTotal, out[i].Percent = n, len(lessons), percent(n, len(lessons))
	}
	return out, nil
}

// completedByMember counts each learner's completed lessons among the
// course's published ones, in one query for the page.
func (s *Service) completedByMember(ctx context.Context, shopID, courseID int64, page []Learner, published []LessonInfo) (map[int64]int, error) {
	out := map[int64]int{}
	if len(page) == 0 {
		return out, nil
	}
	args := []any{shopID, courseID}
	for _, l := range page {
		args = append(args, l.MemberID)
	}
	type pair struct{ member, lesson int64 }
	rows, err := db.All(ctx, s.db, func(sc db.Scanner) (pair, error) {
		var p pair
		return p, sc.Scan(&p.member, &p.lesson)
	}, `SELECT member_id, lesson_id FROM learning_progress
		WHERE shop_id = ? AND course_id = ? AND completed_at IS NOT NULL AND member_id IN (?`+strings.Repeat(", ?", len(page)-1)+`)`, args...)
	pub := map[int64]bool{}
	for _, l := range published {
		pub[l.ID] = true
	}
	for _, p := range rows {
		if pub[p.lesson] {
			out[p.member]++
		}
	}
	return out, err
}

func nullPtr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}
