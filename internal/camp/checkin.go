package camp

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Check-in statuses.
const (
	Published = "published"
	Pending   = "pending"  // held by moderation until staff approve
	Rejected  = "rejected" // by staff; the learner may check in again for the day
)

// CheckinInput is what a learner sends for a day.
type CheckinInput struct {
	Day    int      `json:"day" doc:"the camp day, 1 to the camp's days: today's, or a past one (a make-up)"`
	Text   string   `json:"text" doc:"up to 2,000 characters; text or at least one image"`
	Images []string `json:"images" doc:"up to 9 media keys of this shop (shop/<shop id>/…), each up to 200 characters"`
}

const (
	maxCheckinText = 2000
	maxImages      = 9
	maxImageKey    = 200
)

// validImageKey accepts a media blob key of the shop: shop/<id>/ then
// lower-case letters, digits, '.', '_' and '-', no "..".
func validImageKey(shopID int64, key string) bool {
	prefix := "shop/" + strconv.FormatInt(shopID, 10) + "/"
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(key) > maxImageKey || rest == "" || strings.Contains(rest, "..") {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (in *CheckinInput) validate(shopID int64) error {
	var v errs.Validator
	v.Check(textOK(in.Text, 0, maxCheckinText), "text", "must be at most 2,000 characters")
	v.Check(len(in.Images) <= maxImages, "images", "at most 9 images")
	for _, k := range in.Images {
		v.Check(validImageKey(shopID, k), "images", "each image must be a media key of this shop")
	}
	v.Check(strings.TrimSpace(in.Text) != "" || len(in.Images) > 0, "text", "send text or at least one image")
	if in.Images == nil {
		in.Images = []string{}
	}
	return v.Err()
}

// Checkin is a learner's check-in as its author sees it.
type Checkin struct {
	ID        int64     `json:"id"`
	Day       int       `json:"day"`
	Text      string    `json:"text"`
	Images    []string  `json:"images"`
	Status    string    `json:"status" enum:"published,pending,rejected" doc:"pending: held for review, visible only to its author until approved"`
	MadeUp    bool      `json:"made_up" doc:"a missed day filled with a make-up (补卡)"`
	CreatedAt time.Time `json:"created_at"`
}

// CheckinResult is the outcome of a check-in.
type CheckinResult struct {
	Checkin          Checkin `json:"checkin"`
	AlreadyCheckedIn bool    `json:"already_checked_in" doc:"true when the day was checked in before: nothing changed, this is that check-in"`
	MakeupsLeft      int     `json:"makeups_left"`
}

var (
	errDayNotOpen = errs.E(errs.Conflict, "day_not_open", "this day has not opened yet (days open at 00:00 Asia/Shanghai)")
	errNoMakeups  = errs.E(errs.Conflict, "no_makeups_left", "no make-ups (补卡) left for a missed day")
	errDayRange   = errs.Field("day", "day_out_of_range", "day must be one of the camp's days")
)

// CheckIn checks the learner in for a day of the camp: today's is a
// check-in, a past day's a make-up that spends one of the allowance (by
// compare-and-set, never below zero), a day not open yet is refused. The
// text is moderated first: blocked text is refused (422), text to review is
// held (pending) until staff approve it. One check-in per learner per day:
// a second answers the first (a rejected one may be replaced).
func (s *Service) CheckIn(ctx context.Context, shopID, memberID, campID int64, in CheckinInput) (CheckinResult, error) {
	if err := in.validate(shopID); err != nil {
		return CheckinResult{}, err
	}
	r, err := buyerCamp(ctx, s.db, shopID, campID)
	if err != nil {
		return CheckinResult{}, err
	}
	e, err := readEnrolment(ctx, s.db, shopID, campID, memberID)
	if err != nil {
		return CheckinResult{}, err
	}
	day := in.Day
	if day < 1 || day > r.Days {
		return CheckinResult{}, errDayRange
	}
	today := s.today()
	if r.day(day) > today {
		return CheckinResult{}, errDayNotOpen
	}
	status, err := s.moderate(shopID, in.Text)
	if err != nil {
		return CheckinResult{}, err
	}
	madeUp := r.day(day) < today
	images, _ := json.Marshal(in.Images)
	var already bool
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		already, err = s.write(ctx, tx, e, memberID, day, madeUp, in.Text, string(images), status)
		return err
	})
	if err != nil {
		return CheckinResult{}, errs.Wrap("check in", err)
	}
	c, err := s.myCheckin(ctx, shopID, campID, memberID, day)
	if err != nil {
		return CheckinResult{}, err
	}
	e, err = readEnrolment(ctx, s.db, shopID, campID, memberID)
	return CheckinResult{Checkin: c, AlreadyCheckedIn: already, MakeupsLeft: e.MakeupsLeft}, err
}

