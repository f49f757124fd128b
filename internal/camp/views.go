package camp

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Day statuses in the learner's view.
const (
	DayLocked = "locked" // not open yet
	DayOpen   = "open"   // today, not checked in yet
	DayDone   = "done"   // checked in (pending review included)
	DayMissed = "missed" // past, not checked in: a make-up fills it
)

// MyCamp is the learner's view of a camp they joined.
type MyCamp struct {
	Camp        BuyerCamp `json:"camp"`
	Today       string    `json:"today" doc:"the day now in Asia/Shanghai, 2006-01-02"`
	DaysOpen    int       `json:"days_open" doc:"days opened so far"`
	DaysDone    int       `json:"days_done"`
	Streak      int       `json:"streak" doc:"consecutive days done ending today, or yesterday while today is still open"`
	MakeupsLeft int       `json:"makeups_left"`
	Days        []MyDay   `json:"days"`
}

// MyDay is one day of the learner's camp.
type MyDay struct {
	Day      int      `json:"day"`
	Date     string   `json:"date" doc:"2006-01-02; the day opens at its 00:00 Asia/Shanghai"`
	Status   string   `json:"status" enum:"locked,open,done,missed"`
	Title    string   `json:"title"`
	Body     string   `json:"body" doc:"the task; empty while the day is locked"`
	LessonID int64    `json:"lesson_id" doc:"0 while locked or when none"`
	Checkin  *Checkin `json:"checkin" doc:"the learner's check-in for the day, if any"`
}

// Mine is the learner's view of a camp they joined (403 not_enrolled otherwise).
func (s *Service) Mine(ctx context.Context, shopID, memberID, campID int64) (MyCamp, error) {
	r, err := buyerCamp(ctx, s.db, shopID, campID)
	if err != nil {
		return MyCamp{}, err
	}
	e, err := readEnrolment(ctx, s.db, shopID, campID, memberID)
	if err != nil {
		return MyCamp{}, err
	}
	ts, err := tasks(ctx, s.db, shopID, campID)
	if err != nil {
		return MyCamp{}, errs.Wrap("read tasks", err)
	}
	cs, err := db.All(ctx, s.db, scanCheckin, `SELECT `+checkinColumns+` FROM camp_checkins
		WHERE shop_id = ? AND camp_id = ? AND member_id = ? ORDER BY day`, shopID, campID, memberID)
	if err != nil {
		return MyCamp{}, errs.Wrap("read check-ins", err)
	}
	byDay := map[int]*Checkin{}
	for i := range cs {
		byDay[cs[i].Day] = &cs[i]
	}
	today := s.today()
	v := MyCamp{Camp: toBuyer(r), Today: today.String(), DaysOpen: r.open(today), DaysDone: e.DaysDone,
		MakeupsLeft: e.MakeupsLeft, Days: make([]MyDay, 0, len(ts))}
	for _, t := range ts {
		v.Days = append(v.Days, myDay(r, t, byDay[t.Day], today))
	}
	v.Streak = streak(v.Days)
	return v, nil
}

func myDay(r row, t Task, c *Checkin, today Day) MyDay {
	date := r.day(t.Day)
	d := MyDay{Day: t.Day, Date: date.String(), Title: t.Title, Checkin: c}
	if date > today {
		d.Status = DayLocked
		return d
	}
	d.Body, d.LessonID = t.Body, t.LessonID
	switch {
	case c != nil && c.Status != Rejected:
		d.Status = DayDone
	case date == today:
		d.Status = DayOpen
	default:
		d.Status = DayMissed
	}
	return d
}

// streak counts done days back from the last open day (skipping today
// while it is still open).
func streak(days []MyDay) int {
	n, i := 0, len(days)-1
	for i >= 0 && days[i].Status == DayLocked {
		i--
	}
	if i >= 0 && days[i].Status == DayOpen {
		i--
	}
	for ; i >= 0 && days[i].Status == DayDone; i-- {
		n++
	}
	return n
}

