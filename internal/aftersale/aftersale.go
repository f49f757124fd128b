// Package aftersale handles buyers' after-sales requests on paid orders:
// refund only, return and refund, or exchange, on the whole order or on
// order lines with quantities, with reason and photos. Staff approve or
// reject; a return comes back (the buyer's carrier and tracking number),
// staff confirm receipt (its stock returns to sale) and the refund goes
// out, or the replacement ships. Every step is logged and has a time limit
// with an automatic outcome (jobs.go). The package also confirms receipt of
// shipped orders automatically after the shop's number of days.
package aftersale

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/payment"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Types of request.
const (
	RefundOnly   = "refund_only"
	ReturnRefund = "return_refund"
	Exchange     = "exchange"
)

// Statuses of a request.
const (
	Requested       = "requested"
	Approved        = "approved"
	Rejected        = "rejected"
	Cancelled       = "cancelled"
	BuyerShipped    = "buyer_shipped"
	Received        = "received"
	Refunded        = "refunded"
	ExchangeShipped = "exchange_shipped"
	Completed       = "completed"
	Closed          = "closed"
)

// Statuses lists every status, in the order a request can pass them.
var Statuses = []string{Requested, Approved, Rejected, Cancelled, BuyerShipped, Received, Refunded, ExchangeShipped, Completed, Closed}

// ReasonCodes are the reasons a buyer picks from (plus free text).
var ReasonCodes = []string{"quality", "damaged", "wrong_item", "not_as_described", "size", "missing_parts", "not_received", "changed_mind", "other"}

// Request is an after-sales request with its log, as staff see it.
type Request struct {
	ID                 int64      `json:"id"`
	OrderID            int64      `json:"order_id"`
	MemberID           int64      `json:"member_id"`
	Type               string     `json:"type" enum:"refund_only,return_refund,exchange" doc:"refund_only, return_refund or exchange"`
	Lines              []Line     `json:"lines" doc:"the order lines asked about; empty: a refund on the whole order"`
	Amount             int64      `json:"amount" doc:"fen to refund (0 for an exchange)"`
	ReasonCode         string     `json:"reason_code" enum:"quality,damaged,wrong_item,not_as_described,size,missing_parts,not_received,changed_mind,other"`
	Reason             string     `json:"reason"`
	Photos             []string   `json:"photos"`
	Status             string     `json:"status" enum:"requested,approved,rejected,cancelled,buyer_shipped,received,refunded,exchange_shipped,completed,closed" doc:"requested, approved, rejected, cancelled, buyer_shipped, received, refunded, exchange_shipped, completed or closed"`
	RejectReason       string     `json:"reject_reason,omitempty"`
	RefundID           int64      `json:"refund_id,omitempty"`
	ReturnCarrier      string     `json:"return_carrier" doc:"the buyer's carrier for the goods sent back"`
	ReturnTrackingNo   string     `json:"return_tracking_no"`
	ExchangeCarrier    string     `json:"exchange_carrier" doc:"the shop's carrier for the replacement"`
	ExchangeTrackingNo string     `json:"exchange_tracking_no"`
	DueAt              *time.Time `json:"due_at" doc:"when the current step's time limit runs out (UTC); null when it has none"`
	DueAction          string     `json:"due_action,omitempty" enum:"approve,close,receive,complete" doc:"what happens by itself at due_at"`
	CreatedAt          time.Time  `json:"created_at"`
	Events             []Event    `json:"events"`

	wholeOrder bool
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
	Type       string      `json:"type" doc:"refund_only (default), return_refund or exchange"`
	Lines      []LineInput `json:"lines" doc:"order lines and quantities (up to 50); none: a refund_only request on the whole order for amount"`
	Amount     int64       `json:"amount" doc:"fen; with lines, at most their share of what was paid (0 or absent: all of it; an exchange refunds nothing); without lines, at most what is left to refund on the order"`
	ReasonCode string      `json:"reason_code" doc:"quality, damaged, wrong_item, not_as_described, size, missing_parts, not_received, changed_mind or other (default)"`
	Reason     string      `json:"reason" doc:"2 to 200 characters"`
	Photos     []string    `json:"photos" doc:"up to 9 image URLs"`
}

// LineInput is one order line of a request.
type LineInput struct {
	OrderLineID int64 `json:"order_line_id"`
	Quantity    int64 `json:"quantity"`
}

