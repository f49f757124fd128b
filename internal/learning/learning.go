// Package learning keeps what learners do with paid content (issue 13,
// point 5): progress per member and lesson (the last and furthest position
// of audio and video, the read flag of articles), completion of lessons
// (90 % of the length, or read) and of courses (every published lesson),
// "continue where you left off", and a certificate (a PNG with a
// verification code) when a course is complete.
//
// Lessons and courses belong to internal/content; this package reaches them
// only through its Lessons interface, which server fills.
package learning

import (
	"context"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// china is the zone of completion dates (Asia/Shanghai has no DST).
var china = time.FixedZone("CST", 8*3600)

// Lesson kinds (content's LessonInfo.Kind).
const (
	Article = "article"
	Audio   = "audio"
	Video   = "video"
	Live    = "live"
)

// LessonInfo is what learning needs to know of a lesson (content's
// LessonInfo, field for field).
type LessonInfo struct {
	ID, ShopID, CourseID int64
	Kind                 string // article | audio | video | live
	Title                string
	DurationSec          int
	Free                 bool
	PreviewSec           int
}

// Access is content's answer to whether a member may open a lesson.
type Access struct {
	Allowed bool
	InGrace bool
	EndsAt  *time.Time
	Via     string // free | course | package | plan
}

// Lessons is the part of internal/content learning uses. Lesson answers an
// errs NotFound for a lesson that is not the shop's; CourseLessons lists a
// course's published lessons in order (empty for an unknown course);
// CourseTitle names a course for its certificate (errs NotFound if none).
type Lessons interface {
	Lesson(ctx context.Context, shopID, lessonID int64) (LessonInfo, error)
	CourseLessons(ctx context.Context, shopID, courseID int64) ([]LessonInfo, error)
	CourseTitle(ctx context.Context, shopID, courseID int64) (string, error)
	CanAccess(ctx context.Context, shopID, memberID, lessonID int64) (Access, error)
}

// CourseCompleted runs in the transaction in which a member completes a
// course, exactly once per member and course (server gives points); an
// error undoes the progress write that completed it.
type CourseCompleted func(ctx context.Context, tx *db.Tx, shopID, memberID, courseID int64) error

// Service keeps progress, completions and certificates.
type Service struct {
	db      *db.DB
	lessons Lessons
	log     *slog.Logger
	now     func() time.Time
	hooks   []CourseCompleted
	face    Face
}

// NewService returns the learning service over content's lessons.
func NewService(d *db.DB, lessons Lessons, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, lessons: lessons, log: log, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// OnCourseCompleted adds a hook run once per member and course, in the
// transaction that completes the course.
func (s *Service) OnCourseCompleted(fn CourseCompleted) { s.hooks = append(s.hooks, fn) }

// completedAt is a lesson's completion rule: read for an article, the
// furthest position at 90 % of the length for audio, video and a live
// session's replay.
func complete(l LessonInfo, furthest int, read bool) bool {
	if l.Kind == Article {
		return read
	}
	return l.DurationSec > 0 && furthest*10 >= l.DurationSec*9
}

// percent is done of total as a whole percentage, rounded down (100 only
// when every lesson is complete).
func percent(done, total int) int {
	if total == 0 {
		return 0
	}
	return done * 100 / total
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func msPtr(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := msTime(*ms)
	return &t
}