// Learner is a learner in the teacher's list.
type Learner struct {
	MemberID      int64      `json:"member_id"`
	Nickname      string     `json:"nickname"`
	DaysDone      int        `json:"days_done"`
	DaysOpen      int        `json:"days_open"`
	Behind        int        `json:"behind" doc:"days open minus days done"`
	MakeupsLeft   int        `json:"makeups_left"`
	Via           string     `json:"via" enum:"free,entitlement"`
	LastCheckinAt *time.Time `json:"last_checkin_at" doc:"null: never checked in"`
	JoinedAt      time.Time  `json:"joined_at"`
	lastMillis    int64
}

// Learners pages a camp's learners, the furthest behind first (fewest days
// done, then the longest since a check-in, never first), for the teacher.
// after holds the last item's (days done, last check-in, member id).
func (s *Service) Learners(ctx context.Context, shopID, campID int64, after []int64, limit int) ([]Learner, error) {
	r, err := load(ctx, s.db, shopID, campID)
	if err != nil {
		return nil, err
	}
	if after == nil {
		after = []int64{-1, 0, 0}
	}
	open := r.open(s.today())
	list, err := db.All(ctx, s.db, func(sc db.Scanner) (Learner, error) {
		var l Learner
		var joined int64
		err := sc.Scan(&l.MemberID, &l.Nickname, &l.DaysDone, &l.MakeupsLeft, &l.Via, &l.lastMillis, &joined)
		l.DaysOpen, l.Behind, l.JoinedAt = open, max(open-l.DaysDone, 0), time.UnixMilli(joined).UTC()
		if l.lastMillis > 0 {
			t := time.UnixMilli(l.lastMillis).UTC()
			l.LastCheckinAt = &t
		}
		return l, err
	}, `SELECT e.member_id, m.nickname, e.days_done, e.makeups_left, e.via, e.last_checkin_at, e.created_at
		FROM camp_enrolments e JOIN members m ON m.id = e.member_id AND m.shop_id = e.shop_id
		WHERE e.shop_id = ? AND e.camp_id = ?
		  AND (e.days_done > ? OR (e.days_done = ? AND (e.last_checkin_at > ? OR (e.last_checkin_at = ? AND e.member_id > ?))))
		ORDER BY e.days_done, e.last_checkin_at, e.member_id LIMIT ?`,
		shopID, campID, after[0], after[0], after[1], after[1], after[2], limit+1)
	return list, errs.Wrap("list learners", err)
}

// LearnerKeys is a learner's position in Learners' order (its cursor).
func LearnerKeys(l Learner) []int64 { return []int64{int64(l.DaysDone), l.lastMillis, l.MemberID} }

// FeedItem is another learner's check-in as buyers see it: no member id.
type FeedItem struct {
	ID        int64     `json:"id"`
	Nickname  string    `json:"nickname"`
	Mine      bool      `json:"mine" doc:"written by the caller"`
	Text      string    `json:"text"`
	Images    []string  `json:"images"`
	MadeUp    bool      `json:"made_up"`
	CreatedAt time.Time `json:"created_at"`
}

// StaffCheckin is a check-in as staff see it.
type StaffCheckin struct {
	Checkin
	MemberID   int64  `json:"member_id"`
	Nickname   string `json:"nickname"`
	ReviewedBy int64  `json:"reviewed_by" doc:"the staff account that approved or rejected it; 0: none"`
}

type feedRow struct {
	StaffCheckin
}

func scanFeedRow(sc db.Scanner) (feedRow, error) {
	var f feedRow
	var images string
	var at int64
	err := sc.Scan(&f.ID, &f.Day, &f.Text, &images, &f.Status, &f.MadeUp, &at, &f.MemberID, &f.Nickname, &f.ReviewedBy)
	if err != nil {
		return f, err
	}
	return f, f.Checkin.finish(images, at)
}

const feedSelect = `SELECT c.id, c.day, c.text, c.images, c.status, c.made_up, c.created_at, c.member_id, m.nickname, c.reviewed_by
	FROM camp_checkins c JOIN members m ON m.id = c.member_id AND m.shop_id = c.shop_id`