// Service runs after-sales requests.
type Service struct {
	db     *db.DB
	orders *order.Service
	now    func() time.Time
}

// NewService returns the after-sales service.
func NewService(d *db.DB, orders *order.Service) *Service {
	return &Service{db: d, orders: orders, now: time.Now}
}

func (in *NewRequest) validate() error {
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Type == "" {
		in.Type = RefundOnly
	}
	if in.ReasonCode == "" {
		in.ReasonCode = "other"
	}
	var v errs.Validator
	v.Check(in.Type == RefundOnly || in.Type == ReturnRefund || in.Type == Exchange, "type", "must be refund_only, return_refund or exchange")
	v.Check(slices.Contains(ReasonCodes, in.ReasonCode), "reason_code", "must be one of "+strings.Join(ReasonCodes, ", "))
	if len(in.Lines) == 0 {
		v.Check(in.Type == RefundOnly, "lines", "a return or an exchange names the order lines and quantities")
		v.Check(in.Amount > 0, "amount", "must be a positive number of fen")
	} else {
		v.Check(len(in.Lines) <= 50, "lines", "at most 50 lines")
		v.Check(in.Amount >= 0, "amount", "must not be negative")
		v.Check(in.Type != Exchange || in.Amount == 0, "amount", "an exchange refunds nothing")
		seen := map[int64]bool{}
		for i, l := range in.Lines {
			v.Check(l.OrderLineID > 0 && !seen[l.OrderLineID], fmt.Sprintf("lines[%d].order_line_id", i), "must be a line of the order, once")
			v.Check(l.Quantity > 0 && l.Quantity <= 1_000_000, fmt.Sprintf("lines[%d].quantity", i), "must be a positive number")
			seen[l.OrderLineID] = true
		}
	}
	v.Check(len([]rune(in.Reason)) >= 2 && len([]rune(in.Reason)) <= 200, "reason", "must be 2 to 200 characters")
	v.Check(len(in.Photos) <= 9, "photos", "at most 9 photos")
	for i, p := range in.Photos {
		u, err := url.Parse(p)
		v.Check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(p) <= 1024,
			fmt.Sprintf("photos[%d]", i), "must be an http(s) URL")
	}
	return v.Err()
}

var errOpen = errs.E(errs.Conflict, "aftersale_open", "this order (or one of these lines) already has an open after-sales request")

// Create opens a request on the buyer's paid, shipped or completed order
// (a return or an exchange needs goods that shipped).
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
	if in.Type != RefundOnly && o.Status == order.Paid {
		return Request{}, errs.E(errs.Conflict, "order_not_shipped", "a return or an exchange needs an order that shipped")
	}
	left := o.PaidAmount - o.RefundedAmount
	if len(in.Lines) == 0 && in.Amount > left {
		return Request{}, errs.Field("amount", "refund_exceeds_paid", "more than what is left to refund on this order")
	}
	photos, _ := json.Marshal(append([]string{}, in.Photos...))
	now := s.now()
	due := now.Add(ApproveWithin)
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		amount, lines := in.Amount, []Line(nil)
		if len(in.Lines) > 0 {
			var full int64
			var err error
			if lines, full, err = priceLines(ctx, tx, shopID, o, in.Lines); err != nil {
				return err
			}
			if amount, err = askedAmount(in.Type, in.Amount, full, left); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO aftersales (shop_id, order_id, member_id, amount, reason, photos, kind, whole_order,
			reason_code, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			shopID, orderID, memberID, amount, in.Reason, string(photos), in.Type, len(lines) == 0, in.ReasonCode,
			due.UnixMilli(), now.UnixMilli(), now.UnixMilli()).Scan(&id)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if _, err := tx.Exec(ctx, `INSERT INTO aftersale_lines (shop_id, aftersale_id, order_line_id, sku_id, quantity, amount)
				VALUES (?, ?, ?, ?, ?, ?)`, shopID, id, l.OrderLineID, l.SKUID, l.Quantity, l.Amount); err != nil {
				return err
			}
		}
		if err := logEvent(ctx, tx, shopID, id, string(order.MemberActor(memberID)), "", Requested, in.Reason); err != nil {
			return err
		}
		return schedule(ctx, tx, shopID, id, Requested, due)
	})
	if db.IsUniqueViolation(err) {
		return Request{}, errOpen
	}
	if err != nil {
		return Request{}, errs.Wrap("create after-sales", err)
	}
	return s.Get(ctx, shopID, id, memberID)
}

