// Package checkin is the daily check-in (签到): one per member per business
// day in Asia/Shanghai (the server's clock decides the day), streaks kept
// incrementally on a per-member summary row, points for streak days from
// staff-edited, versioned reward rules (given through the Rewards interface
// in the check-in's transaction), and make-up cards (补签卡) that fill a
// missed day within the rules' reach. Imports only platform/*.
package checkin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Rewards gives points; the points package implements it. Earn runs in the
// caller's transaction and must give nothing twice for one key.
type Rewards interface {
	Earn(ctx context.Context, tx *db.Tx, shopID, memberID, points int64, reason, sourceID, key string) error
}

// Service keeps check-ins, summaries, make-up cards and the rules.
type Service struct {
	db      *db.DB
	rewards Rewards
	now     func() time.Time
	// onCheckedIn runs in the transaction of each check-in and make-up.
	onCheckedIn []func(ctx context.Context, tx *db.Tx, c CheckedIn) error
}

// CheckedIn is a day just checked in (or made up), as OnCheckedIn hooks see it.
type CheckedIn struct {
	ShopID, MemberID int64
	Day              Day  // the day checked in or filled
	MadeUp           bool // filled with a make-up card
	Streak           int  // the run of consecutive days ending at LastDay
	LongestStreak    int
	LastDay          Day
}

// OnCheckedIn adds what runs in the transaction of a check-in or make-up
// (achievements); an error undoes it. A repeated check-in runs nothing.
func (s *Service) OnCheckedIn(fn func(ctx context.Context, tx *db.Tx, c CheckedIn) error) {
	s.onCheckedIn = append(s.onCheckedIn, fn)
}