// Feed pages a day's published check-ins, newest first, for a learner of
// the camp (403 not_enrolled otherwise). Day 0 is today's camp day (the
// first before the start, the last after the end).
func (s *Service) Feed(ctx context.Context, shopID, memberID, campID int64, day int, after int64, limit int) ([]FeedItem, error) {
	r, err := buyerCamp(ctx, s.db, shopID, campID)
	if err != nil {
		return nil, err
	}
	if _, err := readEnrolment(ctx, s.db, shopID, campID, memberID); err != nil {
		return nil, err
	}
	if day == 0 {
		day = max(r.open(s.today()), 1)
	}
	if day < 1 || day > r.Days {
		return nil, errDayRange
	}
	rows, err := db.All(ctx, s.db, scanFeedRow, feedSelect+`
		WHERE c.shop_id = ? AND c.camp_id = ? AND c.day = ? AND c.status = 'published' AND c.id < ?
		ORDER BY c.id DESC LIMIT ?`, shopID, campID, day, cursorMax(after), limit+1)
	out := make([]FeedItem, len(rows))
	for i, f := range rows {
		out[i] = FeedItem{ID: f.ID, Nickname: f.Nickname, Mine: f.MemberID == memberID, Text: f.Text, Images: f.Images,
			MadeUp: f.MadeUp, CreatedAt: f.CreatedAt}
	}
	return out, errs.Wrap("read feed", err)
}

func cursorMax(after int64) int64 {
	if after == 0 {
		return 1<<63 - 1
	}
	return after
}

// Checkins pages a camp's check-ins for staff, newest first, optionally of
// one day (0: all) and one status ("": all).
func (s *Service) Checkins(ctx context.Context, shopID, campID int64, day int, status string, after int64, limit int) ([]StaffCheckin, error) {
	if status != "" && status != Published && status != Pending && status != Rejected {
		return nil, errs.Field("status", "invalid_query", "status must be published, pending or rejected")
	}
	if _, err := load(ctx, s.db, shopID, campID); err != nil {
		return nil, err
	}
	rows, err := db.All(ctx, s.db, scanFeedRow, feedSelect+`
		WHERE c.shop_id = ? AND c.camp_id = ? AND (? = 0 OR c.day = ?) AND (? = '' OR c.status = ?) AND c.id < ?
		ORDER BY c.id DESC LIMIT ?`, shopID, campID, day, day, status, status, cursorMax(after), limit+1)
	out := make([]StaffCheckin, len(rows))
	for i, f := range rows {
		out[i] = f.StaffCheckin
	}
	return out, errs.Wrap("list check-ins", err)
}

// Review approves a held check-in (pending → published) or rejects one
// (pending or published → rejected: the day counts as not done again and
// the learner may check in anew). Each is a compare-and-set on the status.
func (s *Service) Review(ctx context.Context, shopID, checkinID, staffID int64, approve bool) (StaffCheckin, error) {
	from, to, delta := `'pending'`, Published, 0
	if !approve {
		from, to, delta = `'pending', 'published'`, Rejected, 1
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var campID, memberID int64
		err := tx.QueryRow(ctx, `UPDATE camp_checkins SET status = ?, reviewed_by = ?, updated_at = ?
			WHERE shop_id = ? AND id = ? AND status IN (`+from+`) RETURNING camp_id, member_id`,
			to, staffID, s.now().UnixMilli(), shopID, checkinID).Scan(&campID, &memberID)
		if db.IsNoRows(err) {
			return reviewRefusal(ctx, tx, shopID, checkinID)
		}
		if err != nil || delta == 0 {
			return err
		}
		return db.ExpectOne(tx.Exec(ctx, `UPDATE camp_enrolments SET days_done = days_done - 1
			WHERE shop_id = ? AND camp_id = ? AND member_id = ? AND days_done > 0`, shopID, campID, memberID))
	})
	if err != nil {
		return StaffCheckin{}, errs.Wrap("review check-in", err)
	}
	f, err := scanFeedRow(s.db.QueryRow(ctx, feedSelect+` WHERE c.shop_id = ? AND c.id = ?`, shopID, checkinID))
	return f.StaffCheckin, errs.Wrap("read check-in", err)
}

func reviewRefusal(ctx context.Context, tx *db.Tx, shopID, checkinID int64) error {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM camp_checkins WHERE shop_id = ? AND id = ?`, shopID, checkinID).Scan(&status)
	if db.IsNoRows(err) {
		return errs.E(errs.NotFound, "checkin_not_found", "no such check-in")
	}
	if err != nil {
		return err
	}
	return errs.E(errs.Conflict, "checkin_already_"+status, "the check-in is already "+status)
}
