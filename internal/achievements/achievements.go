// Package achievements is the retention loop's visible progress (issue 14,
// points 4 and 5): new-member tasks for the first week, badges awarded by
// staff-defined rules over events, and "my record", a per-member summary
// row kept incrementally in the events' own transactions (orders' hooks,
// check-in's hook), so reading it is one row. Rewards are points given
// through the Rewards interface with keys that make each happen once.
// Above order and checkin; server wires the hooks.
package achievements

import (
	"context"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/checkin"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Rewards gives points in the caller's transaction; a repeated key gives
// nothing (points.Service.Earn).
type Rewards interface {
	Earn(ctx context.Context, tx *db.Tx, shopID, memberID, points int64, reason, sourceID, key string) error
}

// Points reads how many points a member ever earned (the points account).
type Points interface {
	Earned(ctx context.Context, shopID, memberID int64) (int64, error)
}

// Service keeps tasks, badges and records.
type Service struct {
	db      *db.DB
	rewards Rewards
	points  Points
	now     func() time.Time
}

// NewService returns the achievements service; rewards and points may be
// nil (no points given, points earned shown as 0).
func NewService(d *db.DB, rewards Rewards, points Points) *Service {
	return &Service{db: d, rewards: rewards, points: points, now: time.Now}
}

// SetClock replaces the clock (tests cross the first week with it).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Hooks registers the order events on the order service: all run in the
// order's own transactions.
func (s *Service) Hooks(o *order.Service) {
	o.OnPaid(s.OrderPaid)
	o.OnCompleted(s.OrderReceived)
	o.OnRefunded(s.OrderRefunded)
}

// OrderPaid counts the pay day as active and completes the first-purchase
// task (within the first week). A repeated event changes nothing.
func (s *Service) OrderPaid(ctx context.Context, tx *db.Tx, p order.PaidOrder) error {
	first, err := firstTime(ctx, tx, p.ShopID, p.OrderID, "paid")
	if err != nil || !first {
		return err
	}
	if err := s.lockRecord(ctx, tx, p.ShopID, p.MemberID); err != nil {
		return err
	}
	at := p.PaidAt
	if at.IsZero() {
		at = s.now()
	}
	day := checkin.DayOf(at)
	if err := s.activeDay(ctx, tx, p.ShopID, p.MemberID, day); err != nil {
		return err
	}
	return s.complete(ctx, tx, p.ShopID, p.MemberID, TaskFirstPurchase, day)
}

// OrderReceived counts a received order, what was spent on it (net of
// refunds so far) and what its member prices, promotions, coupons and
// points saved, then awards the badges they reach. A repeated event
// changes nothing.
func (s *Service) OrderReceived(ctx context.Context, tx *db.Tx, c order.CompletedOrder) error {
	first, err := firstTime(ctx, tx, c.ShopID, c.OrderID, "received")
	if err != nil || !first {
		return err
	}
	var saved int64
	// Saved per line: the original price above what it sold at, times the
	// quantity, plus the discounts allocated to it (coupons, points, ...).
	err = tx.QueryRow(ctx, `SELECT COALESCE(SUM(discount + CASE WHEN original_price > unit_price
			THEN (original_price - unit_price) * quantity ELSE 0 END), 0)
		FROM order_lines WHERE order_id = ? AND shop_id = ?`, c.OrderID, c.ShopID).Scan(&saved)
	if err != nil {
		return err
	}
	spent := max(c.PaidAmount-c.RefundedAmount, 0)
	if _, err := tx.Exec(ctx, `UPDATE member_record_orders SET amount = ? WHERE shop_id = ? AND order_id = ? AND event = 'received'`,
		spent, c.ShopID, c.OrderID); err != nil {
		return err
	}
	var orders, total int64
	err = tx.QueryRow(ctx, `INSERT INTO member_records (shop_id, member_id, orders_received, spent, money_saved, updated_at)
		VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (shop_id, member_id) DO UPDATE SET
		orders_received = member_records.orders_received + 1, spent = member_records.spent + excluded.spent,
		money_saved = member_records.money_saved + excluded.money_saved, updated_at = excluded.updated_at
		RETURNING orders_received, spent`, c.ShopID, c.MemberID, spent, saved, s.now().UnixMilli()).Scan(&orders, &total)
	if err != nil {
		return err
	}
	if err := s.award(ctx, tx, c.ShopID, c.MemberID, KindOrders, orders); err != nil {
		return err
	}
	return s.award(ctx, tx, c.ShopID, c.MemberID, KindSpent, total)
}

// OrderRefunded lowers what a received order counts in spent to what is
// left of its payment after the refunds that succeeded (never raises it:
// refunds pending at receipt were counted off then). Badges stay.
func (s *Service) OrderRefunded(ctx context.Context, tx *db.Tx, r order.RefundedOrder) error {
	var counted int64
	err := tx.QueryRow(ctx, `SELECT amount FROM member_record_orders WHERE shop_id = ? AND order_id = ? AND event = 'received'`,
		r.ShopID, r.OrderID).Scan(&counted)
	if db.IsNoRows(err) {
		return nil // not received yet: its receipt counts what is left then
	}
	if err != nil {
		return err
	}
	left := max(r.PaidAmount-r.RefundedOK, 0)
	if left >= counted {
		return nil
	}
	if err := s.lockRecord(ctx, tx, r.ShopID, r.MemberID); err != nil {
		return err
	}
	// Compare-and-set on what was counted: a concurrent refund of the same
	// order that got there first leaves this one to change nothing.
	res, err := tx.Exec(ctx, `UPDATE member_record_orders SET amount = ? WHERE shop_id = ? AND order_id = ? AND event = 'received' AND amount = ?`,
		left, r.ShopID, r.OrderID, counted)
	if err := db.ExpectOne(res, err); err != nil {
		if db.IsNoRows(err) {
			return nil
		}
		return err
	}
	return db.ExpectOne(tx.Exec(ctx, `UPDATE member_records SET spent = spent - ?, updated_at = ? WHERE shop_id = ? AND member_id = ?`,
		counted-left, s.now().UnixMilli(), r.ShopID, r.MemberID))
}

// CheckedIn copies the check-in summary's streaks onto the record, counts
// a real check-in's day as active, completes the first-check-in task and
// awards streak badges (a make-up that joins two runs counts too).
func (s *Service) CheckedIn(ctx context.Context, tx *db.Tx, c checkin.CheckedIn) error {
	// The check-in's summary is serialised per member by its own
	// compare-and-set, so its numbers are the newest: copy them. This
	// upsert also locks the record first (see lockRecord).
	_, err := tx.Exec(ctx, `INSERT INTO member_records (shop_id, member_id, streak, longest_streak, last_checkin_day, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, member_id) DO UPDATE SET
		streak = excluded.streak, longest_streak = excluded.longest_streak, last_checkin_day = excluded.last_checkin_day,
		updated_at = excluded.updated_at`, c.ShopID, c.MemberID, c.Streak, c.LongestStreak, int64(c.LastDay), s.now().UnixMilli())
	if err != nil {
		return err
	}
	if !c.MadeUp {
		if err := s.activeDay(ctx, tx, c.ShopID, c.MemberID, c.Day); err != nil {
			return err
		}
		if err := s.complete(ctx, tx, c.ShopID, c.MemberID, TaskFirstCheckin, c.Day); err != nil {
			return err
		}
	}
	return s.award(ctx, tx, c.ShopID, c.MemberID, KindStreak, int64(c.LongestStreak))
}

// lockRecord creates the member's record or locks it (PostgreSQL): every
// hook here locks it before anything else of the member's, and runs before
// the points ledger's hooks and rewards in the same transaction, so two
// events of one member always take their locks in one order (record, then
// points account) and never deadlock.
func (s *Service) lockRecord(ctx context.Context, tx *db.Tx, shopID, memberID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO member_records (shop_id, member_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET updated_at = member_records.updated_at`, shopID, memberID, s.now().UnixMilli())
	return err
}

// firstTime records that the order's event was counted; false when it was
// before.
func firstTime(ctx context.Context, tx *db.Tx, shopID, orderID int64, event string) (bool, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO member_record_orders (shop_id, order_id, event) VALUES (?, ?, ?)
		ON CONFLICT (shop_id, order_id, event) DO NOTHING RETURNING order_id`, shopID, orderID, event).Scan(&id)
	if db.IsNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

// activeDay counts day in days_active once.
func (s *Service) activeDay(ctx context.Context, tx *db.Tx, shopID, memberID int64, day checkin.Day) error {
	var d int64
	err := tx.QueryRow(ctx, `INSERT INTO member_record_days (shop_id, member_id, day) VALUES (?, ?, ?)
		ON CONFLICT (shop_id, member_id, day) DO NOTHING RETURNING day`, shopID, memberID, int64(day)).Scan(&d)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO member_records (shop_id, member_id, days_active, updated_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET days_active = member_records.days_active + 1,
		updated_at = excluded.updated_at`, shopID, memberID, s.now().UnixMilli())
	return err
}

// Record is "my record": one row kept incrementally, plus the points
// account's earned total.
type Record struct {
	DaysActive     int64 `json:"days_active" doc:"distinct days (Asia/Shanghai) with a check-in or a paid order"`
	Streak         int64 `json:"streak" doc:"check-in days in a row ending today or yesterday (0: broken)"`
	LongestStreak  int64 `json:"longest_streak"`
	OrdersReceived int64 `json:"orders_received"`
	Spent          int64 `json:"spent" doc:"fen paid for received orders, net of their refunds"`
	MoneySaved     int64 `json:"money_saved" doc:"fen saved on received orders: member and promotion prices below the original, coupons, points"`
	PointsEarned   int64 `json:"points_earned" doc:"points ever earned"`
	Badges         int64 `json:"badges" doc:"badges held"`
}

// Record reads the member's record.
func (s *Service) Record(ctx context.Context, shopID, memberID int64) (Record, error) {
	var r Record
	var last int64
	err := s.db.QueryRow(ctx, `SELECT days_active, streak, longest_streak, last_checkin_day, orders_received, spent, money_saved, badges
		FROM member_records WHERE shop_id = ? AND member_id = ?`, shopID, memberID).
		Scan(&r.DaysActive, &r.Streak, &r.LongestStreak, &last, &r.OrdersReceived, &r.Spent, &r.MoneySaved, &r.Badges)
	if err != nil && !db.IsNoRows(err) {
		return Record{}, errs.Wrap("read record", err)
	}
	if checkin.Day(last) < checkin.DayOf(s.now())-1 {
		r.Streak = 0 // the run ended before yesterday
	}
	if s.points != nil {
		if r.PointsEarned, err = s.points.Earned(ctx, shopID, memberID); err != nil {
			return Record{}, errs.Wrap("read record", err)
		}
	}
	return r, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
