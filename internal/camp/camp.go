// Package camp is training camps (训练营, issue 13): a cohort with a start
// date (Asia/Shanghai) and N days, each day's task opening at 00:00
// Shanghai time of its date; learners join (free camps directly, paid ones
// through an entitlement of kind "camp" asked through Enrolments), check in
// once a day with text and images (moderated first; held ones hidden until
// staff approve), fill missed days with a counted make-up allowance (补卡),
// and staff see who is behind. Seats and make-ups are compare-and-set
// counters that never go past their limits. Imports only platform/*.
package camp

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// TargetKind is the entitlement kind of a camp.
const TargetKind = "camp"

// Enrolments answers whether a member holds an unexpired entitlement to a
// target (content's HoldsTarget, adapted by server).
type Enrolments interface {
	HoldsTarget(ctx context.Context, shopID, memberID int64, kind string, id int64) (held bool, err error)
}

// Moderator gives the moderation rules' verdict on a learner's text: "pass",
// "review" (held until staff approve) or "block" (refused). It mirrors
// moderation.Service.Check (whose first result is the verdict); server
// adapts it with ModeratorFunc.
type Moderator interface {
	Verdict(shopID int64, text string) string
}

// ModeratorFunc adapts a function to Moderator.
type ModeratorFunc func(shopID int64, text string) string

// Verdict calls f.
func (f ModeratorFunc) Verdict(shopID int64, text string) string { return f(shopID, text) }

// Verdicts a Moderator answers.
const (
	VerdictPass   = "pass"
	VerdictReview = "review"
	VerdictBlock  = "block"
)

// Service keeps camps, enrolments and check-ins.
type Service struct {
	db    *db.DB
	enrol Enrolments
	mod   Moderator
	now   func() time.Time
}

// NewService returns the camp service. enrol may be nil (paid camps then
// cannot be joined); mod may be nil (every text passes).
func NewService(d *db.DB, enrol Enrolments, mod Moderator) *Service {
	return &Service{db: d, enrol: enrol, mod: mod, now: time.Now}
}

// SetClock replaces the clock (tests cross Shanghai midnight with it).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) today() Day { return DayOf(s.now()) }

// Camp statuses: draft (staff only), open (joinable), closed (no new
// learners; enrolled learners keep checking in).
const (
	Draft  = "draft"
	Open   = "open"
	Closed = "closed"
)

// Camp is a camp as staff see it.
type Camp struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Intro     string    `json:"intro"`
	PriceFen  int64     `json:"price_fen" doc:"0: free (joined directly); else sold as entitlement kind camp"`
	StartDate string    `json:"start_date" doc:"the cohort's first day, 2006-01-02 (Asia/Shanghai)"`
	EndDate   string    `json:"end_date" doc:"the last day, 2006-01-02"`
	Days      int       `json:"days"`
	Capacity  int64     `json:"capacity" doc:"seats; 0: no limit"`
	Enrolled  int64     `json:"enrolled" doc:"learners enrolled (a real count)"`
	Makeups   int       `json:"makeups" doc:"make-ups (补卡) each learner gets at enrolment"`
	Status    string    `json:"status" enum:"draft,open,closed"`
	Version   int64     `json:"version"`
	Tasks     []Task    `json:"tasks" doc:"one per day, in order (empty in lists)"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Task is one day's task.
type Task struct {
	Day      int    `json:"day" doc:"1 to days"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	LessonID int64  `json:"lesson_id" doc:"a content lesson to study that day; 0: none"`
}

