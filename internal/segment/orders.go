package segment

import (
	"context"
	"github.com/kaidian/kaidian/internal/member"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// MemberOrder is one of a member's orders in the member detail (the order
// detail has the rest).
type MemberOrder struct {
	ID             int64      `json:"id"`
	OrderNo        string     `json:"order_no"`
	Status         string     `json:"status"`
	TotalAmount    int64      `json:"total_amount"`
	PaidAmount     int64      `json:"paid_amount"`
	RefundedAmount int64      `json:"refunded_amount"`
	PaidAt         *time.Time `json:"paid_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

// OrderPage is a page of a member's orders, newest first.
type OrderPage struct {
	Items []MemberOrder
	Next  int64
}

// MemberOrders pages through member id's orders, newest first.
func (s *Service) MemberOrders(ctx context.Context, shopID, memberID, after int64, limit int) (OrderPage, error) {
	if err := member.InShop(ctx, s.db, shopID, memberID); err != nil {
		return OrderPage{}, err
	}
	if after <= 0 {
		after = 1 << 62
	}
	rows, err := s.db.Query(ctx, `SELECT id, order_no, status, total_amount, paid_amount, refunded_amount, paid_at, created_at
		FROM orders WHERE shop_id = ? AND member_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, shopID, memberID, after, limit+1)
	if err != nil {
		return OrderPage{}, errs.Wrap("member orders", err)
	}
	defer rows.Close()
	page := OrderPage{Items: []MemberOrder{}}
	for rows.Next() {
		var o MemberOrder
		var paid *int64
		var created int64
		if err := rows.Scan(&o.ID, &o.OrderNo, &o.Status, &o.TotalAmount, &o.PaidAmount, &o.RefundedAmount, &paid, &created); err != nil {
			return OrderPage{}, errs.Wrap("member orders", err)
		}
		if paid != nil {
			t := time.UnixMilli(*paid).UTC()
			o.PaidAt = &t
		}
		o.CreatedAt = time.UnixMilli(created).UTC()
		page.Items = append(page.Items, o)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, errs.Wrap("member orders", rows.Err())
}

// Spending is what a member has paid, for the member detail.
type Spending struct {
	PaidOrders int64      `json:"paid_orders"`
	Spent      int64      `json:"spent" doc:"fen paid, net of refunds"`
	LastPaidAt *time.Time `json:"last_paid_at"`
}

// MemberSpending sums member id's paid orders.
func (s *Service) MemberSpending(ctx context.Context, shopID, memberID int64) (Spending, error) {
	if err := member.InShop(ctx, s.db, shopID, memberID); err != nil {
		return Spending{}, err
	}
	var sp Spending
	var last *int64
	err := s.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(paid_amount - refunded_amount), 0), MAX(paid_at)
		FROM orders WHERE shop_id = ? AND member_id = ? AND paid_at IS NOT NULL`, shopID, memberID).Scan(&sp.PaidOrders, &sp.Spent, &last)
	if last != nil {
		t := time.UnixMilli(*last).UTC()
		sp.LastPaidAt = &t
	}
	return sp, errs.Wrap("member spending", err)
}
