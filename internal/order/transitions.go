package order

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

var errOrderNotFound = errs.E(errs.NotFound, "order_not_found", "no such order")

// move changes an order's status from → to with a compare-and-set, logs the
// event, and sets extra columns (name = value pairs). It returns
// illegal_transition when the order is not in from (anymore).
func move(ctx context.Context, tx *db.Tx, shopID, orderID int64, from, to Status, actor Actor, reason string, now time.Time, set ...any) error {
	if !CanMove(from, to) {
		return illegal(from, to)
	}
	assign, args := "", []any{to, now.UnixMilli()}
	for i := 0; i+1 < len(set); i += 2 {
		assign += ", " + set[i].(string) + " = ?"
		args = append(args, set[i+1])
	}
	args = append(args, orderID, shopID, from)
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE orders SET status = ?, updated_at = ?`+assign+`
		WHERE id = ? AND shop_id = ? AND status = ?`, args...))
	if db.IsNoRows(err) {
		return currentIllegal(ctx, tx, shopID, orderID, to)
	}
	if err != nil {
		return err
	}
	return logEvent(ctx, tx, shopID, orderID, actor, from, to, reason, now)
}

// currentIllegal explains a failed compare-and-set: the order is gone, or
// in a status that cannot move to `to`.
func currentIllegal(ctx context.Context, tx *db.Tx, shopID, orderID int64, to Status) error {
	var cur Status
	err := tx.QueryRow(ctx, `SELECT status FROM orders WHERE id = ? AND shop_id = ?`, orderID, shopID).Scan(&cur)
	if db.IsNoRows(err) {
		return errOrderNotFound
	}
	if err != nil {
		return err
	}
	return illegal(cur, to)
}

func logEvent(ctx context.Context, tx *db.Tx, shopID, orderID int64, actor Actor, from, to Status, reason string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO order_events (shop_id, order_id, actor, from_status, to_status, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, shopID, orderID, string(actor), string(from), string(to), reason, now.UnixMilli())
	return err
}

// statusOf reads an order's status inside tx; memberID 0 means any member.
func statusOf(ctx context.Context, tx *db.Tx, shopID, orderID, memberID int64) (Status, error) {
	var st Status
	err := tx.QueryRow(ctx, `SELECT status FROM orders WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?)`,
		orderID, shopID, memberID, memberID).Scan(&st)
	if db.IsNoRows(err) {
		return "", errOrderNotFound
	}
	return st, err
}

// Cancel cancels an unpaid order and returns its stock to sale. memberID
// limits it to the buyer's own orders (0 for staff and jobs).
func (s *Service) Cancel(ctx context.Context, shopID, orderID, memberID int64, actor Actor, reason string) error {
	if s.beforeCancel != nil {
		o, err := s.Get(ctx, shopID, orderID, memberID)
		if err != nil {
			return err
		}
		if o.Status != PendingPayment {
			return illegal(o.Status, Cancelled)
		}
		if err := s.beforeCancel(ctx, shopID, o); err != nil {
			return err
		}
	}
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var buyer int64
		err := tx.QueryRow(ctx, `SELECT member_id FROM orders WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?)`,
			orderID, shopID, memberID, memberID).Scan(&buyer)
		if db.IsNoRows(err) {
			return errOrderNotFound
		}
		if err != nil {
			return err
		}
		if err := move(ctx, tx, shopID, orderID, PendingPayment, Cancelled, actor, reason, now, "cancelled_at", now.UnixMilli()); err != nil {
			return err
		}
		if err := releaseStock(ctx, tx, shopID, orderID, now); err != nil {
			return err
		}
		if s.promos != nil {
			if err := s.promos.Cancelled(ctx, tx, shopID, orderID, now); err != nil {
				return err
			}
		}
		return runHooks(ctx, tx, s.onCancelled, CancelledOrder{ShopID: shopID, OrderID: orderID, MemberID: buyer, CancelledAt: now})
	})
	return errs.Wrap("cancel order", err)
}

// MarkPaid records a payment of amount for an unpaid order and takes its
// locked stock out. A repeated call for a paid order changes nothing and
// reports applied = false (payment notifications arrive more than once).
func (s *Service) MarkPaid(ctx context.Context, shopID, orderID, amount int64, transactionID string) (applied bool, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		applied, err = s.MarkPaidTx(ctx, tx, shopID, orderID, amount, transactionID)
		return err
	})
	return applied, err
}

// MarkPaidTx is MarkPaid inside the caller's transaction, so the payment's
// own records commit with the order's status or not at all.
func (s *Service) MarkPaidTx(ctx context.Context, tx *db.Tx, shopID, orderID, amount int64, transactionID string) (applied bool, err error) {
	now := s.now()
	var total, buyer int64
	var st Status
	err = tx.QueryRow(ctx, `SELECT status, total_amount, member_id FROM orders WHERE id = ? AND shop_id = ?`, orderID, shopID).Scan(&st, &total, &buyer)
	if db.IsNoRows(err) {
		return false, errOrderNotFound
	}
	if err != nil || st != PendingPayment {
		return false, errs.Wrap("mark paid", err)
	}
	if amount != total {
		return false, errs.E(errs.Conflict, "amount_mismatch", "the payment amount differs from the order total")
	}
	err = move(ctx, tx, shopID, orderID, PendingPayment, Paid, System, "payment received", now,
		"paid_at", now.UnixMilli(), "paid_amount", amount, "transaction_id", transactionID)
	if errs.Is(err, "illegal_transition") {
		return false, nil // paid (or cancelled) by a concurrent transaction that committed first
	}
	if err != nil {
		return false, errs.Wrap("mark paid", err)
	}
	if err := deductStock(ctx, tx, shopID, orderID, now); err != nil {
		return false, errs.Wrap("mark paid", err)
	}
	if s.promos != nil {
		if err := s.promos.Paid(ctx, tx, shopID, orderID, now); err != nil {
			return false, errs.Wrap("mark paid", err)
		}
	}
	if err := runHooks(ctx, tx, s.onPaid, PaidOrder{ShopID: shopID, OrderID: orderID, MemberID: buyer, Amount: amount, PaidAt: now}); err != nil {
		return false, errs.Wrap("mark paid", err)
	}
	return true, nil
}

// Ship marks a paid order shipped (by default with its carrier and
// tracking number; see DeliveryType) and runs the OnShipped hook in the
// same transaction.
func (s *Service) Ship(ctx context.Context, shopID, orderID int64, actor Actor, in ShipInput) error {
	if err := in.normalize(); err != nil {
		return err
	}
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.shipInTx(ctx, tx, shopID, orderID, actor, in, now)
	})
	return errs.Wrap("ship order", err)
}

// shipInTx is Ship's work inside tx, for an input already normalized (bulk
// shipping runs it once per row in one transaction).
func (s *Service) shipInTx(ctx context.Context, tx *db.Tx, shopID, orderID int64, actor Actor, in ShipInput, now time.Time) error {
	if err := checkNotFullyRefunding(ctx, tx, shopID, orderID); err != nil {
		return err
	}
	err := move(ctx, tx, shopID, orderID, Paid, Shipped, actor, in.reason(), now,
		"shipped_at", now.UnixMilli(), "carrier", in.Carrier, "tracking_no", in.TrackingNo)
	if err != nil {
		return err
	}
	return s.shipped(ctx, tx, shopID, orderID, in, now)
}

// Complete marks a shipped order received (by its buyer, or staff).
func (s *Service) Complete(ctx context.Context, shopID, orderID, memberID int64, actor Actor) error {
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := statusOf(ctx, tx, shopID, orderID, memberID); err != nil {
			return err
		}
		if err := checkNotFullyRefunding(ctx, tx, shopID, orderID); err != nil {
			return err
		}
		if err := move(ctx, tx, shopID, orderID, Shipped, Completed, actor, "received", now, "completed_at", now.UnixMilli()); err != nil {
			return err
		}
		if len(s.onCompleted) == 0 {
			return nil
		}
		c := CompletedOrder{ShopID: shopID, OrderID: orderID, CompletedAt: now}
		if err := tx.QueryRow(ctx, `SELECT o.member_id, o.paid_amount, o.refunded_amount,
				(SELECT COALESCE(SUM(l.amount - l.discount), 0) FROM order_lines l WHERE l.order_id = o.id AND l.shop_id = o.shop_id)
			FROM orders o WHERE o.id = ? AND o.shop_id = ?`, orderID, shopID).Scan(&c.MemberID, &c.PaidAmount, &c.RefundedAmount, &c.GoodsPaid); err != nil {
			return err
		}
		return runHooks(ctx, tx, s.onCompleted, c)
	})
	return errs.Wrap("complete order", err)
}

// SetStaffNote replaces the staff note of an order.
func (s *Service) SetStaffNote(ctx context.Context, shopID, orderID int64, note string) error {
	if runes(note) > 500 {
		return errs.Field("note", "note_too_long", "must be at most 500 characters")
	}
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE orders SET staff_note = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		strings.TrimSpace(note), s.now().UnixMilli(), orderID, shopID))
	if db.IsNoRows(err) {
		return errOrderNotFound
	}
	return errs.Wrap("note order", err)
}

// AutoCancelAttempts is the auto-cancel job's attempts: unlimited in
// practice. An unpaid order holds stock until it is closed at WeChat (or
// found paid), so the job never gives up.
const AutoCancelAttempts = 1 << 30

// autoCancelAlarmAttempt is the attempt by which the retries have waited
// about an hour (1 + 2 + … + 11 minutes): it alarms, once.
const autoCancelAlarmAttempt = 11

// autoCancelWait is the pause after failed attempt n: n minutes, at most 30.
func autoCancelWait(attempt int) time.Duration {
	return min(time.Duration(attempt)*time.Minute, 30*time.Minute)
}

// SetLogger sets where the order jobs' alarms go (default: slog's).
func (s *Service) SetLogger(l *slog.Logger) { s.logger = l }

func (s *Service) log() *slog.Logger {
	if s.logger == nil {
		return slog.Default()
	}
	return s.logger
}

// RegisterJobs sets the auto-cancel handler: an order still unpaid at its
// deadline is cancelled (a paid or cancelled one is left alone). When the
// cancel cannot finish (WeChat cannot close the order now), it tries again,
// without end, and alarms once after about an hour.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Handle(AutoCancelKind, s.autoCancel)
}

func (s *Service) autoCancel(ctx context.Context, j jobs.Job) error {
	var p autoCancel
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	err := s.Cancel(ctx, j.ShopID, p.OrderID, 0, System, "not paid in time")
	if err == nil || errs.Is(err, "illegal_transition") || errs.Is(err, "order_not_found") {
		return nil
	}
	if errs.Is(err, "order_paid") {
		// WeChat has the payment; done once it is applied here. Until then
		// (the payment query job applies it) the stock stays locked, so
		// this job keeps watching rather than trusting another job to.
		if o, gerr := s.Get(ctx, j.ShopID, p.OrderID, 0); gerr == nil && o.Status != PendingPayment {
			return nil
		}
	}
	if j.Attempts == autoCancelAlarmAttempt {
		s.log().Error("ALARM: an unpaid order could not be cancelled for an hour; its stock stays locked, still trying",
			"shop", j.ShopID, "order", p.OrderID, "attempts", j.Attempts, "err", err.Error())
	}
	return jobs.RetryLater{After: autoCancelWait(j.Attempts)}
}
