package points

import (
	"context"
	"fmt"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/pricing"
)

// Checkout is the ledger as checkout sees it (order.Points).
type Checkout struct{ *Service }

var _ order.Points = Checkout{}

// Rule prices a checkout's points by the shop's rules: refused when the
// shop has points off or the buyer holds fewer than want.
func (c Checkout) Rule(ctx context.Context, q db.Querier, shopID, memberID, want int64) (pricing.Points, error) {
	st, err := settingsOf(ctx, q, shopID)
	if err != nil {
		return pricing.Points{}, err
	}
	if !st.Enabled {
		if want > 0 {
			return pricing.Points{}, errs.Field("points", "points_unavailable", "this shop does not take points")
		}
		return pricing.Points{}, nil
	}
	if want > 0 {
		a, err := account(ctx, q, shopID, memberID, c.now().UnixMilli())
		if err != nil {
			return pricing.Points{}, err
		}
		if a.Balance < want {
			return pricing.Points{}, errs.E(errs.Conflict, "insufficient_points", fmt.Sprintf("you hold %d points", a.Balance))
		}
	}
	return pricing.Points{Want: want, PerYuan: st.RedeemPerYuan, CapBP: st.RedeemCapBP}, nil
}

// Balance is the points the buyer holds now.
func (c Checkout) Balance(ctx context.Context, shopID, memberID int64) (int64, error) {
	a, err := account(ctx, c.db, shopID, memberID, c.now().UnixMilli())
	return a.Balance, err
}

// Spend takes a new order's points inside its transaction.
func (c Checkout) Spend(ctx context.Context, tx *db.Tx, shopID, memberID, orderID, points, fen int64) error {
	now := c.now().UnixMilli()
	id, applied, err := take(ctx, tx, change{shopID: shopID, memberID: memberID, points: points, kind: KindSpend,
		reason: "paid at checkout", sourceType: "order", sourceID: itoa(orderID), key: "spend:order:" + itoa(orderID)}, now)
	if err != nil {
		return err
	}
	if !applied {
		return fmt.Errorf("points: order %d spent its points before", orderID)
	}
	_, err = tx.Exec(ctx, `INSERT INTO order_points (order_id, shop_id, member_id, used, discount, spend_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		orderID, shopID, memberID, points, fen, id, now)
	return err
}

// Hooks are the ledger's part of an order's life, registered on the
// order service by server: all run in the order's own transactions.
func (s *Service) Hooks(o *order.Service) {
	o.OnCancelled(s.orderCancelled)
	o.OnCompleted(s.orderCompleted)
	o.OnRefunded(s.orderRefunded)
}

// orderCancelled gives back all the points an unpaid order spent.
func (s *Service) orderCancelled(ctx context.Context, tx *db.Tx, c order.CancelledOrder) error {
	return s.returnSpent(ctx, tx, c.ShopID, c.OrderID, 1, 1, "order cancelled")
}

// orderRefunded gives back the spent points in proportion to the money
// refunded (all of them once everything paid is refunded), and takes back
// earned points the same way.
func (s *Service) orderRefunded(ctx context.Context, tx *db.Tx, r order.RefundedOrder) error {
	if r.PaidAmount <= 0 {
		return nil
	}
	ok := min(r.RefundedOK, r.PaidAmount)
	if err := s.returnSpent(ctx, tx, r.ShopID, r.OrderID, ok, r.PaidAmount, "order refunded"); err != nil {
		return err
	}
	return s.clawBack(ctx, tx, r.ShopID, r.OrderID, ok, r.PaidAmount)
}

// returnSpent brings what the order has given back of its spent points up
// to used × num / den (rounded down; all at num = den). Repeated with the
// same proportion it changes nothing.
func (s *Service) returnSpent(ctx context.Context, tx *db.Tx, shopID, orderID, num, den int64, reason string) error {
	var memberID, used, returned int64
	var spendID *int64
	err := tx.QueryRow(ctx, `SELECT member_id, used, returned, spend_id FROM order_points WHERE order_id = ? AND shop_id = ?`,
		orderID, shopID).Scan(&memberID, &used, &returned, &spendID)
	if db.IsNoRows(err) || (err == nil && (used == 0 || spendID == nil)) {
		return nil
	}
	if err != nil {
		return err
	}
	target := proportion(used, num, den)
	n := target - returned
	if n <= 0 {
		return nil
	}
	now := s.now().UnixMilli()
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE order_points SET returned = ?, updated_at = ? WHERE order_id = ? AND shop_id = ? AND returned = ?`,
		target, now, orderID, shopID, returned)); err != nil {
		return err
	}
	_, err = giveBack(ctx, tx, change{shopID: shopID, memberID: memberID, points: n, kind: KindReturn, reason: reason,
		sourceType: "order", sourceID: itoa(orderID), key: fmt.Sprintf("return:order:%d:%d", orderID, target)}, *spendID, now)
	return err
}

