package camp

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

var (
	errFull        = errs.E(errs.Conflict, "camp_full", "every seat of this camp is taken")
	errClosed      = errs.E(errs.Conflict, "camp_closed", "this camp takes no new learners")
	errEnded       = errs.E(errs.Conflict, "camp_ended", "this camp has ended")
	errNotHeld     = errs.E(errs.Forbidden, "camp_not_purchased", "this camp is paid: buy it first")
	errNotEnrolled = errs.E(errs.Forbidden, "not_enrolled", "you have not joined this camp")
)

// Enrolment is the buyer's place in a camp.
type Enrolment struct {
	CampID        int64     `json:"camp_id"`
	Via           string    `json:"via" enum:"free,entitlement" doc:"free camp, or a purchase (entitlement)"`
	MakeupsLeft   int       `json:"makeups_left"`
	DaysDone      int       `json:"days_done"`
	AlreadyJoined bool      `json:"already_joined" doc:"true when the learner had joined before: nothing changed"`
	JoinedAt      time.Time `json:"joined_at"`
}

type enrolment struct {
	Enrolment
	id, shopID    int64
	lastCheckinAt int64
}

func readEnrolment(ctx context.Context, q db.Querier, shopID, campID, memberID int64) (enrolment, error) {
	var e enrolment
	var at int64
	err := q.QueryRow(ctx, `SELECT id, via, makeups_left, days_done, last_checkin_at, created_at FROM camp_enrolments
		WHERE shop_id = ? AND camp_id = ? AND member_id = ?`, shopID, campID, memberID).
		Scan(&e.id, &e.Via, &e.MakeupsLeft, &e.DaysDone, &e.lastCheckinAt, &at)
	e.shopID, e.CampID, e.JoinedAt = shopID, campID, time.UnixMilli(at).UTC()
	if db.IsNoRows(err) {
		return enrolment{}, errNotEnrolled
	}
	return e, errs.Wrap("read enrolment", err)
}

// buyerCamp reads a camp a buyer may see: drafts do not exist for buyers.
func buyerCamp(ctx context.Context, q db.Querier, shopID, campID int64) (row, error) {
	r, err := load(ctx, q, shopID, campID)
	if err == nil && r.Status == Draft {
		return row{}, errCampNotFound
	}
	return r, err
}

// Join enrols the member: a free camp directly, a paid one when the member
// holds its entitlement. A seat is taken by compare-and-set on the camp's
// counter, so a camp is never oversold. Joining again answers the first
// enrolment with already_joined.
func (s *Service) Join(ctx context.Context, shopID, memberID, campID int64) (Enrolment, error) {
	r, err := buyerCamp(ctx, s.db, shopID, campID)
	if err != nil {
		return Enrolment{}, err
	}
	if e, err := readEnrolment(ctx, s.db, shopID, campID, memberID); err == nil {
		e.AlreadyJoined = true
		return e.Enrolment, nil
	} else if !errs.Is(err, "not_enrolled") {
		return Enrolment{}, err
	}
	switch {
	case r.Status != Open:
		return Enrolment{}, errClosed
	case s.today() > r.last():
		return Enrolment{}, errEnded
	}
	via, err := s.via(ctx, shopID, memberID, r)
	if err != nil {
		return Enrolment{}, err
	}
	var already bool
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		already, err = s.takeSeat(ctx, tx, shopID, memberID, campID, via)
		return err
	})
	if err != nil {
		return Enrolment{}, errs.Wrap("join camp", err)
	}
	e, err := readEnrolment(ctx, s.db, shopID, campID, memberID)
	e.AlreadyJoined = already
	return e.Enrolment, err
}