// Input is what staff write for a camp (a full replace on update).
type Input struct {
	Title     string      `json:"title" doc:"1 to 60 characters"`
	Intro     string      `json:"intro" doc:"up to 5,000 characters"`
	PriceFen  int64       `json:"price_fen" doc:"0 to 10,000,000 (0: free)"`
	StartDate string      `json:"start_date" doc:"2006-01-02 (Asia/Shanghai)"`
	Capacity  int64       `json:"capacity" doc:"0 to 1,000,000 (0: no limit); never below the learners enrolled"`
	Makeups   int         `json:"makeups" doc:"0 to the number of days; given to each learner when they join (a later change leaves learners already in as they are)"`
	Status    string      `json:"status" enum:"draft,open,closed" doc:"draft (default), open or closed; back to draft only without learners"`
	Tasks     []TaskInput `json:"tasks" doc:"one per day, day 1 first: 1 to 366 (their number is the camp's length)"`
}

// TaskInput is one day's task as staff write it.
type TaskInput struct {
	Title    string `json:"title" doc:"1 to 60 characters"`
	Body     string `json:"body" doc:"up to 5,000 characters"`
	LessonID int64  `json:"lesson_id" doc:"0 (none) or a lesson id"`
}

// Limits of a camp.
const (
	MaxDays     = 366
	maxTitle    = 60
	maxBody     = 5000
	maxPriceFen = 10_000_000
	maxCapacity = 1_000_000
)

func textOK(s string, min, max int) bool {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	return n >= min && utf8.RuneCountInString(s) <= max && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// validate checks in and returns its start day.
func (in *Input) validate() (Day, error) {
	in.Title = strings.TrimSpace(in.Title)
	if in.Status == "" {
		in.Status = Draft
	}
	var v errs.Validator
	v.Check(textOK(in.Title, 1, maxTitle), "title", "must be 1 to 60 characters")
	v.Check(textOK(in.Intro, 0, maxBody), "intro", "must be at most 5,000 characters")
	v.Check(in.PriceFen >= 0 && in.PriceFen <= maxPriceFen, "price_fen", "must be 0 to 10,000,000 fen")
	start, ok := ParseDay(in.StartDate)
	v.Check(ok, "start_date", "must be a date 2006-01-02 (years 2000 to 2100)")
	v.Check(in.Capacity >= 0 && in.Capacity <= maxCapacity, "capacity", "must be 0 to 1,000,000")
	v.Check(len(in.Tasks) >= 1 && len(in.Tasks) <= MaxDays, "tasks", "must hold 1 to 366 days")
	v.Check(in.Makeups >= 0 && in.Makeups <= len(in.Tasks), "makeups", "must be 0 to the number of days")
	v.Check(in.Status == Draft || in.Status == Open || in.Status == Closed, "status", "must be draft, open or closed")
	for i := range in.Tasks {
		t := &in.Tasks[i]
		t.Title = strings.TrimSpace(t.Title)
		v.Check(textOK(t.Title, 1, maxTitle), "tasks", "each task needs a title of 1 to 60 characters")
		v.Check(textOK(t.Body, 0, maxBody), "tasks", "a task's body is at most 5,000 characters")
		v.Check(t.LessonID >= 0, "tasks", "lesson_id must be 0 or a lesson id")
	}
	return start, v.Err()
}

const campColumns = `id, title, intro, price_fen, start_day, days, capacity, enrolled, makeups, status, version, created_at, updated_at`

// row is a camp row with its start as a Day.
type row struct {
	Camp
	start Day
}

func (r row) day(n int) Day      { return r.start + Day(n-1) }
func (r row) last() Day          { return r.day(r.Days) }
func (r row) started(d Day) bool { return d >= r.start }

// open is the number of days open on today (0 before the start, at most Days).
func (r row) open(today Day) int {
	return int(min(max(today-r.start+1, 0), Day(r.Days)))
}

func scanCamp(sc db.Scanner) (row, error) {
	var r row
	var created, updated int64
	err := sc.Scan(&r.ID, &r.Title, &r.Intro, &r.PriceFen, &r.start, &r.Days, &r.Capacity, &r.Enrolled, &r.Makeups,
		&r.Status, &r.Version, &created, &updated)
	r.StartDate, r.EndDate = r.start.String(), r.last().String()
	r.CreatedAt, r.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	r.Tasks = []Task{}
	return r, err
}

var errCampNotFound = errs.E(errs.NotFound, "camp_not_found", "no such camp")

// load reads a camp of the shop (errCampNotFound when none).
func load(ctx context.Context, q db.Querier, shopID, id int64) (row, error) {
	r, err := scanCamp(q.QueryRow(ctx, `SELECT `+campColumns+` FROM camps WHERE shop_id = ? AND id = ?`, shopID, id))
	if db.IsNoRows(err) {
		return row{}, errCampNotFound
	}
	return r, errs.Wrap("read camp", err)
}

func tasks(ctx context.Context, q db.Querier, shopID, campID int64) ([]Task, error) {
	return db.All(ctx, q, func(sc db.Scanner) (Task, error) {
		var t Task
		err := sc.Scan(&t.Day, &t.Title, &t.Body, &t.LessonID)
		return t, err
	}, `SELECT day, title, body, lesson_id FROM camp_tasks WHERE shop_id = ? AND camp_id = ? ORDER BY day`, shopID, campID)
}

func writeTasks(ctx context.Context, tx *db.Tx, shopID, campID int64, ts []TaskInput) error {
	if _, err := tx.Exec(ctx, `DELETE FROM camp_tasks WHERE shop_id = ? AND camp_id = ?`, shopID, campID); err != nil {
		return err
	}
	for i, t := range ts {
		if _, err := tx.Exec(ctx, `INSERT INTO camp_tasks (shop_id, camp_id, day, title, body, lesson_id) VALUES (?, ?, ?, ?, ?, ?)`,
			shopID, campID, i+1, t.Title, t.Body, t.LessonID); err != nil {
			return err
		}
	}
	return nil
}

// Create adds a camp.
func (s *Service) Create(ctx context.Context, shopID int64, in Input) (Camp, error) {
	start, err := in.validate()
	if err != nil {
		return Camp{}, err
	}
	var id int64
	now := s.now().UnixMilli()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO camps (shop_id, title, intro, price_fen, start_day, days, capacity, makeups, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			shopID, in.Title, in.Intro, in.PriceFen, int64(start), len(in.Tasks), in.Capacity, in.Makeups, in.Status, now, now).Scan(&id); err != nil {
			return err
		}
		return writeTasks(ctx, tx, shopID, id, in.Tasks)
	})
	if err != nil {
		return Camp{}, errs.Wrap("create camp", err)
	}
	return s.Get(ctx, shopID, id)
}

