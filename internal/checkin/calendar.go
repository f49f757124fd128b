package checkin

import (
	"context"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Calendar returns the member's check-ins in month (2006-01; empty = the
// current month) with the streak, the next reward and the cards held.
func (s *Service) Calendar(ctx context.Context, shopID, memberID int64, month string) (Calendar, error) {
	today := s.Today()
	month = strings.TrimSpace(month)
	if month == "" {
		month = monthOf(today)
	}
	from, to, ok := parseMonth(month)
	if !ok {
		return Calendar{}, errs.Field("month", "invalid_month", "must be a month written 2006-01")
	}
	days, err := db.All(ctx, s.db, func(r db.Scanner) (CalendarDay, error) {
		var c CalendarDay
		var d Day
		err := r.Scan(&d, &c.MadeUp, &c.Points)
		c.Day = d.String()
		return c, err
	}, `SELECT day, made_up, points FROM checkins WHERE shop_id = ? AND member_id = ? AND day >= ? AND day < ? ORDER BY day`,
		shopID, memberID, int64(from), int64(to))
	if err != nil {
		return Calendar{}, errs.Wrap("checkin calendar", err)
	}
	sum, err := readSummary(ctx, s.db, shopID, memberID)
	if err != nil {
		return Calendar{}, errs.Wrap("checkin summary", err)
	}
	rules, err := currentRules(ctx, s.db, shopID)
	if err != nil {
		return Calendar{}, errs.Wrap("checkin rules", err)
	}
	used, err := usedInMonth(ctx, s.db, shopID, memberID, today.Month())
	if err != nil {
		return Calendar{}, errs.Wrap("checkin make-ups", err)
	}
	c := Calendar{Month: month, Days: days, Today: today.String(), CheckedInToday: sum.LastDay == today,
		Streak: currentStreak(sum, today), LongestStreak: sum.LongestStreak, TotalDays: sum.TotalDays, Cards: sum.Cards,
		MakeupDays: rules.MakeupDays, MakeupsLeftThisMonth: max(0, rules.MakeupPerMonth-used), RuleVersion: rules.Version}
	// The next check-in continues the current streak (today's if not done,
	// else tomorrow's).
	nextStreak, wait := c.Streak+1, 0
	if c.CheckedInToday {
		wait = 1
	}
	c.NextCheckinPoints, _ = rules.For(nextStreak)
	if rw, k, ok := rules.next(nextStreak); ok {
		c.NextReward = &NextReward{StreakDay: rw.Day, Points: rw.Points, Label: rw.Label, InDays: k + wait}
	}
	return c, nil
}

// MemberCheckin is staff's view of a member's check-ins.
type MemberCheckin struct {
	MemberID int64    `json:"member_id"`
	Calendar Calendar `json:"calendar"`
	// Cards are the newest lines of the card ledger.
	CardLedger []CardEntry `json:"card_ledger" doc:"the newest 20 lines of the make-up card ledger"`
}

// ForStaff returns a member's calendar and card ledger (404 for a member
// of another shop).
func (s *Service) ForStaff(ctx context.Context, shopID, memberID int64, month string) (MemberCheckin, error) {
	if err := s.memberExists(ctx, shopID, memberID); err != nil {
		return MemberCheckin{}, err
	}
	cal, err := s.Calendar(ctx, shopID, memberID, month)
	if err != nil {
		return MemberCheckin{}, err
	}
	cards, err := s.Cards(ctx, shopID, memberID, 0, 20)
	if err != nil {
		return MemberCheckin{}, err
	}
	return MemberCheckin{MemberID: memberID, Calendar: cal, CardLedger: cards[:min(len(cards), 20)]}, nil
}
