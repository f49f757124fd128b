// Package aftersale handles buyers' refund requests on paid orders: the
// buyer asks (reason, amount, photos), staff approve, which sends the
// refund, or reject with a reason. Each request has its own state and log.
package aftersale

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/payment"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Statuses of a request.
const (
	Requested = "requested"
	Approved  = "approved"
	Rejected  = "rejected"
	Cancelled = "cancelled"
)

// Request is an after-sales request with its log.
type Request struct {
	ID           int64     `json:"id"`
	OrderID      int64     `json:"order_id"`
	MemberID     int64     `json:"member_id"`
	Amount       int64     `json:"amount" doc:"fen"`
	Reason       string    `json:"reason"`
	Photos       []string  `json:"photos"`
	Status       string    `json:"status" enum:"requested,approved,rejected,cancelled" doc:"requested, approved, rejected or cancelled"`
	RejectReason string    `json:"reject_reason,omitempty"`
	RefundID     int64     `json:"refund_id,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	Events       []Event   `json:"events"`
}

// Event is one step in a request's log.
type Event struct {
	Actor     string    `json:"actor"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// NewRequest is what a buyer sends.
type NewRequest struct {
	Amount int64    `json:"amount" doc:"fen, at most what is left to refund on the order"`
	Reason string   `json:"reason"`
	Photos []string `json:"photos" doc:"up to 9 image URLs"`
}

// Service runs after-sales requests.
type Service struct {
	db     *db.DB
	orders *order.Service
}

// NewService returns the after-sales service.
func NewService(d *db.DB, orders *order.Service) *Service {
	return &Service{db: d, orders: orders}
}

func (in *NewRequest) validate() error {
	in.Reason = strings.TrimSpace(in.Reason)
	var v errs.Validator
	v.Check(in.Amount > 0, "amount", "must be a positive number of fen")
	v.Check(len([]rune(in.Reason)) >= 2 && len([]rune(in.Reason)) <= 200, "reason", "must be 2 to 200 characters")
	v.Check(len(in.Photos) <= 9, "photos", "at most 9 photos")
	for i, p := range in.Photos {
		u, err := url.Parse(p)
		v.Check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(p) <= 1024,
			fmt.Sprintf("photos[%d]", i), "must be an http(s) URL")
	}
	return v.Err()
}

// Create opens a request on the buyer's paid, shipped or completed order.
func (s *Service) Create(ctx context.Context, shopID, memberID, orderID int64, in NewRequest) (Request, error) {
	if err := in.validate(); err != nil {
		return Request{}, err
	}
	o, err := s.orders.Get(ctx, shopID, orderID, memberID)
	if err != nil {
		return Request{}, err
	}
	if o.Status != order.Paid && o.Status != order.Shipped && o.Status != order.Completed {
		return Request{}, errs.E(errs.Conflict, "order_not_refundable", "after-sales needs a paid, shipped or completed order")
	}
	if in.Amount > o.PaidAmount-o.RefundedAmount {
		return Request{}, errs.Field("amount", "refund_exceeds_paid", "more than what is left to refund on this order")
	}
	photos, _ := json.Marshal(append([]string{}, in.Photos...))
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := db.Now()
		err := tx.QueryRow(ctx, `INSERT INTO aftersales (shop_id, order_id, member_id, amount, reason, photos, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, orderID, memberID, in.Amount, in.Reason, string(photos), now, now).Scan(&id)
		if err != nil {
			return err
		}
		return logEvent(ctx, tx, shopID, id, string(order.MemberActor(memberID)), "", Requested, in.Reason)
	})
	if db.IsUniqueViolation(err) {
		return Request{}, errs.E(errs.Conflict, "aftersale_open", "this order already has an open after-sales request")
	}
	if err != nil {
		return Request{}, errs.Wrap("create after-sales", err)
	}
	return s.Get(ctx, shopID, id, memberID)
}

func logEvent(ctx context.Context, tx *db.Tx, shopID, id int64, actor, from, to, note string) error {
	_, err := tx.Exec(ctx, `INSERT INTO aftersale_events (shop_id, aftersale_id, actor, from_status, to_status, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, shopID, id, actor, from, to, note, db.Now())
	return err
}

// move changes a request's status from requested with a compare-and-set.
func move(ctx context.Context, tx *db.Tx, shopID, id, memberID int64, to, actor, note string, set string, args ...any) error {
	all := append([]any{to, db.Now()}, args...)
	all = append(all, id, shopID, memberID, memberID)
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE aftersales SET status = ?, updated_at = ?`+set+`
		WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?) AND status = 'requested'`, all...))
	if db.IsNoRows(err) {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM aftersales WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?)`,
			id, shopID, memberID, memberID).Scan(&n); err != nil || n == 0 {
			return errNotFound
		}
		return errs.E(errs.Conflict, "aftersale_not_open", "the request is not open any more")
	}
	if err != nil {
		return err
	}
	return logEvent(ctx, tx, shopID, id, actor, Requested, to, note)
}

var errNotFound = errs.E(errs.NotFound, "aftersale_not_found", "no such after-sales request")

// Cancel withdraws the buyer's own open request.
func (s *Service) Cancel(ctx context.Context, shopID, memberID, id int64) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return move(ctx, tx, shopID, id, memberID, Cancelled, string(order.MemberActor(memberID)), "withdrawn by the buyer", "")
	})
	return errs.Wrap("cancel after-sales", err)
}

// Reject closes an open request with a reason the buyer will see.
func (s *Service) Reject(ctx context.Context, shopID, id int64, actor order.Actor, reason string) error {
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) < 2 || len([]rune(reason)) > 200 {
		return errs.Field("reason", "reason_required", "say why, in 2 to 200 characters")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return move(ctx, tx, shopID, id, 0, Rejected, string(actor), reason, ", reject_reason = ?", reason)
	})
	return errs.Wrap("reject after-sales", err)
}

// Approve marks the request approved and requests its refund, in one
// transaction: approving twice cannot refund twice, and a refund that is
// refused (more than is left) leaves the request open.
func (s *Service) Approve(ctx context.Context, shopID, id int64, actor order.Actor) error {
	r, err := s.Get(ctx, shopID, id, 0)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := move(ctx, tx, shopID, id, 0, Approved, string(actor), "refund requested", ""); err != nil {
			return err
		}
		refundID, err := payment.RequestRefundTx(ctx, tx, shopID, r.OrderID, payment.RefundInput{Amount: r.Amount, Reason: truncate(r.Reason, 80)}, actor)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE aftersales SET refund_id = ? WHERE id = ?`, refundID, id)
		return err
	})
	return errs.Wrap("approve after-sales", err)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
