// Package privacy is the members' side of the personal-information law
// (PIPL, issue 18): which privacy-policy and user-agreement version each
// member accepted and when, marketing consent apart from it (withdrawn as
// easily as given, and marketing stops), a member's export of their own
// data, and account deletion (注销): personal data erased or anonymised at
// once, orders and invoices kept anonymised for the accounting retention
// period, entitlements ended — after open orders, after-sales, refunds and
// payouts have finished. Staff see the requests with their deadlines (15
// working days). It reads and writes other rooms' tables by SQL, scoped by
// shop; it imports only platform packages.
package privacy

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/workcal"
)

// Sessions ends a member's sessions (*member.Service satisfies it).
type Sessions interface {
	RevokeSessions(ctx context.Context, shopID, memberID int64) (int64, error)
}

// OptOuts keeps the marketing opt-out list campaigns skip.
type OptOuts interface {
	OptOut(ctx context.Context, q db.Querier, shopID, memberID int64) error
	OptIn(ctx context.Context, q db.Querier, shopID, memberID int64) error
}

// Service is the privacy room.
type Service struct {
	db        *db.DB
	sessions  Sessions
	marketing OptOuts
	cal       *workcal.Calendar
	now       func() time.Time
	auditDays int
}

// DueWorkingDays is how long the shop has to answer a request.
const DueWorkingDays = 15

// NewService returns the room on d.
func NewService(d *db.DB, sessions Sessions, marketing OptOuts) *Service {
	cal, err := workcal.New([]workcal.Interval{{From: 9 * 60, To: 18 * 60}}, nil)
	if err != nil {
		panic(err) // fixed hours: cannot fail
	}
	return &Service{db: d, sessions: sessions, marketing: marketing, cal: cal, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// dueAt is the end (Asia/Shanghai) of the 15th working day after t's day.
func (s *Service) dueAt(t time.Time) time.Time {
	d := chinaday.Of(t)
	for n := 0; n < DueWorkingDays; {
		d++
		if s.cal.IsWorkday(d) {
			n++
		}
	}
	return (d + 1).Date()
}

// memberOf checks that memberID is a live member of shopID.
func memberOf(ctx context.Context, q db.Querier, shopID, memberID int64) error {
	var deleted *int64
	err := q.QueryRow(ctx, `SELECT deleted_at FROM members WHERE id = ? AND shop_id = ?`, memberID, shopID).Scan(&deleted)
	switch {
	case db.IsNoRows(err):
		return errs.E(errs.NotFound, "member_not_found", "no such member")
	case err != nil:
		return errs.Wrap("read member", err)
	case deleted != nil:
		return errs.E(errs.Conflict, "account_deleted", "this account was deleted")
	}
	return nil
}