// orderCompleted earns points on the goods the buyer paid for (net of
// what is refunded so far), at the shop's rate.
func (s *Service) orderCompleted(ctx context.Context, tx *db.Tx, c order.CompletedOrder) error {
	st, err := settingsOf(ctx, tx, c.ShopID)
	if err != nil || !st.Enabled || st.EarnPerYuan == 0 {
		return err
	}
	goods := c.GoodsPaid - min(c.RefundedAmount, c.GoodsPaid)
	bp := int64(10000)
	if s.multiplier != nil {
		if bp, err = s.multiplier.PointsMultiplier(ctx, tx, c.ShopID, c.MemberID); err != nil {
			return err
		}
	}
	earn, _ := mulDiv(goods*st.EarnPerYuan, bp, 1_000_000) // ÷100 fen per yuan, ÷10000 basis points
	if earn <= 0 {
		return nil
	}
	now := s.now()
	applied, err := add(ctx, tx, change{shopID: c.ShopID, memberID: c.MemberID, points: earn, kind: KindEarn, reason: "order completed",
		sourceType: "order", sourceID: itoa(c.OrderID), key: "earn:order:" + itoa(c.OrderID), expiresAt: st.expiresAt(now)}, now.UnixMilli())
	if err != nil || !applied {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO order_points (order_id, shop_id, member_id, earned, earn_refunded, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (order_id) DO UPDATE SET earned = excluded.earned, earn_refunded = excluded.earn_refunded, updated_at = excluded.updated_at`,
		c.OrderID, c.ShopID, c.MemberID, earn, c.RefundedAmount, now.UnixMilli())
	return err
}

// clawBack takes back earned points in proportion to the money refunded
// after the order earned them (earned was on what was not refunded then),
// as far as the balance allows: a balance never goes below zero, so what
// the buyer has already spent is not taken (the shortfall stays on
// order_points as earned − clawed_back).
func (s *Service) clawBack(ctx context.Context, tx *db.Tx, shopID, orderID, refundedOK, paid int64) error {
	var memberID, earned, clawed, base int64
	err := tx.QueryRow(ctx, `SELECT member_id, earned, clawed_back, earn_refunded FROM order_points WHERE order_id = ? AND shop_id = ?`,
		orderID, shopID).Scan(&memberID, &earned, &clawed, &base)
	if db.IsNoRows(err) || (err == nil && earned == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now().UnixMilli()
	if err := expireDue(ctx, tx, shopID, []int64{memberID}, now); err != nil {
		return err
	}
	var balance int64
	if err := tx.QueryRow(ctx, `SELECT balance FROM points_accounts WHERE shop_id = ? AND member_id = ?`, shopID, memberID).Scan(&balance); err != nil {
		return err
	}
	base = min(base, paid)
	target := earned
	if paid > base {
		target = proportion(earned, max(refundedOK-base, 0), paid-base)
	}
	n := min(target-clawed, balance)
	if n <= 0 {
		return nil
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE order_points SET clawed_back = clawed_back + ?, updated_at = ? WHERE order_id = ? AND shop_id = ? AND clawed_back = ?`,
		n, now, orderID, shopID, clawed)); err != nil {
		return err
	}
	_, _, err = take(ctx, tx, change{shopID: shopID, memberID: memberID, points: n, kind: KindClawback, reason: "order refunded after it earned points",
		sourceType: "order", sourceID: itoa(orderID), key: fmt.Sprintf("clawback:order:%d:%d", orderID, clawed+n)}, now)
	return err
}

// proportion is floor(total × num / den), all of it at num ≥ den.
func proportion(total, num, den int64) int64 {
	if num >= den {
		return total
	}
	q, _ := mulDiv(total, num, den)
	return q
}
