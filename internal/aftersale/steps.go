package aftersale

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Every step is a compare-and-set on the request's status inside a
// transaction, with its affected row checked: of two concurrent calls
// (two clicks, a click and the time-limit job) one moves the request and
// does the step's work (a refund, stock back), the other answers 409 and
// does nothing.

var (
	errNotOpen     = errs.E(errs.Conflict, "aftersale_not_open", "the request is not open any more")
	errWrongStatus = errs.E(errs.Conflict, "aftersale_wrong_status", "the request is not at the step this needs")
)

// current is what a step needs to know about a request, read inside tx.
type current struct {
	status, kind string
	orderID      int64
}

func load(ctx context.Context, tx *db.Tx, shopID, id, memberID int64) (current, error) {
	var c current
	err := tx.QueryRow(ctx, `SELECT status, kind, order_id FROM aftersales WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?)`,
		id, shopID, memberID, memberID).Scan(&c.status, &c.kind, &c.orderID)
	if db.IsNoRows(err) {
		return c, errNotFound
	}
	return c, err
}

// step moves request id (of memberID, 0 = any) from one of from to `to`,
// logs it, clears its deadline and sets the extra columns (name = value
// pairs). A request elsewhere answers wrong (409).
func step(ctx context.Context, tx *db.Tx, shopID, id, memberID int64, from []string, to, actor, note string, wrong error, set ...any) (current, error) {
	c, err := load(ctx, tx, shopID, id, memberID)
	if err != nil {
		return c, err
	}
	if !slices.Contains(from, c.status) {
		return c, wrong
	}
	assign, args := "", []any{to, db.Now()}
	for i := 0; i+1 < len(set); i += 2 {
		assign += ", " + set[i].(string) + " = ?"
		args = append(args, set[i+1])
	}
	args = append(args, id, shopID, c.status)
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE aftersales SET status = ?, updated_at = ?, due_at = NULL`+assign+`
		WHERE id = ? AND shop_id = ? AND status = ?`, args...))
	if db.IsNoRows(err) {
		return c, wrong // a concurrent step won
	}
	if err != nil {
		return c, err
	}
	from0 := c.status
	c.status = to
	return c, logEvent(ctx, tx, shopID, id, actor, from0, to, note)
}

// end frees the request's lines for new requests (it reached a final status).
func end(ctx context.Context, tx *db.Tx, shopID, id int64) error {
	_, err := tx.Exec(ctx, `UPDATE aftersale_lines SET is_open = FALSE WHERE aftersale_id = ? AND shop_id = ?`, id, shopID)
	return err
}

// Cancel withdraws the buyer's own request: open, or approved for a return
// not yet shipped back.
func (s *Service) Cancel(ctx context.Context, shopID, memberID, id int64) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := load(ctx, tx, shopID, id, memberID)
		if err != nil {
			return err
		}
		from := []string{Requested}
		if c.kind != RefundOnly {
			from = append(from, Approved)
		}
		if _, err := step(ctx, tx, shopID, id, memberID, from, Cancelled, string(order.MemberActor(memberID)), "withdrawn by the buyer", errNotOpen); err != nil {
			return err
		}
		return end(ctx, tx, shopID, id)
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
		if _, err := step(ctx, tx, shopID, id, 0, []string{Requested}, Rejected, string(actor), reason, errNotOpen, "reject_reason", reason); err != nil {
			return err
		}
		return end(ctx, tx, shopID, id)
	})
	return errs.Wrap("reject after-sales", err)
}

// Approve accepts an open request. A refund_only request's refund is
// requested in the same transaction (approving twice cannot refund twice,
// and a refund that is refused, more than is left, leaves the request
// open); a return or an exchange waits for the buyer to ship the goods
// back within the shop's return_ship_days.
func (s *Service) Approve(ctx context.Context, shopID, id int64, actor order.Actor) error {
	r, err := s.Get(ctx, shopID, id, 0)
	if err != nil {
		return err
	}
	set, err := s.Settings(ctx, shopID)
	if err != nil {
		return err
	}
	note := "refund requested"
	if r.Type != RefundOnly {
		note = "approved: waiting for the goods to come back"
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := step(ctx, tx, shopID, id, 0, []string{Requested}, Approved, string(actor), note, errNotOpen); err != nil {
			return err
		}
		if r.Type != RefundOnly {
			return schedule(ctx, tx, shopID, id, Approved, s.now().Add(days(set.ReturnShipDays)))
		}
		if err := refundTx(ctx, tx, shopID, r, actor); err != nil {
			return err
		}
		return end(ctx, tx, shopID, id)
	})
	return errs.Wrap("approve after-sales", err)
}

// Shipment is a carrier and tracking number.
type Shipment struct {
	Carrier    string `json:"carrier" doc:"the express company, 1 to 32 characters"`
	TrackingNo string `json:"tracking_no" doc:"4 to 40 letters, digits or dashes"`
}

var trackingNo = regexp.MustCompile(`^[A-Za-z0-9-]{4,40}$`)

func (in *Shipment) validate() error {
	in.Carrier, in.TrackingNo = strings.TrimSpace(in.Carrier), strings.TrimSpace(in.TrackingNo)
	var v errs.Validator
	v.Check(in.Carrier != "" && len([]rune(in.Carrier)) <= 32, "carrier", "must be 1 to 32 characters")
	v.Check(trackingNo.MatchString(in.TrackingNo), "tracking_no", "must be 4 to 40 letters, digits or dashes")
	return v.Err()
}

// ShipBack records the buyer's parcel of an approved return or exchange;
// staff then have the shop's return_receive_days to confirm receipt.
func (s *Service) ShipBack(ctx context.Context, shopID, memberID, id int64, in Shipment) error {
	if err := in.validate(); err != nil {
		return err
	}
	set, err := s.Settings(ctx, shopID)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := load(ctx, tx, shopID, id, memberID)
		if err != nil {
			return err
		}
		if c.kind == RefundOnly {
			return errWrongStatus
		}
		if _, err := step(ctx, tx, shopID, id, memberID, []string{Approved}, BuyerShipped, string(order.MemberActor(memberID)),
			in.Carrier+" "+in.TrackingNo, errWrongStatus, "return_carrier", in.Carrier, "return_tracking_no", in.TrackingNo); err != nil {
			return err
		}
		return schedule(ctx, tx, shopID, id, BuyerShipped, s.now().Add(days(set.ReturnReceiveDays)))
	})
	return errs.Wrap("ship back", err)
}

// Receive confirms that the goods of a return or an exchange came back:
// their stock returns to sale, and a return's refund is requested, all in
// one transaction behind one compare-and-set (received once, stock back
// once, refunded once). An exchange then waits for ShipExchange.
func (s *Service) Receive(ctx context.Context, shopID, id int64, actor order.Actor) error {
	r, err := s.Get(ctx, shopID, id, 0)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := step(ctx, tx, shopID, id, 0, []string{BuyerShipped}, Received, string(actor), "goods received", errWrongStatus); err != nil {
			return err
		}
		for _, l := range r.Lines {
			if err := order.ReturnStockTx(ctx, tx, shopID, r.OrderID, l.SKUID, l.Quantity); err != nil {
				return err
			}
		}
		if r.Type != ReturnRefund {
			return nil
		}
		if _, err := step(ctx, tx, shopID, id, 0, []string{Received}, Refunded, string(actor), "refund requested", errWrongStatus); err != nil {
			return err
		}
		if err := refundTx(ctx, tx, shopID, r, actor); err != nil {
			return err
		}
		return end(ctx, tx, shopID, id)
	})
	return errs.Wrap("receive return", err)
}

// ShipExchange ships the replacement of a received exchange (the same
// SKUs, taken from stock by compare-and-set); the buyer then confirms, or
// the shop's auto_confirm_days complete it.
func (s *Service) ShipExchange(ctx context.Context, shopID, id int64, actor order.Actor, in Shipment) error {
	if err := in.validate(); err != nil {
		return err
	}
	r, err := s.Get(ctx, shopID, id, 0)
	if err != nil {
		return err
	}
	set, err := s.Settings(ctx, shopID)
	if err != nil {
		return err
	}
	if r.Type != Exchange {
		return errWrongStatus
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := step(ctx, tx, shopID, id, 0, []string{Received}, ExchangeShipped, string(actor), in.Carrier+" "+in.TrackingNo,
			errWrongStatus, "exchange_carrier", in.Carrier, "exchange_tracking_no", in.TrackingNo); err != nil {
			return err
		}
		for _, l := range r.Lines {
			if err := order.ExchangeStockTx(ctx, tx, shopID, r.OrderID, l.SKUID, l.Quantity); err != nil {
				return err
			}
		}
		return schedule(ctx, tx, shopID, id, ExchangeShipped, s.now().Add(days(set.AutoConfirmDays)))
	})
	return errs.Wrap("ship exchange", err)
}

// Confirm completes an exchange whose replacement arrived: by its buyer
// (memberID), or by the system at the deadline (memberID 0).
func (s *Service) Confirm(ctx context.Context, shopID, memberID, id int64, actor order.Actor) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := step(ctx, tx, shopID, id, memberID, []string{ExchangeShipped}, Completed, string(actor), "replacement received", errWrongStatus); err != nil {
			return err
		}
		return end(ctx, tx, shopID, id)
	})
	return errs.Wrap("confirm exchange", err)
}

// close ends an approved return or exchange that the buyer did not ship
// back in time.
func (s *Service) close(ctx context.Context, shopID, id int64) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := step(ctx, tx, shopID, id, 0, []string{Approved}, Closed, string(order.System), "not shipped back in time", errWrongStatus); err != nil {
			return err
		}
		return end(ctx, tx, shopID, id)
	})
	return errs.Wrap("close after-sales", err)
}

func days(n int64) time.Duration { return time.Duration(n) * 24 * time.Hour }
