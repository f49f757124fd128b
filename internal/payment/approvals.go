package payment

import (
	"context"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// RefundPolicy is how much customer-service staff may refund at once
// without a second person's approval.
type RefundPolicy struct {
	ServiceLimit int64 `json:"service_limit" doc:"fen per order and staff member; 0 (the default) = every refund by staff who cannot approve refunds (customer service, operations) needs approval"`
}

// Policy returns a shop's refund policy.
func (s *Service) Policy(ctx context.Context, shopID int64) (RefundPolicy, error) {
	limit, err := serviceLimit(ctx, s.db, shopID)
	return RefundPolicy{ServiceLimit: limit}, errs.Wrap("refund policy", err)
}

// SetPolicy replaces a shop's refund policy.
func (s *Service) SetPolicy(ctx context.Context, shopID, by int64, p RefundPolicy) (RefundPolicy, error) {
	if p.ServiceLimit < 0 {
		return RefundPolicy{}, errs.Field("service_limit", "invalid_amount", "must be 0 or more fen")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO refund_policies (shop_id, service_limit, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET service_limit = excluded.service_limit, updated_by = excluded.updated_by,
			updated_at = excluded.updated_at`, shopID, p.ServiceLimit, by, s.now().UnixMilli())
	if err != nil {
		return RefundPolicy{}, errs.Wrap("refund policy", err)
	}
	return s.Policy(ctx, shopID)
}

func serviceLimit(ctx context.Context, q db.Querier, shopID int64) (int64, error) {
	var limit int64
	err := q.QueryRow(ctx, `SELECT service_limit FROM refund_policies WHERE shop_id = ?`, shopID).Scan(&limit)
	if db.IsNoRows(err) {
		return 0, nil
	}
	return limit, err
}

// CheckRefundLimit refuses (403 refund_needs_approval) a refund of amount
// on an order by staff who may not approve refunds (customer service,
// operations) when it would take what they have refunded on that order
// above the shop's limit: they file a refund request instead. The limit
// counts the staff member's earlier refunds of the order (all but those
// WeChat refused), so a large refund cannot be split into small ones.
// Staff who may approve refunds are not limited.
func CheckRefundLimit(ctx context.Context, q db.Querier, st auth.Staff, orderID, amount int64) error {
	if st.Role.Can(auth.PermRefundsApprove) {
		return nil
	}
	above, err := aboveRefundLimit(ctx, q, st, orderID, amount)
	if err != nil {
		return err
	}
	if above {
		return errs.E(errs.Forbidden, "refund_needs_approval",
			"refunds above the limit of staff who cannot approve refunds need approval: POST /admin/api/v1/refund-requests")
	}
	return nil
}

// aboveRefundLimit reports whether amount would take what st has refunded
// on the order (all but what WeChat refused) above the shop's limit.
func aboveRefundLimit(ctx context.Context, q db.Querier, st auth.Staff, orderID, amount int64) (bool, error) {
	limit, err := serviceLimit(ctx, q, st.ShopID)
	if err != nil {
		return false, errs.Wrap("refund policy", err)
	}
	var before int64
	err = q.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM refunds
		WHERE shop_id = ? AND order_id = ? AND requested_by = ? AND status <> 'failed'`,
		st.ShopID, orderID, string(order.StaffActor(st.AccountID))).Scan(&before)
	if err != nil {
		return false, errs.Wrap("refund policy", err)
	}
	return before+amount > limit, nil
}

// checkRefundStepUp asks staff who may refund above the limit (those who
// can approve refunds) for a second verification when they do: a recent
// code on the session or X-Kaidian-OTP (auth.Staff.SteppedUp; staff
// without TOTP have nothing to verify and pass).
func checkRefundStepUp(ctx context.Context, q db.Querier, st auth.Staff, orderID, amount int64) error {
	if st.SteppedUp {
		return nil
	}
	above, err := aboveRefundLimit(ctx, q, st, orderID, amount)
	if err != nil || !above {
		return err
	}
	return errs.E(errs.Forbidden, "second_factor_required",
		"a refund above the limit needs a second verification: send a current code in X-Kaidian-OTP")
}

// RefundRequest is a refund waiting for (or given) a second person's
// decision.
type RefundRequest struct {
	ID          int64      `json:"id"`
	OrderID     int64      `json:"order_id"`
	Amount      int64      `json:"amount" doc:"fen"`
	Reason      string     `json:"reason"`
	RequestedBy int64      `json:"requested_by" doc:"staff account id"`
	Status      string     `json:"status" enum:"pending,approved,rejected" doc:"pending, approved (the refund is made) or rejected"`
	DecidedBy   *int64     `json:"decided_by"`
	Note        string     `json:"note"`
	RefundID    *int64     `json:"refund_id"`
	CreatedAt   time.Time  `json:"created_at"`
	DecidedAt   *time.Time `json:"decided_at"`
}

// NewRefundRequest is what staff file.
type NewRefundRequest struct {
	OrderID int64  `json:"order_id"`
	Amount  int64  `json:"amount" doc:"fen, at most what is left to refund"`
	Reason  string `json:"reason" doc:"shown to the buyer by WeChat; at most 80 characters"`
}

// Decision is an approver's note.
type Decision struct {
	Note string `json:"note" doc:"at most 200 characters"`
}

// AskRefund files a refund request for a second person to decide.
func (s *Service) AskRefund(ctx context.Context, st auth.Staff, in NewRefundRequest) (RefundRequest, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	var v errs.Validator
	v.Check(in.OrderID > 0, "order_id", "must be an order id")
	v.Check(in.Amount > 0, "amount", "must be a positive number of fen")
	v.Check(len([]rune(in.Reason)) <= maxRefundReasonLen, "reason", "must be at most 80 characters")
	if err := v.Err(); err != nil {
		return RefundRequest{}, err
	}
	o, err := s.orders.Get(ctx, st.ShopID, in.OrderID, 0)
	if err != nil {
		return RefundRequest{}, err
	}
	if o.Status != order.Paid && o.Status != order.Shipped && o.Status != order.Completed {
		return RefundRequest{}, errs.E(errs.Conflict, "order_not_refundable", "only a paid, shipped or completed order can be refunded")
	}
	if in.Amount > o.PaidAmount-o.RefundedAmount {
		return RefundRequest{}, errs.Field("amount", "refund_exceeds_paid", "more than what is left to refund on this order")
	}
	var id int64
	err = s.db.QueryRow(ctx, `INSERT INTO refund_requests (shop_id, order_id, amount, reason, requested_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, st.ShopID, in.OrderID, in.Amount, in.Reason, st.AccountID, s.now().UnixMilli()).Scan(&id)
	if err != nil {
		return RefundRequest{}, errs.Wrap("refund request", err)
	}
	return s.refundRequest(ctx, st.ShopID, id)
}

// ApproveRefund approves a pending request and makes its refund, in one
// transaction. The approver must not be the requester; customer service
// cannot approve above its own limit.
func (s *Service) ApproveRefund(ctx context.Context, st auth.Staff, id int64, d Decision) (RefundRequest, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := s.decide(ctx, tx, st, id, "approved", d)
		if err != nil {
			return err
		}
		if err := CheckRefundLimit(ctx, tx, st, r.OrderID, r.Amount); err != nil {
			return err
		}
		refundID, err := RequestRefundTx(ctx, tx, st.ShopID, r.OrderID, RefundInput{Amount: r.Amount, Reason: r.Reason}, order.StaffActor(st.AccountID))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE refund_requests SET refund_id = ? WHERE id = ?`, refundID, id)
		return err
	})
	if err != nil {
		return RefundRequest{}, errs.Wrap("approve refund", err)
	}
	return s.refundRequest(ctx, st.ShopID, id)
}

