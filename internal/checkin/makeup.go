package checkin

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Limits of make-up card grants.
const (
	MaxGrant = 100
	MaxCards = 9999
)

var (
	errNoCards       = errs.E(errs.Conflict, "no_makeup_cards", "you hold no make-up card")
	errMonthlyLimit  = errs.E(errs.Conflict, "makeup_monthly_limit", "this month's make-ups are used up")
	errAlreadyIn     = errs.E(errs.Conflict, "already_checked_in", "that day is already checked in")
	errDayNotPast    = errs.E(errs.Invalid, "makeup_day_not_past", "a make-up fills a past day: today is checked in with a check-in, a future day cannot be")
	errMemberMissing = errs.E(errs.NotFound, "member_not_found", "no such member")
)

// MakeupInput names the day to make up.
type MakeupInput struct {
	Day string `json:"day" doc:"the missed day, 2006-01-02 (Asia/Shanghai), within the rules' reach"`
}

// Makeup uses one of the member's cards to fill a missed day within the
// rules' reach; the streak is recomputed over the filled gap. A make-up
// earns no points: it only repairs the streak, and no streak-day reward
// fires retroactively.
func (s *Service) Makeup(ctx context.Context, shopID, memberID int64, in MakeupInput) (MakeupResult, error) {
	day, ok := ParseDay(strings.TrimSpace(in.Day))
	if !ok {
		return MakeupResult{}, errs.Field("day", "invalid_day", "must be a date written 2006-01-02")
	}
	today := s.Today()
	if day >= today {
		return MakeupResult{}, errDayNotPast
	}
	var res MakeupResult
	err := s.retry(ctx, func(tx *db.Tx) error {
		sum, err := lockSummary(ctx, tx, shopID, memberID, s.now())
		if err != nil {
			return err
		}
		rules, err := currentRules(ctx, tx, shopID)
		if err != nil {
			return err
		}
		if day < today-Day(rules.MakeupDays) {
			return errs.E(errs.Invalid, "makeup_out_of_reach", fmt.Sprintf("a make-up reaches at most %d days back", rules.MakeupDays))
		}
		if sum.Cards < 1 {
			return errNoCards
		}
		used, err := usedInMonth(ctx, tx, shopID, memberID, today.Month())
		if err != nil {
			return err
		}
		if used >= rules.MakeupPerMonth {
			return errMonthlyLimit
		}
		next, err := s.fill(ctx, tx, sum, day, rules.Version)
		if err != nil {
			return err
		}
		next.Cards--
		if err := casSummary(ctx, tx, sum, next, s.now()); err != nil {
			return err
		}
		if err := s.ledger(ctx, tx, next, -1, "makeup", day, today.Month(), 0); err != nil {
			return err
		}
		if err := s.checkedIn(ctx, tx, next, day, true); err != nil {
			return err
		}
		res = MakeupResult{Day: day.String(), Streak: currentStreak(next, today), LongestStreak: next.LongestStreak,
			Cards: next.Cards, MakeupsLeftThisMonth: rules.MakeupPerMonth - used - 1}
		return nil
	})
	if err != nil {
		return MakeupResult{}, errs.Wrap("make up", err)
	}
	return res, nil
}

// fill writes the made-up day and returns the summary recomputed from all
// the member's days (a filled gap may join two runs).
func (s *Service) fill(ctx context.Context, tx *db.Tx, sum summary, day Day, version int64) (summary, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO checkins (shop_id, member_id, day, made_up, streak, points, rule_version, created_at)
		VALUES (?, ?, ?, TRUE, 0, 0, ?, ?) ON CONFLICT (shop_id, member_id, day) DO NOTHING RETURNING id`,
		sum.ShopID, sum.MemberID, int64(day), version, s.now().UnixMilli()).Scan(&id)
	if db.IsNoRows(err) {
		return summary{}, errAlreadyIn
	}
	if err != nil {
		return summary{}, err
	}
	days, err := db.All(ctx, tx, func(r db.Scanner) (Day, error) {
		var d Day
		return d, r.Scan(&d)
	}, `SELECT day FROM checkins WHERE shop_id = ? AND member_id = ? ORDER BY day`, sum.ShopID, sum.MemberID)
	if err != nil {
		return summary{}, err
	}
	runs := runLengths(days)
	next := sum
	next.TotalDays, next.LastDay, next.Streak = len(days), days[len(days)-1], runs[len(runs)-1]
	for i, d := range days {
		next.LongestStreak = max(next.LongestStreak, runs[i])
		if d == day {
			_, err = tx.Exec(ctx, `UPDATE checkins SET streak = ? WHERE id = ? AND shop_id = ?`, runs[i], id, sum.ShopID)
		}
	}
	return next, err
}

// runLengths gives, for each of the ascending days, the length of the run
// of consecutive days ending at it.
func runLengths(days []Day) []int {
	runs := make([]int, len(days))
	for i, d := range days {
		runs[i] = 1
		if i > 0 && days[i-1] == d-1 {
			runs[i] = runs[i-1] + 1
		}
	}
	return runs
}

// currentStreak is the streak still alive today: the run ending at the last
// day when that is today or yesterday (today's check-in continues it).
func currentStreak(sum summary, today Day) int {
	if sum.LastDay >= today-1 {
		return sum.Streak
	}
	return 0
}

func usedInMonth(ctx context.Context, q db.Querier, shopID, memberID, month int64) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM checkin_card_ledger WHERE shop_id = ? AND member_id = ? AND delta < 0 AND month = ?`,
		shopID, memberID, month).Scan(&n)
	return n, err
}