// takeSeat writes the enrolment and takes a seat by compare-and-set, only
// while one is free and the camp still open. already is true when a
// concurrent join of this member won.
func (s *Service) takeSeat(ctx context.Context, tx *db.Tx, shopID, memberID, campID int64, via string) (already bool, err error) {
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO camp_enrolments (shop_id, camp_id, member_id, via, makeups_left, created_at)
		SELECT shop_id, id, ?, ?, makeups, ? FROM camps WHERE shop_id = ? AND id = ?
		ON CONFLICT (shop_id, camp_id, member_id) DO NOTHING RETURNING id`,
		memberID, via, s.now().UnixMilli(), shopID, campID).Scan(&id)
	if db.IsNoRows(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE camps SET enrolled = enrolled + 1
		WHERE shop_id = ? AND id = ? AND status = 'open' AND (capacity = 0 OR enrolled < capacity)`, shopID, campID))
	if db.IsNoRows(err) {
		return false, noSeat(ctx, tx, shopID, campID)
	}
	return false, err
}

// noSeat says why a seat could not be taken: the camp closed meanwhile, or
// it is full.
func noSeat(ctx context.Context, tx *db.Tx, shopID, campID int64) error {
	r, err := load(ctx, tx, shopID, campID)
	switch {
	case err != nil:
		return err
	case r.Status != Open:
		return errClosed
	}
	return errFull
}

// via says how the member may join: free, or through the entitlement.
func (s *Service) via(ctx context.Context, shopID, memberID int64, r row) (string, error) {
	if r.PriceFen == 0 {
		return "free", nil
	}
	if s.enrol == nil {
		return "", errNotHeld
	}
	held, err := s.enrol.HoldsTarget(ctx, shopID, memberID, TargetKind, r.ID)
	if err != nil {
		return "", errs.Wrap("entitlement", err)
	}
	if !held {
		return "", errNotHeld
	}
	return "entitlement", nil
}

// Leave gives the seat back before the camp starts; from its first day on
// a learner stays (their check-ins are the cohort's record).
func (s *Service) Leave(ctx context.Context, shopID, memberID, campID int64) error {
	r, err := buyerCamp(ctx, s.db, shopID, campID)
	if err != nil {
		return err
	}
	if r.started(s.today()) {
		return errs.E(errs.Conflict, "camp_started", "the camp has started: learners cannot leave it")
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `DELETE FROM camp_enrolments WHERE shop_id = ? AND camp_id = ? AND member_id = ?`,
			shopID, campID, memberID))
		if db.IsNoRows(err) {
			return errNotEnrolled
		}
		if err != nil {
			return err
		}
		return db.ExpectOne(tx.Exec(ctx, `UPDATE camps SET enrolled = enrolled - 1 WHERE shop_id = ? AND id = ? AND enrolled > 0`,
			shopID, campID))
	})
	return errs.Wrap("leave camp", err)
}

// Public is a camp buyers may see (open or closed) with its schedule.
func (s *Service) Public(ctx context.Context, shopID, campID int64) (BuyerCamp, error) {
	r, err := buyerCamp(ctx, s.db, shopID, campID)
	if err != nil {
		return BuyerCamp{}, err
	}
	ts, err := tasks(ctx, s.db, shopID, campID)
	if err != nil {
		return BuyerCamp{}, errs.Wrap("read tasks", err)
	}
	b := toBuyer(r)
	for _, t := range ts {
		b.Schedule = append(b.Schedule, ScheduleDay{Day: t.Day, Date: r.day(t.Day).String(), Title: t.Title})
	}
	return b, nil
}

// PublicList pages the shop's open camps, newest first.
func (s *Service) PublicList(ctx context.Context, shopID, after int64, limit int) ([]BuyerCamp, error) {
	rows, err := db.All(ctx, s.db, scanCamp, `SELECT `+campColumns+` FROM camps
		WHERE shop_id = ? AND status = 'open' AND id < ? ORDER BY id DESC LIMIT ?`, shopID, cursorMax(after), limit+1)
	out := make([]BuyerCamp, len(rows))
	for i, r := range rows {
		out[i] = toBuyer(r)
	}
	return out, errs.Wrap("list camps", err)
}
