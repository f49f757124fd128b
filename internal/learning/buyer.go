package learning

import "time"

// The buyers' types: the session is the member, so none carries a member
// id or anything staff see.

// LessonProgress is the member's progress in one lesson.
type LessonProgress struct {
	LessonID    int64      `json:"lesson_id"`
	Title       string     `json:"title,omitempty"`
	Kind        string     `json:"kind" enum:"article,audio,video,live"`
	PositionSec int        `json:"position_sec" doc:"where the member stopped last (audio, video)"`
	FurthestSec int        `json:"furthest_sec" doc:"the furthest position reached; never moves back"`
	DurationSec int        `json:"duration_sec"`
	Read        bool       `json:"read" doc:"articles: read"`
	Completed   bool       `json:"completed" doc:"90 % of the length reached, or read"`
	CompletedAt *time.Time `json:"completed_at"`
	UpdatedAt   *time.Time `json:"updated_at" doc:"null: not started"`
}

// CourseSummary is where the member stands in a course.
type CourseSummary struct {
	CourseID         int64      `json:"course_id"`
	LessonsTotal     int        `json:"lessons_total" doc:"published lessons"`
	LessonsCompleted int        `json:"lessons_completed"`
	Percent          int        `json:"percent" doc:"completed / published lessons, 0 to 100, rounded down"`
	Completed        bool       `json:"completed" doc:"the course was completed (the certificate exists), even if lessons were added since"`
	CompletedAt      *time.Time `json:"completed_at"`
	CertificateCode  string     `json:"certificate_code,omitempty" doc:"the verification code printed on the certificate"`
}

// CourseProgress is a course's progress with each published lesson's.
type CourseProgress struct {
	CourseSummary
	Continue *LessonProgress  `json:"continue" doc:"the lesson touched last in this course; null before any"`
	Lessons  []LessonProgress `json:"lessons" doc:"every published lesson, in the course's order"`
}

// ContinueItem is a course the member was learning, at the lesson touched last.
type ContinueItem struct {
	CourseID int64          `json:"course_id"`
	Lesson   LessonProgress `json:"lesson"`
	LastAt   time.Time      `json:"last_at"`
}

// CertificateView is what the verify route shows of a certificate.
type CertificateView struct {
	Code        string `json:"code"`
	LearnerName string `json:"learner_name" doc:"the learner's nickname when the course was completed"`
	CourseID    int64  `json:"course_id"`
	CourseTitle string `json:"course_title"`
	CompletedOn string `json:"completed_on" doc:"2006-01-02, Asia/Shanghai"`
}