// Get is a camp with its tasks.
func (s *Service) Get(ctx context.Context, shopID, id int64) (Camp, error) {
	r, err := load(ctx, s.db, shopID, id)
	if err != nil {
		return Camp{}, err
	}
	if r.Tasks, err = tasks(ctx, s.db, shopID, id); err != nil {
		return Camp{}, errs.Wrap("read tasks", err)
	}
	return r.Camp, nil
}

// List pages the shop's camps, newest first (tasks left out).
func (s *Service) List(ctx context.Context, shopID int64, status string, after int64, limit int) ([]Camp, error) {
	if status != "" && status != Draft && status != Open && status != Closed {
		return nil, errs.Field("status", "invalid_query", "status must be draft, open or closed")
	}
	if after == 0 {
		after = 1<<63 - 1
	}
	rows, err := db.All(ctx, s.db, scanCamp, `SELECT `+campColumns+` FROM camps
		WHERE shop_id = ? AND id < ? AND (? = '' OR status = ?) ORDER BY id DESC LIMIT ?`, shopID, after, status, status, limit+1)
	out := make([]Camp, len(rows))
	for i, r := range rows {
		out[i] = r.Camp
	}
	return out, errs.Wrap("list camps", err)
}

// Update replaces a camp's fields and tasks. Once the camp has started
// with learners its start date and length stay; the capacity never goes
// below the learners enrolled; a camp with learners is never a draft again.
// An edit that lost to another one answers 409 camp_changed.
func (s *Service) Update(ctx context.Context, shopID, id int64, in Input) (Camp, error) {
	start, err := in.validate()
	if err != nil {
		return Camp{}, err
	}
	today := s.today()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := load(ctx, tx, shopID, id)
		if err != nil {
			return err
		}
		if err := old.canBecome(in, start, today); err != nil {
			return err
		}
		// The seat counter is not read from old: a join may have moved it,
		// so the conditions on it are part of the update itself.
		err = db.ExpectOne(tx.Exec(ctx, `UPDATE camps SET title = ?, intro = ?, price_fen = ?, start_day = ?, days = ?, capacity = ?,
			makeups = ?, status = ?, version = version + 1, updated_at = ?
			WHERE shop_id = ? AND id = ? AND version = ? AND (? = 0 OR enrolled <= ?) AND (? <> 'draft' OR enrolled = 0)
			AND (enrolled = 0 OR (start_day = ? AND days = ?) OR start_day > ?)`,
			in.Title, in.Intro, in.PriceFen, int64(start), len(in.Tasks), in.Capacity, in.Makeups, in.Status, s.now().UnixMilli(),
			shopID, id, old.Version, in.Capacity, in.Capacity, in.Status, int64(start), len(in.Tasks), int64(today)))
		if db.IsNoRows(err) {
			return whyNot(ctx, tx, shopID, id, in, start, today)
		}
		if err != nil {
			return err
		}
		return writeTasks(ctx, tx, shopID, id, in.Tasks)
	})
	if err != nil {
		return Camp{}, errs.Wrap("update camp", err)
	}
	return s.Get(ctx, shopID, id)
}

