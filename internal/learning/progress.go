package learning

import (
	"context"
	"crypto/rand"
	"database/sql"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// ProgressInput is a progress report: a position for audio and video (and a
// live session's replay), read for an article.
type ProgressInput struct {
	PositionSec *int  `json:"position_sec,omitempty" doc:"audio, video, live replay: seconds from the start, 0 to the lesson's length"`
	Read        *bool `json:"read,omitempty" doc:"article: true marks it read (a read article stays read)"`
}

var (
	errLocked      = errs.E(errs.Forbidden, "lesson_locked", "you may not open this lesson: buy the course or a plan that includes it")
	errNoLength    = errs.E(errs.Conflict, "lesson_has_no_length", "this lesson has no length yet, so no position can be kept")
	errCourseEmpty = errs.E(errs.NotFound, "course_not_found", "no such course, or it has no published lesson")
	errNoLesson    = errs.E(errs.NotFound, "lesson_not_found", "no such lesson")
)

// lesson asks content for a lesson; its not-found, whatever content calls
// it, is this route's documented lesson_not_found.
func (s *Service) lesson(ctx context.Context, shopID, lessonID int64) (LessonInfo, error) {
	l, err := s.lessons.Lesson(ctx, shopID, lessonID)
	if err != nil && errs.As(err).Kind == errs.NotFound {
		return LessonInfo{}, errNoLesson
	}
	return l, errs.Wrap("lesson", err)
}

// check validates in against the lesson's kind; it changes nothing.
func (in ProgressInput) check(l LessonInfo) error {
	if l.Kind == Article {
		if in.PositionSec != nil || in.Read == nil || !*in.Read {
			return errs.Field("read", "progress_kind_mismatch", "an article takes {\"read\": true}, no position")
		}
		return nil
	}
	if in.Read != nil || in.PositionSec == nil {
		return errs.Field("position_sec", "progress_kind_mismatch", "audio and video take {\"position_sec\": n}, no read flag")
	}
	p := *in.PositionSec
	switch {
	case p < 0:
		return errs.Field("position_sec", "invalid_position", "position_sec must be 0 or more")
	case l.DurationSec <= 0:
		return errNoLength
	case p > l.DurationSec:
		return errs.Field("position_sec", "position_beyond_length", "position_sec is beyond the lesson's length")
	}
	return nil
}

// Recorded is the outcome of a progress report.
type Recorded struct {
	Lesson             LessonProgress `json:"lesson"`
	Course             CourseSummary  `json:"course"`
	CourseCompletedNow bool           `json:"course_completed_now" doc:"true only for the report that completed the course"`
}

// Record keeps a member's progress in a lesson they may open. The furthest
// position only moves forward; a lesson once complete stays complete. The
// write that completes the last published lesson of a course issues its
// certificate and runs the OnCourseCompleted hooks, once per member and
// course however many reports race.
func (s *Service) Record(ctx context.Context, shopID, memberID, lessonID int64, in ProgressInput) (Recorded, error) {
	l, err := s.lesson(ctx, shopID, lessonID)
	if err != nil {
		return Recorded{}, err
	}
	if err := in.check(l); err != nil {
		return Recorded{}, err
	}
	acc, err := s.lessons.CanAccess(ctx, shopID, memberID, lessonID)
	if err != nil && errs.As(err).Kind == errs.NotFound {
		return Recorded{}, errNoLesson // unpublished meanwhile
	}
	if err != nil {
		return Recorded{}, errs.Wrap("access", err)
	}
	if !acc.Allowed {
		return Recorded{}, errLocked
	}
	// Loaded before the transaction: content answers on its own connection.
	published, err := s.lessons.CourseLessons(ctx, shopID, l.CourseID)
	if err != nil {
		return Recorded{}, errs.Wrap("course lessons", err)
	}
	var out Recorded
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		out = Recorded{}
		return s.record(ctx, tx, memberID, l, in, published, &out)
	})
	if err != nil {
		return Recorded{}, errs.Wrap("record progress", err)
	}
	return out, nil
}

