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

// CancelledOrder is an unpaid order that has just been cancelled.
type CancelledOrder struct {
	ShopID, OrderID, MemberID int64
	CancelledAt               time.Time
}

// OnPaid adds what runs in the payment's transaction after the order
// became paid (points earned, the "paid" message queued); an error undoes
// the payment's application, which is then retried like any failure.
func (s *Service) OnPaid(fn func(ctx context.Context, tx *db.Tx, p PaidOrder) error) {
	s.onPaid = append(s.onPaid, fn)
}

// OnCancelled adds what runs in the cancel transaction of an unpaid order
// (points it spent given back); an error undoes the cancellation.
func (s *Service) OnCancelled(fn func(ctx context.Context, tx *db.Tx, c CancelledOrder) error) {
	s.onCancelled = append(s.onCancelled, fn)
}

func (s *Service) paidHooks(ctx context.Context, tx *db.Tx, p PaidOrder) error {
	for _, fn := range s.onPaid {
		if err := fn(ctx, tx, p); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) cancelledHooks(ctx context.Context, tx *db.Tx, c CancelledOrder) error {
	for _, fn := range s.onCancelled {
		if err := fn(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}