func (s *Service) checkedIn(ctx context.Context, tx *db.Tx, sum summary, day Day, madeUp bool) error {
	c := CheckedIn{ShopID: sum.ShopID, MemberID: sum.MemberID, Day: day, MadeUp: madeUp,
		Streak: sum.Streak, LongestStreak: sum.LongestStreak, LastDay: sum.LastDay}
	for _, fn := range s.onCheckedIn {
		if err := fn(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// NewService returns the check-in service; rewards may be nil (no points given).
func NewService(d *db.DB, rewards Rewards) *Service {
	return &Service{db: d, rewards: rewards, now: time.Now}
}

// SetClock replaces the clock (tests cross midnight with it).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Today is the current business day.
func (s *Service) Today() Day { return DayOf(s.now()) }

// Result is the outcome of a check-in.
type Result struct {
	Day              string `json:"day" doc:"the business day (Asia/Shanghai), 2006-01-02"`
	AlreadyCheckedIn bool   `json:"already_checked_in" doc:"true when today's check-in was already made: nothing changed, this is its result"`
	Streak           int    `json:"streak" doc:"consecutive days ending today"`
	Points           int64  `json:"points" doc:"what today's check-in earned"`
	Reward           string `json:"reward" doc:"the reward's label when a streak-day reward fired, else empty"`
	RuleVersion      int64  `json:"rule_version" doc:"the version of the rules that rewarded it (0: the defaults)"`
}

// errLost is a compare-and-set on the summary that another change won: the
// transaction is run again on the new state.
var errLost = errors.New("checkin: summary changed concurrently")

const maxAttempts = 8

// retry runs fn in a transaction until it does not lose a compare-and-set.
func (s *Service) retry(ctx context.Context, fn func(tx *db.Tx) error) error {
	return retryIn(ctx, s.db.InTx, fn)
}

// retryIn is retry through run (InTx, or InGroupTx for check-ins: at
// midnight many arrive at once, and on SQLite they share one commit, each
// in its own savepoint).
func retryIn(ctx context.Context, run func(context.Context, func(*db.Tx) error) error, fn func(tx *db.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := run(ctx, fn)
		if !errors.Is(err, errLost) {
			return err
		}
		if attempt == maxAttempts {
			return errs.E(errs.Conflict, "checkin_busy", "the check-in changed concurrently; try again")
		}
	}
}

// CheckIn checks the member in for today. Checking in again the same day
// (two tabs at midnight, a retry) changes nothing and answers the first
// check-in's result with already_checked_in.
func (s *Service) CheckIn(ctx context.Context, shopID, memberID int64) (Result, error) {
	today := s.Today()
	var res Result
	already, answered := false, today
	err := retryIn(ctx, s.db.InGroupTx, func(tx *db.Tx) error {
		res, already, answered = Result{}, false, today
		sum, err := lockSummary(ctx, tx, shopID, memberID, s.now())
		if err != nil {
			return err
		}
		if sum.LastDay >= today {
			// Checked in today; or, later than today by another server whose
			// clock is a moment ahead at midnight: that check-in answers.
			already, answered = true, sum.LastDay
			return nil
		}
		rules, err := currentRules(ctx, tx, shopID)
		if err != nil {
			return err
		}
		streak := 1
		if sum.LastDay == today-1 {
			streak = sum.Streak + 1
		}
		points, label := rules.For(streak)
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO checkins (shop_id, member_id, day, made_up, streak, points, rule_version, created_at)
			VALUES (?, ?, ?, FALSE, ?, ?, ?, ?) ON CONFLICT (shop_id, member_id, day) DO NOTHING RETURNING id`,
			shopID, memberID, int64(today), streak, points, rules.Version, s.now().UnixMilli()).Scan(&id)
		if db.IsNoRows(err) { // a concurrent check-in committed first
			already = true
			return nil
		}
		if err != nil {
			return err
		}
		next := sum
		next.Streak, next.LastDay, next.TotalDays = streak, today, sum.TotalDays+1
		next.LongestStreak = max(sum.LongestStreak, streak)
		if err := casSummary(ctx, tx, sum, next, s.now()); err != nil {
			return err
		}
		res = Result{Day: today.String(), Streak: streak, Points: points, Reward: label, RuleVersion: rules.Version}
		if err := s.checkedIn(ctx, tx, next, today, false); err != nil {
			return err
		}
		if points == 0 || s.rewards == nil {
			return nil
		}
		key := fmt.Sprintf("checkin:%d:%s", memberID, today)
		return s.rewards.Earn(ctx, tx, shopID, memberID, points, "checkin", strconv.FormatInt(id, 10), key)
	})
	if err != nil {
		return Result{}, errs.Wrap("check in", err)
	}
	if already {
		return s.dayResult(ctx, shopID, memberID, answered)
	}
	return res, nil
}

// dayResult is the stored result of a day's check-in.
func (s *Service) dayResult(ctx context.Context, shopID, memberID int64, day Day) (Result, error) {
	res := Result{Day: day.String(), AlreadyCheckedIn: true}
	err := s.db.QueryRow(ctx, `SELECT streak, points, rule_version FROM checkins WHERE shop_id = ? AND member_id = ? AND day = ?`,
		shopID, memberID, int64(day)).Scan(&res.Streak, &res.Points, &res.RuleVersion)
	if err != nil {
		return Result{}, errs.Wrap("read check-in", err)
	}
	rules, err := s.ruleVersion(ctx, shopID, res.RuleVersion)
	if err == nil && res.Points > 0 {
		if p, label := rules.For(res.Streak); p == res.Points {
			res.Reward = label
		}
	}
	return res, errs.Wrap("read check-in", err)
}

func (s *Service) ruleVersion(ctx context.Context, shopID, version int64) (Rules, error) {
	if version == 0 {
		return DefaultRules(), nil
	}
	return scanRules(s.db.QueryRow(ctx, `SELECT `+ruleColumns+` FROM checkin_rule_versions WHERE shop_id = ? AND version = ?`,
		shopID, version))
}

// summary is a member's row in checkin_summaries.
type summary struct {
	ShopID, MemberID                 int64
	Streak, LongestStreak, TotalDays int
	LastDay                          Day
	Cards                            int64
	Version                          int64
}

// lockSummary returns the member's summary, creating it first: the row
// every change compare-and-sets on. On PostgreSQL the upsert also locks it,
// so concurrent changes of one member wait for each other instead of
// losing their compare-and-set.
func lockSummary(ctx context.Context, tx *db.Tx, shopID, memberID int64, now time.Time) (summary, error) {
	s := summary{ShopID: shopID, MemberID: memberID}
	err := tx.QueryRow(ctx, `INSERT INTO checkin_summaries (shop_id, member_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET updated_at = checkin_summaries.updated_at
		RETURNING streak, longest_streak, total_days, last_day, cards, version`, shopID, memberID, now.UnixMilli()).
		Scan(&s.Streak, &s.LongestStreak, &s.TotalDays, &s.LastDay, &s.Cards, &s.Version)
	return s, err
}

// readSummary reads the member's summary; a member without one has zeros.
func readSummary(ctx context.Context, q db.Querier, shopID, memberID int64) (summary, error) {
	s := summary{ShopID: shopID, MemberID: memberID}
	err := q.QueryRow(ctx, `SELECT streak, longest_streak, total_days, last_day, cards, version FROM checkin_summaries
		WHERE shop_id = ? AND member_id = ?`, shopID, memberID).Scan(&s.Streak, &s.LongestStreak, &s.TotalDays, &s.LastDay, &s.Cards, &s.Version)
	if db.IsNoRows(err) {
		return summary{ShopID: shopID, MemberID: memberID}, nil
	}
	return s, err
}

// casSummary writes next over old when the row is still at old's version
// (errLost otherwise).
func casSummary(ctx context.Context, tx *db.Tx, old, next summary, now time.Time) error {
	if next.Cards < 0 {
		return errNoCards
	}
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE checkin_summaries SET streak = ?, longest_streak = ?, total_days = ?, last_day = ?,
		cards = ?, version = version + 1, updated_at = ? WHERE shop_id = ? AND member_id = ? AND version = ?`,
		next.Streak, next.LongestStreak, next.TotalDays, int64(next.LastDay), next.Cards, now.UnixMilli(),
		old.ShopID, old.MemberID, old.Version))
	if db.IsNoRows(err) {
		return errLost
	}
	return err
}
