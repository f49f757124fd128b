package order

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// ReserveRefund sets amount aside for a refund inside tx: a compare-and-set
// that fails with refund_exceeds_paid when the order has less left to
// refund, so concurrent refunds never add up to more than was paid.
func ReserveRefund(ctx context.Context, tx *db.Tx, shopID, orderID, amount int64, actor Actor, reason string) (Order, error) {
	if amount <= 0 {
		return Order{}, errs.Field("amount", "invalid_amount", "must be a positive number of fen")
	}
	st, err := statusOf(ctx, tx, shopID, orderID, 0)
	if err != nil {
		return Order{}, err
	}
	if st != Paid && st != Shipped && st != Completed {
		return Order{}, errs.E(errs.Conflict, "order_not_refundable", "only a paid, shipped or completed order can be refunded")
	}
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE orders SET refunded_amount = refunded_amount + ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND paid_amount - refunded_amount >= ?`, amount, db.Now(), orderID, shopID, amount))
	if db.IsNoRows(err) {
		return Order{}, errs.Field("amount", "refund_exceeds_paid", "more than what is left to refund on this order")
	}
	if err != nil {
		return Order{}, err
	}
	if err := logEvent(ctx, tx, shopID, orderID, actor, st, st, reason, db.NowTime()); err != nil {
		return Order{}, err
	}
	var o Order
	err = tx.QueryRow(ctx, `SELECT order_no, paid_amount FROM orders WHERE id = ?`, orderID).Scan(&o.OrderNo, &o.PaidAmount)
	o.ID, o.Status = orderID, st
	return o, err
}

// ReleaseRefund gives back the amount of a refund that failed for good.
func ReleaseRefund(ctx context.Context, tx *db.Tx, shopID, orderID, amount int64) error {
	return db.ExpectOne(tx.Exec(ctx, `UPDATE orders SET refunded_amount = refunded_amount - ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND refunded_amount >= ?`, amount, db.Now(), orderID, shopID, amount))
}

// RefundSucceeded applies a refund's success to the order inside tx:
// refundedOK is what all its succeeded refunds add up to. The OnRefunded
// hooks run, and the order moves to refunded (a closed state) when that
// is everything that was paid.
func (s *Service) RefundSucceeded(ctx context.Context, tx *db.Tx, shopID, orderID, refundedOK int64) error {
	var st Status
	r := RefundedOrder{ShopID: shopID, OrderID: orderID, RefundedOK: refundedOK}
	if err := tx.QueryRow(ctx, `SELECT status, paid_amount, member_id FROM orders WHERE id = ? AND shop_id = ?`,
		orderID, shopID).Scan(&st, &r.PaidAmount, &r.MemberID); err != nil {
		return err
	}
	if err := runHooks(ctx, tx, s.onRefunded, r); err != nil {
		return err
	}
	if r.PaidAmount == 0 || refundedOK < r.PaidAmount || !CanMove(st, Refunded) {
		return nil
	}
	return move(ctx, tx, shopID, orderID, st, Refunded, System, "fully refunded", db.NowTime())
}

// LogNote records something that happened to an order without changing its
// status (from = to = the current status), inside tx.
func LogNote(ctx context.Context, tx *db.Tx, shopID, orderID int64, actor Actor, note string) error {
	st, err := statusOf(ctx, tx, shopID, orderID, 0)
	if err != nil {
		return err
	}
	return logEvent(ctx, tx, shopID, orderID, actor, st, st, note, db.NowTime())
}

// allocateRefund spreads the order's refunded amount over its lines in
// proportion to what each line cost after its discount (largest remainder,
// so the shares add up exactly); what exceeds the goods is the shipping
// fee's and stays off the lines.
func allocateRefund(o *Order) {
	var goods int64
	for _, l := range o.Lines {
		goods += l.Amount - l.Discount
	}
	refund := min(o.RefundedAmount, goods)
	if refund <= 0 {
		return
	}
	left := refund
	rest := make([]int64, len(o.Lines))
	for i := range o.Lines {
		paid := o.Lines[i].Amount - o.Lines[i].Discount
		o.Lines[i].Refunded = refund * paid / goods
		rest[i] = refund * paid % goods
		left -= o.Lines[i].Refunded
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rest {
			if rest[i] > rest[best] {
				best = i
			}
		}
		o.Lines[best].Refunded++
		rest[best] = -1
	}
}

// errFullRefundPending refuses to ship or confirm an order whose whole
// payment is being refunded.
var errFullRefundPending = errs.E(errs.Conflict, "refund_in_progress",
	"the whole payment of this order is being refunded; it cannot be shipped or confirmed")

// checkNotFullyRefunding fails when refunds requested (and not failed)
// cover everything paid, inside tx.
func checkNotFullyRefunding(ctx context.Context, tx *db.Tx, shopID, orderID int64) error {
	var paid, refunded int64
	err := tx.QueryRow(ctx, `SELECT paid_amount, refunded_amount FROM orders WHERE id = ? AND shop_id = ?`, orderID, shopID).Scan(&paid, &refunded)
	if db.IsNoRows(err) {
		return errOrderNotFound
	}
	if err == nil && paid > 0 && refunded >= paid {
		return errFullRefundPending
	}
	return err
}

// ReserveLateRefund counts again a refund that was released as failed and
// that WeChat later reported succeeded, inside tx. refunded_amount never
// passes paid_amount: the part beyond it (money refunded twice) is
// returned as over, for the alarm.
func ReserveLateRefund(ctx context.Context, tx *db.Tx, shopID, orderID, amount int64) (over int64, err error) {
	var paid, refunded int64
	if err := tx.QueryRow(ctx, `SELECT paid_amount, refunded_amount FROM orders WHERE id = ? AND shop_id = ?`,
		orderID, shopID).Scan(&paid, &refunded); err != nil {
		return 0, err
	}
	next := min(paid, refunded+amount)
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE orders SET refunded_amount = ?, updated_at = ? WHERE id = ? AND shop_id = ? AND refunded_amount = ?`,
		next, db.Now(), orderID, shopID, refunded))
	return refunded + amount - next, err
}

// StatusTx reads an order's status inside tx.
func StatusTx(ctx context.Context, tx *db.Tx, shopID, orderID int64) (Status, error) {
	return statusOf(ctx, tx, shopID, orderID, 0)
}