// askedAmount is what a line request refunds: what the buyer asked (0 =
// all the lines' share), never more than that share nor than is left to
// refund on the order; an exchange refunds nothing.
func askedAmount(kind string, asked, full, left int64) (int64, error) {
	if kind == Exchange {
		return 0, nil
	}
	if asked == 0 {
		asked = full
	}
	switch {
	case asked > full:
		return 0, errs.Field("amount", "amount_exceeds_lines", fmt.Sprintf("more than these lines' share of what was paid (%d fen)", full))
	case asked > left:
		return 0, errs.Field("amount", "refund_exceeds_paid", "more than what is left to refund on this order")
	case asked <= 0:
		return 0, errs.Field("lines", "nothing_to_refund", "nothing was paid for these lines")
	}
	return asked, nil
}

// priceLines checks the requested lines against the order inside tx and
// prices them: a line with an open request answers aftersale_open, a
// quantity beyond what was bought minus what earlier requests (not
// rejected, cancelled or closed) took answers quantity_exceeds. A line's
// amount is its pro-rata share of what was paid for it (amount − the
// coupon's share): cumulative, so the shares of all its units add up to
// exactly what the line cost.
func priceLines(ctx context.Context, tx *db.Tx, shopID int64, o order.Order, in []LineInput) ([]Line, int64, error) {
	byID := map[int64]order.Line{}
	for _, l := range o.Lines {
		byID[l.ID] = l
	}
	out := make([]Line, 0, len(in))
	var total int64
	for _, want := range in {
		l, ok := byID[want.OrderLineID]
		if !ok {
			return nil, 0, errs.Field("lines", "order_line_not_found", fmt.Sprintf("order line %d is not a line of this order", want.OrderLineID))
		}
		var open, used int64
		err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN al.is_open THEN 1 ELSE 0 END), 0), COALESCE(SUM(al.quantity), 0)
			FROM aftersale_lines al JOIN aftersales a ON a.id = al.aftersale_id
			WHERE al.order_line_id = ? AND al.shop_id = ? AND a.status NOT IN ('rejected', 'cancelled', 'closed')`,
			l.ID, shopID).Scan(&open, &used)
		if err != nil {
			return nil, 0, err
		}
		if open > 0 {
			return nil, 0, errOpen
		}
		if used+want.Quantity > l.Quantity {
			return nil, 0, errs.Field("lines", "quantity_exceeds",
				fmt.Sprintf("line %d: %d bought, %d already returned or refunded", l.ID, l.Quantity, used))
		}
		share := lineShare(max(l.Amount-l.Discount, 0), l.Quantity, used, want.Quantity)
		out = append(out, Line{OrderLineID: l.ID, SKUID: l.SKUID, Title: l.Title, SpecValues: l.SpecValues, Quantity: want.Quantity, Amount: share})
		total += share
	}
	return out, total, nil
}

// lineShare is the part of paid (what a line of bought units cost) that
// want more units are worth after used units were already taken: the
// difference of cumulative floors, so however the units are split over
// requests their shares add up to paid exactly.
func lineShare(paid, bought, used, want int64) int64 {
	return paid*(used+want)/bought - paid*used/bought
}

func logEvent(ctx context.Context, tx *db.Tx, shopID, id int64, actor, from, to, note string) error {
	_, err := tx.Exec(ctx, `INSERT INTO aftersale_events (shop_id, aftersale_id, actor, from_status, to_status, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, shopID, id, actor, from, to, note, db.Now())
	return err
}

var errNotFound = errs.E(errs.NotFound, "aftersale_not_found", "no such after-sales request")

// truncate cuts s to n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// refundKey is the idempotency key of a request's refund: one refund per
// request, however often a step is retried.
func refundKey(id int64) string { return fmt.Sprintf("aftersale-%d", id) }

// refundTx requests r's refund inside tx (once: see refundKey) and links it.
func refundTx(ctx context.Context, tx *db.Tx, shopID int64, r Request, actor order.Actor) error {
	refundID, err := payment.RequestRefundOnceTx(ctx, tx, shopID, r.OrderID, refundKey(r.ID),
		payment.RefundInput{Amount: r.Amount, Reason: truncate(r.Reason, 80)}, actor)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE aftersales SET refund_id = ? WHERE id = ? AND shop_id = ?`, refundID, r.ID, shopID)
	return err
}
