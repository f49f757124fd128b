// Package qa keeps comments and questions on lessons (issue 13, point 7):
// learners post and reply (through the moderation pipeline first: held
// until approved when its verdict is review, refused when blocked), staff
// with content.teach reply as the teacher, pin and hide; likes are one per
// member and post; the teacher's queue lists unanswered questions, oldest
// first.
//
// Lessons belong to internal/content (reached through Lessons) and the
// moderation pipeline to internal/moderation (through Moderator, which
// *moderation.Service satisfies as it is).
package qa

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/moderation"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Lesson is what qa needs to know of a lesson.
type Lesson struct {
	ID, ShopID, CourseID int64
}

// Lessons is the part of internal/content qa uses. Lesson answers an errs
// NotFound for a lesson that is not the shop's.
type Lessons interface {
	Lesson(ctx context.Context, shopID, lessonID int64) (Lesson, error)
	CanAccess(ctx context.Context, shopID, memberID, lessonID int64) (bool, error)
}

// Moderator is the moderation pipeline a learner's text goes through:
// an item published (visible now), pending (held for review), or an error
// (422 content_blocked, 403 member_banned).
type Moderator interface {
	Submit(ctx context.Context, shopID, memberID int64, in moderation.NewItem) (moderation.Item, error)
}

// Post kinds and statuses.
const (
	Comment  = "comment"
	Question = "question"
	Reply    = "reply"

	Published = "published"
	Pending   = "pending"
	Hidden    = "hidden"
)

// MaxTextRunes bounds a post (moderation takes as much).
const MaxTextRunes = moderation.MaxTextRunes

// Service keeps posts, replies and likes.
type Service struct {
	db        *db.DB
	lessons   Lessons
	moderator Moderator
	now       func() time.Time
}

// NewService returns the comments and questions service.
func NewService(d *db.DB, lessons Lessons, m Moderator) *Service {
	return &Service{db: d, lessons: lessons, moderator: m, now: time.Now}
}

var (
	errLocked       = errs.E(errs.Forbidden, "lesson_locked", "only learners who may open this lesson can post on it")
	errPostNotFound = errs.E(errs.NotFound, "post_not_found", "no such post")
	errNoLesson     = errs.E(errs.NotFound, "lesson_not_found", "no such lesson")
)

// lesson asks content for a lesson; its not-found, whatever content calls
// it, is the documented lesson_not_found.
func (s *Service) lesson(ctx context.Context, shopID, lessonID int64) (Lesson, error) {
	l, err := s.lessons.Lesson(ctx, shopID, lessonID)
	if err != nil && errs.As(err).Kind == errs.NotFound {
		return Lesson{}, errNoLesson
	}
	return l, errs.Wrap("lesson", err)
}

// checkText trims and checks a post's text.
func checkText(text string) (string, error) {
	text = strings.TrimSpace(text)
	n := utf8.RuneCountInString(text)
	if n < 1 || n > MaxTextRunes || strings.ContainsRune(text, 0) {
		return "", errs.Field("text", "invalid_text", "text must be 1 to 2,000 characters")
	}
	return text, nil
}

// lessonFor finds the lesson and checks the member may open it.
func (s *Service) lessonFor(ctx context.Context, shopID, memberID, lessonID int64) (Lesson, error) {
	l, err := s.lesson(ctx, shopID, lessonID)
	if err != nil {
		return Lesson{}, err
	}
	ok, err := s.lessons.CanAccess(ctx, shopID, memberID, lessonID)
	if err != nil && errs.As(err).Kind == errs.NotFound {
		return Lesson{}, errNoLesson // unpublished meanwhile
	}
	if err != nil {
		return Lesson{}, errs.Wrap("access", err)
	}
	if !ok {
		return Lesson{}, errLocked
	}
	return l, nil
}

// moderate sends a learner's text through the pipeline; the post is
// published or pending as its item is.
func (s *Service) moderate(ctx context.Context, shopID, memberID, lessonID int64, text string) (status string, itemID int64, err error) {
	it, err := s.moderator.Submit(ctx, shopID, memberID, moderation.NewItem{
		Kind: "comment", Target: "lesson:" + strconv.FormatInt(lessonID, 10), Text: text})
	if err != nil {
		return "", 0, err
	}
	if it.Status == moderation.Published {
		return Published, it.ID, nil
	}
	return Pending, it.ID, nil
}

// Release publishes the post held for a moderation item that staff have
// approved (server calls it from moderation's OnPublished for comments on
// a "lesson:" target). An item that is no post here is ignored.
func (s *Service) Release(ctx context.Context, shopID, itemID int64) error {
	_, err := s.db.Exec(ctx, `UPDATE qa_posts SET status = 'published', updated_at = ?
		WHERE shop_id = ? AND moderation_item_id = ? AND status = 'pending'`, s.now().UnixMilli(), shopID, itemID)
	return errs.Wrap("release post", err)
}

// IsLessonTarget reports whether a moderation item's target is a lesson's
// (a post of this package), for server's OnPublished switch.
func IsLessonTarget(target string) bool { return strings.HasPrefix(target, "lesson:") }