func (s *Service) record(ctx context.Context, tx *db.Tx, memberID int64, l LessonInfo, in ProgressInput, published []LessonInfo, out *Recorded) error {
	now := s.now().UnixMilli()
	// First the member's course row: on PostgreSQL it locks, so reports of
	// one member in one course take turns and the last sees every lesson.
	if _, err := tx.Exec(ctx, `INSERT INTO learning_courses (shop_id, member_id, course_id, last_lesson_id, last_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id, course_id) DO UPDATE SET last_lesson_id = excluded.last_lesson_id,
			last_at = CASE WHEN excluded.last_at >= learning_courses.last_at THEN excluded.last_at ELSE learning_courses.last_at END`,
		l.ShopID, memberID, l.CourseID, l.ID, now); err != nil {
		return err
	}
	pos, read := 0, false
	if in.PositionSec != nil {
		pos = *in.PositionSec
	}
	if in.Read != nil {
		read = *in.Read
	}
	var doneAt any
	if complete(l, pos, read) {
		doneAt = now
	}
	var p LessonProgress
	var completed sql.NullInt64
	var updated int64
	err := tx.QueryRow(ctx, `INSERT INTO learning_progress (shop_id, member_id, lesson_id, course_id, position_sec, furthest_sec, is_read, completed_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id, lesson_id) DO UPDATE SET
			position_sec = excluded.position_sec,
			furthest_sec = CASE WHEN excluded.furthest_sec > learning_progress.furthest_sec THEN excluded.furthest_sec ELSE learning_progress.furthest_sec END,
			is_read = (learning_progress.is_read OR excluded.is_read),
			completed_at = COALESCE(learning_progress.completed_at, excluded.completed_at),
			updated_at = excluded.updated_at
		RETURNING position_sec, furthest_sec, is_read, completed_at, updated_at`,
		l.ShopID, memberID, l.ID, l.CourseID, pos, pos, read, doneAt, now).Scan(&p.PositionSec, &p.FurthestSec, &p.Read, &completed, &updated)
	if err != nil {
		return err
	}
	p.fill(l, completed, updated)
	out.Lesson = p
	done, err := completedLessons(ctx, tx, l.ShopID, memberID, l.CourseID, published)
	if err != nil {
		return err
	}
	out.Course = CourseSummary{CourseID: l.CourseID, LessonsTotal: len(published), LessonsCompleted: done, Percent: percent(done, len(published))}
	if done < len(published) || len(published) == 0 {
		return s.certificateInto(ctx, tx, l.ShopID, memberID, l.CourseID, &out.Course)
	}
	issued, err := s.issue(ctx, tx, l.ShopID, memberID, l.CourseID, now)
	if err != nil {
		return err
	}
	out.CourseCompletedNow = issued
	return s.certificateInto(ctx, tx, l.ShopID, memberID, l.CourseID, &out.Course)
}

// completedLessons counts the member's completed lessons among the
// course's published ones (a lesson since unpublished does not count).
func completedLessons(ctx context.Context, q db.Querier, shopID, memberID, courseID int64, published []LessonInfo) (int, error) {
	ids, err := db.All(ctx, q, func(sc db.Scanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	}, `SELECT lesson_id FROM learning_progress WHERE shop_id = ? AND member_id = ? AND course_id = ? AND completed_at IS NOT NULL`,
		shopID, memberID, courseID)
	if err != nil {
		return 0, err
	}
	done := map[int64]bool{}
	for _, id := range ids {
		done[id] = true
	}
	n := 0
	for _, l := range published {
		if done[l.ID] {
			n++
		}
	}
	return n, nil
}

// issue writes the course's completion (its certificate) unless there is
// one, and runs the hooks only when this call wrote it.
func (s *Service) issue(ctx context.Context, tx *db.Tx, shopID, memberID, courseID, now int64) (bool, error) {
	var name string
	if err := tx.QueryRow(ctx, `SELECT nickname FROM members WHERE id = ? AND shop_id = ?`, memberID, shopID).Scan(&name); err != nil {
		return false, err
	}
	if name == "" {
		name = "学员" // no nickname yet: the certificate still names a learner, never an id
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO learning_certificates (shop_id, member_id, course_id, code, learner_name, completed_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, member_id, course_id) DO NOTHING RETURNING id`,
		shopID, memberID, courseID, newCode(), name, now).Scan(&id)
	if db.IsNoRows(err) {
		return false, nil // completed before: the hooks ran then
	}
	if err != nil {
		return false, err
	}
	for _, fn := range s.hooks {
		if err := fn(ctx, tx, shopID, memberID, courseID); err != nil {
			return false, err
		}
	}
	return true, nil
}

// codeAlphabet has no 0/O or 1/I: codes are read off a picture and typed.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// newCode is a certificate's verification code: 12 random characters (60
// bits), grouped XXXX-XXXX-XXXX.
func newCode() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 14)
	for i, c := range b {
		if i == 4 || i == 8 {
			out = append(out, '-')
		}
		out = append(out, codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return string(out)
}

// certificateInto adds the member's certificate of a course, if any, to sum.
func (s *Service) certificateInto(ctx context.Context, q db.Querier, shopID, memberID, courseID int64, sum *CourseSummary) error {
	var code string
	var at int64
	err := q.QueryRow(ctx, `SELECT code, completed_at FROM learning_certificates WHERE shop_id = ? AND member_id = ? AND course_id = ?`,
		shopID, memberID, courseID).Scan(&code, &at)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	t := msTime(at)
	sum.Completed, sum.CompletedAt, sum.CertificateCode = true, &t, code
	return nil
}

func (p *LessonProgress) fill(l LessonInfo, completed sql.NullInt64, updated int64) {
	p.LessonID, p.Kind, p.DurationSec = l.ID, l.Kind, l.DurationSec
	p.Completed = completed.Valid
	if completed.Valid {
		t := msTime(completed.Int64)
		p.CompletedAt = &t
	}
	t := msTime(updated)
	p.UpdatedAt = &t
}

// now's day in China, for certificates.
func chinaDate(t time.Time) string { return t.In(china).Format(time.DateOnly) }
