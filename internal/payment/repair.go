package payment

import (
	"context"
	"database/sql"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// RepairKind is the periodic job that repairs payment records left behind
// by older versions, which marked the order paid and its payments row in
// two transactions (a crash between them left the row 'created'), and
// wrote no payment event.
const RepairKind = "payment.repair"

// repairBatch bounds one pass; the next pass takes the rest.
const repairBatch = 500

type paidOrder struct {
	shopID, orderID, amount, paidAt int64
	orderNo, transactionID          string
}

// RepairPayments brings the payment records of paid orders in line with
// the orders: a payments row still 'created' (or missing) becomes paid
// with the order's transaction, and a paid payment without its event gets
// one. It returns how many orders it repaired.
func (s *Service) RepairPayments(ctx context.Context) (int, error) {
	todo, err := s.paidOrdersToRepair(ctx)
	if err != nil {
		return 0, errs.Wrap("repair payments", err)
	}
	for _, p := range todo {
		if err := s.db.InTx(ctx, func(tx *db.Tx) error { return repairOne(ctx, tx, p) }); err != nil {
			return 0, errs.Wrap("repair payments", err)
		}
		s.log.Warn("payment records repaired: the order was paid but its payment row or event was missing",
			"shop", p.shopID, "order", p.orderID, "transaction", p.transactionID)
	}
	return len(todo), nil
}

func (s *Service) paidOrdersToRepair(ctx context.Context) ([]paidOrder, error) {
	rows, err := s.db.Query(ctx, `SELECT o.shop_id, o.id, o.paid_amount, o.paid_at, o.order_no, o.transaction_id FROM orders o
		LEFT JOIN payments p ON p.shop_id = o.shop_id AND p.order_id = o.id AND p.channel = 'wechatpay'
		WHERE o.paid_at IS NOT NULL AND o.transaction_id <> '' AND (p.id IS NULL OR p.status = 'created'
			OR NOT EXISTS (SELECT 1 FROM payment_events e WHERE e.shop_id = o.shop_id AND e.order_id = o.id))
		ORDER BY o.id LIMIT ?`, repairBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []paidOrder
	for rows.Next() {
		var p paidOrder
		var paidAt sql.NullInt64
		if err := rows.Scan(&p.shopID, &p.orderID, &p.amount, &paidAt, &p.orderNo, &p.transactionID); err != nil {
			return nil, err
		}
		p.paidAt = paidAt.Int64
		out = append(out, p)
	}
	return out, rows.Err()
}

// repairOne makes one paid order's payment records whole, inside tx.
func repairOne(ctx context.Context, tx *db.Tx, p paidOrder) error {
	now := db.Now()
	_, err := tx.Exec(ctx, `INSERT INTO payments (shop_id, order_id, out_trade_no, amount, status, transaction_id, paid_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'paid', ?, ?, ?, ?)
		ON CONFLICT (shop_id, order_id, channel) DO UPDATE SET status = 'paid', transaction_id = excluded.transaction_id,
			paid_at = excluded.paid_at, updated_at = excluded.updated_at WHERE payments.status IN ('created','closed')`,
		p.shopID, p.orderID, p.orderNo, p.amount, p.transactionID, p.paidAt, now, now)
	if err != nil {
		return err
	}
	return insertPaymentEvent(ctx, tx, p.shopID, p.orderID, "repair:"+p.transactionID, "REPAIR.PAID", p.transactionID, p.amount, now)
}

func (s *Service) repairDue(ctx context.Context, _ jobs.Job) error {
	_, err := s.RepairPayments(ctx)
	return err
}