// RejectRefund rejects a pending request.
func (s *Service) RejectRefund(ctx context.Context, st auth.Staff, id int64, d Decision) (RefundRequest, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := s.decide(ctx, tx, st, id, "rejected", d)
		return err
	})
	if err != nil {
		return RefundRequest{}, errs.Wrap("reject refund", err)
	}
	return s.refundRequest(ctx, st.ShopID, id)
}

// decide moves a pending request to status with a compare-and-set, after
// checking that the decider is a second person.
func (s *Service) decide(ctx context.Context, tx *db.Tx, st auth.Staff, id int64, status string, d Decision) (RefundRequest, error) {
	d.Note = strings.TrimSpace(d.Note)
	if len([]rune(d.Note)) > 200 {
		return RefundRequest{}, errs.Field("note", "note_too_long", "must be at most 200 characters")
	}
	r, err := scanRefundRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM refund_requests WHERE id = ? AND shop_id = ?`, id, st.ShopID))
	if db.IsNoRows(err) {
		return RefundRequest{}, errRequestNotFound
	}
	if err != nil {
		return RefundRequest{}, err
	}
	if r.RequestedBy == st.AccountID {
		return RefundRequest{}, errs.E(errs.Forbidden, "approver_is_requester", "a refund request is decided by someone other than who filed it")
	}
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE refund_requests SET status = ?, decided_by = ?, note = ?, decided_at = ?
		WHERE id = ? AND shop_id = ? AND status = 'pending'`, status, st.AccountID, d.Note, s.now().UnixMilli(), id, st.ShopID))
	if db.IsNoRows(err) {
		return RefundRequest{}, errs.E(errs.Conflict, "refund_request_decided", "the request is already "+r.Status)
	}
	return r, err
}

var errRequestNotFound = errs.E(errs.NotFound, "refund_request_not_found", "no such refund request")

const requestColumns = `id, order_id, amount, reason, requested_by, status, decided_by, note, refund_id, created_at, decided_at`

func scanRefundRequest(row db.Scanner) (RefundRequest, error) {
	var r RefundRequest
	var created int64
	var decided *int64
	err := row.Scan(&r.ID, &r.OrderID, &r.Amount, &r.Reason, &r.RequestedBy, &r.Status, &r.DecidedBy, &r.Note, &r.RefundID, &created, &decided)
	r.CreatedAt, r.DecidedAt = time.UnixMilli(created).UTC(), utcPtr(decided)
	return r, err
}

func (s *Service) refundRequest(ctx context.Context, shopID, id int64) (RefundRequest, error) {
	r, err := scanRefundRequest(s.db.QueryRow(ctx, `SELECT `+requestColumns+` FROM refund_requests WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return RefundRequest{}, errRequestNotFound
	}
	return r, errs.Wrap("refund request", err)
}

// RefundRequests lists a shop's refund requests (of a status, if given),
// newest first, a page at a time: ids below after (0 = from the newest), up
// to limit+1 rows so httpx.PageOf knows whether there is a next page.
func (s *Service) RefundRequests(ctx context.Context, shopID int64, status string, after int64, limit int) ([]RefundRequest, error) {
	out, err := db.All(ctx, s.db, scanRefundRequest, `SELECT `+requestColumns+` FROM refund_requests
		WHERE shop_id = ? AND (? = '' OR status = ?) AND id < ? ORDER BY id DESC LIMIT ?`, shopID, status, status, idBelow(after), limit+1)
	return out, errs.Wrap("refund requests", err)
}
