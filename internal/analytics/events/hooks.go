package events

import (
	"context"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/checkin"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// The hooks below run in the transaction of the change (server wires them
// to order's, member's and checkin's hooks), so an event exists exactly
// when its change committed. Event ids make a retried change write once.

// OrderCreated records order_created.
func (s *Service) OrderCreated(ctx context.Context, tx *db.Tx, c order.CreatedOrder) error {
	return Record(ctx, tx, c.ShopID, c.MemberID, OrderCreated, "order_created:"+itoa(c.OrderID), c.CreatedAt,
		map[string]any{"order_id": c.OrderID, "amount": c.TotalAmount})
}

// OrderPaid records order_paid.
func (s *Service) OrderPaid(ctx context.Context, tx *db.Tx, p order.PaidOrder) error {
	return Record(ctx, tx, p.ShopID, p.MemberID, OrderPaid, "order_paid:"+itoa(p.OrderID), p.PaidAt,
		map[string]any{"order_id": p.OrderID, "amount": p.Amount})
}

// OrderRefunded records order_refunded, once per refund that succeeded
// (the total refunded tells them apart).
func (s *Service) OrderRefunded(ctx context.Context, tx *db.Tx, r order.RefundedOrder) error {
	return Record(ctx, tx, r.ShopID, r.MemberID, OrderRefunded, "order_refunded:"+itoa(r.OrderID)+":"+itoa(r.RefundedOK), s.now(),
		map[string]any{"order_id": r.OrderID, "refunded": r.RefundedOK, "paid": r.PaidAmount})
}

// Signup records signup (a member's first login).
func (s *Service) Signup(ctx context.Context, tx *db.Tx, shopID, memberID int64, at time.Time) error {
	return Record(ctx, tx, shopID, memberID, Signup, "signup:"+itoa(memberID), at, nil)
}

// CheckedIn records checkin (a make-up too: props.made_up; its time is
// when it was made, the day filled in props.day).
func (s *Service) CheckedIn(ctx context.Context, tx *db.Tx, c checkin.CheckedIn) error {
	return Record(ctx, tx, c.ShopID, c.MemberID, CheckIn, "checkin:"+itoa(c.MemberID)+":"+strconv.Itoa(int(c.Day)), s.now(),
		map[string]any{"day": int64(c.Day), "made_up": c.MadeUp, "streak": c.Streak})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