// moderate is the status a check-in's text starts in.
func (s *Service) moderate(shopID int64, text string) (string, error) {
	if s.mod == nil || strings.TrimSpace(text) == "" {
		return Published, nil
	}
	switch s.mod.Verdict(shopID, text) {
	case VerdictPass:
		return Published, nil
	case VerdictBlock:
		e := errs.E(errs.Unprocessable, "content_blocked", "the text contains prohibited content")
		e.Fields = map[string]string{"text": "contains prohibited content"}
		return "", e
	default: // review, or anything the rules do not promise: held
		return Pending, nil
	}
}

// write inserts the day's check-in, or replaces a rejected one, and counts
// it on the enrolment. already is true when the day was checked in before.
func (s *Service) write(ctx context.Context, tx *db.Tx, e enrolment, memberID int64, day int, madeUp bool, text, images, status string) (already bool, err error) {
	now := s.now().UnixMilli()
	shopID, campID := e.shopID, e.CampID
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO camp_checkins (shop_id, camp_id, member_id, day, text, images, status, made_up, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, camp_id, member_id, day) DO NOTHING RETURNING id`,
		shopID, campID, memberID, day, text, images, status, madeUp, now, now).Scan(&id)
	if db.IsNoRows(err) { // the day holds a check-in: only a rejected one is replaced
		return s.replace(ctx, tx, e, memberID, day, madeUp, text, images, status)
	}
	if err != nil {
		return false, err
	}
	spend := 0
	if madeUp {
		spend = 1
	}
	return false, countCheckin(ctx, tx, e.id, spend, now)
}

// countCheckin adds a check-in to the enrolment, spending a make-up when
// spend is 1. The make-up is spent by compare-and-set: with none left
// nothing changes and the caller's transaction is rolled back.
func countCheckin(ctx context.Context, tx *db.Tx, enrolmentID int64, spend int, now int64) error {
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE camp_enrolments SET makeups_left = makeups_left - ?, days_done = days_done + 1,
		last_checkin_at = ? WHERE id = ? AND makeups_left >= ?`, spend, now, enrolmentID, spend))
	if db.IsNoRows(err) {
		return errNoMakeups
	}
	return err
}

// replace writes a new check-in over the day's rejected one (compare-and-set
// on its status; any other status answers already). A day that was checked
// in on time and is now past costs a make-up like any missed day; one made
// up before is not charged again.
func (s *Service) replace(ctx context.Context, tx *db.Tx, e enrolment, memberID int64, day int, madeUp bool, text, images, status string) (already bool, err error) {
	var wasMadeUp bool
	var old string
	err = tx.QueryRow(ctx, `SELECT made_up, status FROM camp_checkins WHERE shop_id = ? AND camp_id = ? AND member_id = ? AND day = ?`,
		e.shopID, e.CampID, memberID, day).Scan(&wasMadeUp, &old)
	if err != nil || old != Rejected {
		return err == nil, err
	}
	now := s.now().UnixMilli()
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE camp_checkins SET text = ?, images = ?, status = ?, made_up = ?, reviewed_by = 0, updated_at = ?
		WHERE shop_id = ? AND camp_id = ? AND member_id = ? AND day = ? AND status = 'rejected'`,
		text, images, status, wasMadeUp || madeUp, now, e.shopID, e.CampID, memberID, day))
	if db.IsNoRows(err) {
		return true, nil // replaced meanwhile
	}
	if err != nil {
		return false, err
	}
	spend := 0
	if madeUp && !wasMadeUp {
		spend = 1
	}
	return false, countCheckin(ctx, tx, e.id, spend, now)
}

const checkinColumns = `id, day, text, images, status, made_up, created_at`

func scanCheckin(sc db.Scanner) (Checkin, error) {
	var c Checkin
	var images string
	var at int64
	if err := sc.Scan(&c.ID, &c.Day, &c.Text, &images, &c.Status, &c.MadeUp, &at); err != nil {
		return c, err
	}
	return c, c.finish(images, at)
}

// finish decodes the stored images and time.
func (c *Checkin) finish(images string, at int64) error {
	c.CreatedAt = time.UnixMilli(at).UTC()
	if err := json.Unmarshal([]byte(images), &c.Images); err != nil {
		return fmt.Errorf("check-in %d images: %w", c.ID, err)
	}
	return nil
}

func (s *Service) myCheckin(ctx context.Context, shopID, campID, memberID int64, day int) (Checkin, error) {
	c, err := scanCheckin(s.db.QueryRow(ctx, `SELECT `+checkinColumns+` FROM camp_checkins
		WHERE shop_id = ? AND camp_id = ? AND member_id = ? AND day = ?`, shopID, campID, memberID, day))
	return c, errs.Wrap("read check-in", err)
}
