package order

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// PaidOrder is an order that has just become paid, as the OnPaid hooks see it.
type PaidOrder struct {
	ShopID, OrderID, MemberID int64
	Amount                    int64 // fen paid (0 for a fully discounted order)
	PaidAt                    time.Time
}

// CreatedOrder is an order just placed, as the OnCreated hooks see it.
type CreatedOrder struct {
	ShopID, OrderID, MemberID int64
	TotalAmount               int64 // fen to pay
	CreatedAt                 time.Time
}

// CancelledOrder is an unpaid order that has just been cancelled.
type CancelledOrder struct {
	ShopID, OrderID, MemberID int64
	CancelledAt               time.Time
}

// CompletedOrder is an order its buyer has just received.
type CompletedOrder struct {
	ShopID, OrderID, MemberID int64
	GoodsPaid                 int64 // fen paid for the goods: Σ(amount − discount) of the lines
	PaidAmount                int64 // fen paid, shipping included
	RefundedAmount            int64 // fen refunded or being refunded so far
	CompletedAt               time.Time
}

// RefundedOrder is an order a refund of has just succeeded.
type RefundedOrder struct {
	ShopID, OrderID, MemberID int64
	PaidAmount                int64 // fen paid
	RefundedOK                int64 // fen of all its succeeded refunds
}

// OnCompleted adds what runs in the transaction that marks an order
// received (points earned); an error undoes it.
func (s *Service) OnCompleted(fn func(ctx context.Context, tx *db.Tx, c CompletedOrder) error) {
	s.onCompleted = append(s.onCompleted, fn)
}

// OnRefunded adds what runs in the transaction that applies a refund's
// success (points given back in proportion); an error undoes it.
func (s *Service) OnRefunded(fn func(ctx context.Context, tx *db.Tx, r RefundedOrder) error) {
	s.onRefunded = append(s.onRefunded, fn)
}

// OnPaid adds what runs in the payment's transaction after the order
// became paid (points earned, the "paid" message queued); an error undoes
// the payment's application, which is then retried like any failure.
func (s *Service) OnPaid(fn func(ctx context.Context, tx *db.Tx, p PaidOrder) error) {
	s.onPaid = append(s.onPaid, fn)
}

// OnCreated adds what runs in the transaction that places an order
// (analytics' order_created event); an error undoes the order. With such
// hooks every order takes the general path (placeOneStatement runs no Go
// code inside its statement).
func (s *Service) OnCreated(fn func(ctx context.Context, tx *db.Tx, c CreatedOrder) error) {
	s.onCreated = append(s.onCreated, fn)
}

// OnCancelled adds what runs in the cancel transaction of an unpaid order
// (points it spent given back); an error undoes the cancellation.
func (s *Service) OnCancelled(fn func(ctx context.Context, tx *db.Tx, c CancelledOrder) error) {
	s.onCancelled = append(s.onCancelled, fn)
}

func runHooks[T any](ctx context.Context, tx *db.Tx, hooks []func(context.Context, *db.Tx, T) error, v T) error {
	for _, fn := range hooks {
		if err := fn(ctx, tx, v); err != nil {
			return err
		}
	}
	return nil
}
