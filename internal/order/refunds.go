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

// CloseIfRefunded closes the order when refunds that went through add up
// to everything that was paid.
func CloseIfRefunded(ctx context.Context, tx *db.Tx, shopID, orderID, refundedOK int64) error {
	var st Status
	var paid int64
	if err := tx.QueryRow(ctx, `SELECT status, paid_amount FROM orders WHERE id = ? AND shop_id = ?`, orderID, shopID).Scan(&st, &paid); err != nil {
		return err
	}
	if paid == 0 || refundedOK < paid || !CanMove(st, Closed) {
		return nil
	}
	return move(ctx, tx, shopID, orderID, st, Closed, System, "fully refunded", db.NowTime())
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
