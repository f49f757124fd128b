package content

import (
	"context"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/richtext"
)

// Lesson is a lesson as staff see it.
type Lesson struct {
	ID          int64      `json:"id"`
	CourseID    int64      `json:"course_id"`
	Kind        string     `json:"kind" enum:"article,audio,video,live"`
	Title       string     `json:"title"`
	Body        string     `json:"body" doc:"an article's sanitized HTML"`
	MediaKey    string     `json:"media_key" doc:"audio/video: the blob key of an upload (shop/<id>/…)"`
	MediaURL    string     `json:"media_url" doc:"audio/video: an external VOD URL (https) instead of an upload"`
	DurationSec int        `json:"duration_sec"`
	Free        bool       `json:"free" doc:"anyone may open it"`
	PreviewSec  int        `json:"preview_sec" doc:"seconds of audio/video anyone may play"`
	LiveAt      *time.Time `json:"live_at" doc:"live: when it starts"`
	LiveURL     string     `json:"live_url" doc:"live: the link to join"`
	ReplayKey   string     `json:"replay_key" doc:"live: the replay's blob key, afterwards"`
	ReplayURL   string     `json:"replay_url" doc:"live: the replay's external URL, afterwards"`
	Release
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LessonInput creates or replaces a lesson.
type LessonInput struct {
	Kind        string     `json:"kind" enum:"article,audio,video,live"`
	Title       string     `json:"title"`
	Body        string     `json:"body" doc:"article: HTML, made safe"`
	MediaKey    string     `json:"media_key"`
	MediaURL    string     `json:"media_url"`
	DurationSec int        `json:"duration_sec"`
	Free        bool       `json:"free"`
	PreviewSec  int        `json:"preview_sec"`
	LiveAt      *time.Time `json:"live_at"`
	LiveURL     string     `json:"live_url"`
	ReplayKey   string     `json:"replay_key"`
	ReplayURL   string     `json:"replay_url"`
	Status      string     `json:"status" enum:"draft,published"`
	PublishAt   *time.Time `json:"publish_at"`
}

func (in *LessonInput) check(shopID int64) error {
	var v errs.Validator
	v.Check(in.Kind == "article" || in.Kind == "audio" || in.Kind == "video" || in.Kind == "live", "kind", "must be article, audio, video or live")
	checkTitle(&v, "title", in.Title)
	v.Check(len(in.Body) <= MaxIntro, "body", "at most 200000 bytes")
	v.Check(in.DurationSec >= 0 && in.DurationSec <= 24*3600, "duration_sec", "0 to 86400")
	v.Check(in.PreviewSec >= 0 && in.PreviewSec <= in.DurationSec, "preview_sec", "0 to duration_sec")
	checkKey(&v, "media_key", in.MediaKey, shopID)
	checkKey(&v, "replay_key", in.ReplayKey, shopID)
	checkHTTPS(&v, "media_url", in.MediaURL)
	checkHTTPS(&v, "live_url", in.LiveURL)
	checkHTTPS(&v, "replay_url", in.ReplayURL)
	v.Check(in.MediaKey == "" || in.MediaURL == "", "media_url", "an upload or an external URL, not both")
	v.Check(in.ReplayKey == "" || in.ReplayURL == "", "replay_url", "an upload or an external URL, not both")
	media := in.Kind == "audio" || in.Kind == "video"
	v.Check(!media || in.Status != "published" || in.MediaKey != "" || in.MediaURL != "", "media_key", "a published audio or video lesson needs its file or URL")
	v.Check(in.Kind != "live" || in.LiveAt != nil, "live_at", "a live lesson needs its time")
	v.Check(in.Kind == "live" || (in.LiveAt == nil && in.LiveURL == "" && in.ReplayKey == "" && in.ReplayURL == ""), "live_url", "only a live lesson has a live link or replay")
	v.Check(media || (in.MediaKey == "" && in.MediaURL == "" && in.PreviewSec == 0), "media_key", "only audio and video have a file and a preview")
	checkRelease(&v, in.Status)
	return v.Err()
}

const lessonCols = `id, course_id, kind, title, body, media_key, media_url, duration_sec, free, preview_sec, live_at, live_url, replay_key, replay_url,
	status, publish_at, sort, created_at, updated_at`

func scanLesson(r db.Scanner) (Lesson, error) {
	var l Lesson
	var status string
	var liveAt, pub, created, updated int64
	var sort int
	err := r.Scan(&l.ID, &l.CourseID, &l.Kind, &l.Title, &l.Body, &l.MediaKey, &l.MediaURL, &l.DurationSec, &l.Free, &l.PreviewSec,
		&liveAt, &l.LiveURL, &l.ReplayKey, &l.ReplayURL, &status, &pub, &sort, &created, &updated)
	if liveAt > 0 {
		t := fromMS(liveAt)
		l.LiveAt = &t
	}
	l.Release, l.CreatedAt, l.UpdatedAt = pubOut(status, pub, sort), fromMS(created), fromMS(updated)
	return l, err
}

func (in *LessonInput) args() []any {
	return []any{in.Kind, strings.TrimSpace(in.Title), richtext.Sanitize(in.Body), in.MediaKey, in.MediaURL, in.DurationSec, in.Free, in.PreviewSec,
		publishMS(in.LiveAt), in.LiveURL, in.ReplayKey, in.ReplayURL, in.Status, publishMS(in.PublishAt)}
}

// CreateLesson adds a lesson at the end of a course.
func (s *Service) CreateLesson(ctx context.Context, shopID, courseID int64, in LessonInput) (Lesson, error) {
	if err := in.check(shopID); err != nil {
		return Lesson{}, err
	}
	var id int64
	err := s.edit(ctx, shopID, func(tx *db.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM content_courses WHERE id = ? AND shop_id = ?`, courseID, shopID).Scan(&one)
		if db.IsNoRows(err) {
			return errCourseNotFound
		}
		if err != nil {
			return err
		}
		now := ms(s.now())
		args := append([]any{shopID, courseID}, in.args()...)
		args = append(args, shopID, courseID, now, now)
		return tx.QueryRow(ctx, `INSERT INTO content_lessons (shop_id, course_id, kind, title, body, media_key, media_url, duration_sec, free, preview_sec,
			live_at, live_url, replay_key, replay_url, status, publish_at, sort, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort), 0) + 1 FROM content_lessons WHERE shop_id = ? AND course_id = ?), ?, ?)
			RETURNING id`, args...).Scan(&id)
	})
	if err != nil {
		return Lesson{}, errs.Wrap("create lesson", err)
	}
	return s.StaffLesson(ctx, shopID, id)
}

// UpdateLesson replaces a lesson's fields (it stays in its course).
func (s *Service) UpdateLesson(ctx context.Context, shopID, id int64, in LessonInput) (Lesson, error) {
	if err := in.check(shopID); err != nil {
		return Lesson{}, err
	}
	err := s.edit(ctx, shopID, func(tx *db.Tx) error {
		args := append(in.args(), ms(s.now()), id, shopID)
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE content_lessons SET kind = ?, title = ?, body = ?, media_key = ?, media_url = ?, duration_sec = ?, free = ?,
			preview_sec = ?, live_at = ?, live_url = ?, replay_key = ?, replay_url = ?, status = ?, publish_at = ?, updated_at = ?
			WHERE id = ? AND shop_id = ?`, args...))
		if db.IsNoRows(err) {
			return errLessonNotFound
		}
		return err
	})
	if err != nil {
		return Lesson{}, errs.Wrap("update lesson", err)
	}
	return s.StaffLesson(ctx, shopID, id)
}

// StaffLesson is one lesson, drafts included.
func (s *Service) StaffLesson(ctx context.Context, shopID, id int64) (Lesson, error) {
	l, err := scanLesson(s.db.QueryRow(ctx, `SELECT `+lessonCols+` FROM content_lessons WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Lesson{}, errLessonNotFound
	}
	return l, errs.Wrap("lesson", err)
}

// StaffLessons lists a course's lessons in order, drafts included.
func (s *Service) StaffLessons(ctx context.Context, shopID, courseID int64, after []int64, limit int) ([]Lesson, error) {
	if _, err := s.Course(ctx, shopID, courseID); err != nil {
		return nil, err
	}
	list, err := db.All(ctx, s.db, scanLesson, `SELECT `+lessonCols+` FROM content_lessons WHERE shop_id = ? AND course_id = ?
		AND (sort > ? OR (sort = ? AND id > ?)) ORDER BY sort, id LIMIT ?`, shopID, courseID, after[0], after[0], after[1], limit+1)
	return list, errs.Wrap("lessons", err)
}