func (s *Service) ledger(ctx context.Context, tx *db.Tx, sum summary, delta int64, reason string, day Day, month, actor int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO checkin_card_ledger (shop_id, member_id, delta, balance, reason, day, month, actor_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sum.ShopID, sum.MemberID, delta, sum.Cards, reason, int64(day), month, actor, s.now().UnixMilli())
	return err
}

// GrantInput is staff's grant of make-up cards.
type GrantInput struct {
	Count  int64  `json:"count" doc:"1 to 100"`
	Reason string `json:"reason" doc:"1 to 100 characters, kept in the ledger"`
}

// CardEntry is one line of a member's make-up card ledger.
type CardEntry struct {
	ID        int64     `json:"id"`
	Delta     int64     `json:"delta" doc:"cards granted (> 0) or used (-1)"`
	Balance   int64     `json:"balance" doc:"cards held after it"`
	Reason    string    `json:"reason"`
	Day       string    `json:"day,omitempty" doc:"the day made up, for a use"`
	ActorID   int64     `json:"actor_id" doc:"the staff member who granted (0 for a use)"`
	CreatedAt time.Time `json:"created_at"`
}

// GrantCards gives the member count make-up cards (held at most MaxCards),
// once per idempotency key: a retry answers the first grant.
func (s *Service) GrantCards(ctx context.Context, shopID, memberID, staffID int64, key string, in GrantInput) (CardEntry, error) {
	if len(key) < 8 || len(key) > 64 {
		return CardEntry{}, errs.Field("Idempotency-Key", "idempotency_key_required", "send an Idempotency-Key header of 8 to 64 characters")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var v errs.Validator
	v.Check(in.Count >= 1 && in.Count <= MaxGrant, "count", "must be 1 to 100")
	v.Check(in.Reason != "" && utf8.RuneCountInString(in.Reason) <= 100, "reason", "must be 1 to 100 characters")
	if err := v.Err(); err != nil {
		return CardEntry{}, err
	}
	if err := s.memberExists(ctx, shopID, memberID); err != nil {
		return CardEntry{}, err
	}
	var id int64
	err := s.retry(ctx, func(tx *db.Tx) error {
		sum, err := lockSummary(ctx, tx, shopID, memberID, s.now())
		if err != nil {
			return err
		}
		if id, err = grantedUnder(ctx, tx, shopID, memberID, key, in); id != 0 || err != nil {
			return err
		}
		next := sum
		next.Cards += in.Count
		if next.Cards > MaxCards {
			return errs.E(errs.Conflict, "makeup_cards_limit", fmt.Sprintf("a member holds at most %d make-up cards", MaxCards))
		}
		if err := casSummary(ctx, tx, sum, next, s.now()); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO checkin_card_ledger (shop_id, member_id, delta, balance, reason, actor_id, idem_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, memberID, in.Count, next.Cards, in.Reason, staffID, key, s.now().UnixMilli()).Scan(&id)
	})
	if err != nil {
		return CardEntry{}, errs.Wrap("grant make-up cards", err)
	}
	return scanCardEntry(s.db.QueryRow(ctx, `SELECT `+cardColumns+` FROM checkin_card_ledger WHERE id = ? AND shop_id = ?`, id, shopID))
}

// grantedUnder finds the grant already made under key: its id when it was
// this grant, 409 idempotency_key_reused when the key named another.
func grantedUnder(ctx context.Context, tx *db.Tx, shopID, memberID int64, key string, in GrantInput) (int64, error) {
	var id, member, delta int64
	var reason string
	err := tx.QueryRow(ctx, `SELECT id, member_id, delta, reason FROM checkin_card_ledger WHERE shop_id = ? AND idem_key = ?`,
		shopID, key).Scan(&id, &member, &delta, &reason)
	if db.IsNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if member != memberID || delta != in.Count || reason != in.Reason {
		return 0, errs.E(errs.Conflict, "idempotency_key_reused", "this Idempotency-Key was used for another grant")
	}
	return id, nil
}

func (s *Service) memberExists(ctx context.Context, shopID, memberID int64) error {
	var one int
	err := s.db.QueryRow(ctx, `SELECT 1 FROM members WHERE id = ? AND shop_id = ?`, memberID, shopID).Scan(&one)
	if db.IsNoRows(err) {
		return errMemberMissing
	}
	return errs.Wrap("find member", err)
}

// Cards lists the member's card ledger newest first, below id before (0 =
// from the newest), limit+1 lines for the page.
func (s *Service) Cards(ctx context.Context, shopID, memberID, before int64, limit int) ([]CardEntry, error) {
	if before == 0 {
		before = 1 << 62
	}
	list, err := db.All(ctx, s.db, scanCardEntry, `SELECT `+cardColumns+` FROM checkin_card_ledger
		WHERE shop_id = ? AND member_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, shopID, memberID, before, limit+1)
	return list, errs.Wrap("list make-up cards", err)
}

const cardColumns = `id, delta, balance, reason, day, actor_id, created_at`

func scanCardEntry(row db.Scanner) (CardEntry, error) {
	var e CardEntry
	var day Day
	var created int64
	err := row.Scan(&e.ID, &e.Delta, &e.Balance, &e.Reason, &day, &e.ActorID, &created)
	if day != 0 {
		e.Day = day.String()
	}
	e.CreatedAt = time.UnixMilli(created).UTC()
	return e, err
}