// canBecome refuses an edit the camp's state forbids.
func (r row) canBecome(in Input, start Day, today Day) error {
	switch {
	case r.Enrolled > 0 && r.started(today) && (start != r.start || len(in.Tasks) != r.Days):
		return errs.E(errs.Conflict, "camp_started", "the camp has started with learners: its start date and number of days stay")
	case in.Capacity > 0 && in.Capacity < r.Enrolled:
		return errs.E(errs.Conflict, "capacity_below_enrolled", "the capacity cannot be below the learners enrolled")
	case in.Status == Draft && r.Enrolled > 0:
		return errs.E(errs.Conflict, "camp_has_learners", "a camp with learners cannot go back to draft")
	}
	return nil
}

// whyNot explains an update that changed no row: the state it met (a join
// moved the seat counter) or a concurrent edit.
func whyNot(ctx context.Context, tx *db.Tx, shopID, id int64, in Input, start, today Day) error {
	now, err := load(ctx, tx, shopID, id)
	if err != nil {
		return err
	}
	if err := now.canBecome(in, start, today); err != nil {
		return err
	}
	return errs.E(errs.Conflict, "camp_changed", "the camp changed meanwhile; load it and try again")
}

// Offer is what the sale needs of a camp: its title and price. It answers
// errs NotFound (camp_not_for_sale) when the camp does not exist, is not
// open, is free (joined directly, never sold) or has ended, and 409
// camp_full when every seat is taken.
func (s *Service) Offer(ctx context.Context, shopID, campID int64) (title string, priceFen int64, err error) {
	r, err := load(ctx, s.db, shopID, campID)
	if errs.Is(err, "camp_not_found") || err == nil && (r.Status != Open || r.PriceFen == 0 || s.today() > r.last()) {
		return "", 0, errs.E(errs.NotFound, "camp_not_for_sale", "no such camp for sale")
	}
	if err != nil {
		return "", 0, err
	}
	if r.Capacity > 0 && r.Enrolled >= r.Capacity {
		return "", 0, errFull
	}
	return r.Title, r.PriceFen, nil
}
