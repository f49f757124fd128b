package contentsale

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// RefundInput is a refund request.
type RefundInput struct {
	Reason string `json:"reason" doc:"why, 1–200 characters (kept on the order)"`
}

// Refund requesters, as xpay's req_from names them.
const (
	fromStaff = "1" // customer service
	fromBuyer = "2" // the user
)

// BuyerRefund is a buyer asking for their money back: within the shop's
// window after paying, while little of it was used, never for iOS (Apple
// decides those), never for a gift already claimed.
func (s *Service) BuyerRefund(ctx context.Context, shopID, memberID, orderID int64, in RefundInput) (Order, error) {
	o, err := s.order(ctx, s.db, shopID, orderID)
	if err != nil {
		return Order{}, err
	}
	if o.MemberID != memberID {
		return Order{}, errOrderNotFound
	}
	if err := s.buyerMayRefund(ctx, o); err != nil {
		return Order{}, err
	}
	return s.refund(ctx, o, in, fromBuyer, "member:"+strconv.FormatInt(memberID, 10))
}

// StaffRefund refunds any paid order outside the buyer's rules (still never
// an iOS one), or asks again after WeChat refused a refund.
func (s *Service) StaffRefund(ctx context.Context, shopID, staffID, orderID int64, in RefundInput) (Order, error) {
	o, err := s.order(ctx, s.db, shopID, orderID)
	if err != nil {
		return Order{}, err
	}
	return s.refund(ctx, o, in, fromStaff, "staff:"+strconv.FormatInt(staffID, 10))
}

func (s *Service) buyerMayRefund(ctx context.Context, o orderRow) error {
	st, err := s.storedSettings(ctx, s.db, o.shopID)
	if err != nil {
		return err
	}
	if o.PaidAt == nil || st.RefundDays == 0 || s.now().After(o.PaidAt.Add(time.Duration(st.RefundDays)*24*time.Hour)) {
		return errs.E(errs.Conflict, "refund_window_closed", "refunds can be asked within "+strconv.Itoa(st.RefundDays)+" days of paying; ask the shop")
	}
	if s.consumed == nil || o.Gift {
		return nil
	}
	pct, err := s.consumed.Consumed(ctx, o.shopID, o.MemberID, o.TargetKind, o.TargetID)
	if err != nil {
		return err
	}
	if pct > st.RefundMaxConsumed {
		return errs.E(errs.Conflict, "refund_too_much_used", "more than "+strconv.Itoa(st.RefundMaxConsumed)+"% of it was used; ask the shop")
	}
	return nil
}

var errIOSRefund = errs.E(errs.Conflict, "ios_refund_by_apple",
	"paid on iPhone through Apple: Apple decides its refunds (ask Apple at reportaproblem.apple.com)")

// refund asks xpay to refund o in full. Access ends when WeChat accepts
// the request (a verified answer); an unknown answer leaves the refund
// asked and the check asks again with the same refund number.
func (s *Service) refund(ctx context.Context, o orderRow, in RefundInput, from, actor string) (Order, error) {
	n := len([]rune(in.Reason))
	if n < 1 || n > 200 {
		return Order{}, errs.Field("reason", "invalid_reason", "must be 1 to 200 characters")
	}
	if o.Platform == "ios" {
		return Order{}, errIOSRefund
	}
	if o.State != StatePaid && !(o.State == StateRefundFailed && from == fromStaff) {
		return Order{}, errs.E(errs.Conflict, "content_order_not_refundable", "the order is "+o.State+": only a paid order can be refunded")
	}
	o.RefundNo, o.refundFrom = "kr"+newTradeNo()[2:], from
	if err := s.askRefund(ctx, o, in.Reason, actor); err != nil {
		return Order{}, err
	}
	err := s.sendRefund(ctx, o, from)
	if err != nil && !errors.Is(err, ErrRefused) {
		s.log.Warn("xpay refund answer unknown; asked again later", "shop", o.shopID, "order", o.ID, "err", err)
	}
	out, err := s.order(ctx, s.db, o.shopID, o.ID)
	return out.Order, err
}

// askRefund records the request: paid (or refund_failed) → refunding, in
// one compare-and-set with its event; a gift already claimed is refused
// under the order's lock (claiming takes the same lock).
func (s *Service) askRefund(ctx context.Context, o orderRow, reason, actor string) error {
	now := s.now()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE content_orders SET state = 'refunding', refund_no = ?, refund_from = ?, refund_reason = ?, refund_error = '',
			refund_asked_at = ?, next_check_at = ?, checks = 0, updated_at = ? WHERE shop_id = ? AND id = ? AND state = ?`,
			o.RefundNo, o.refundFrom, reason, now.UnixMilli(), now.Add(retryShort).UnixMilli(), now.UnixMilli(), o.shopID, o.ID, o.State))
		if db.IsNoRows(err) {
			return errs.E(errs.Conflict, "content_order_changed", "the order changed meanwhile; reload it")
		}
		if err != nil {
			return errs.Wrap("ask content refund", err)
		}
		if o.Gift {
			if err := giftUnclaimed(ctx, tx, o); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, o.shopID, o.ID, "refund_asked", "¥"+yuan(o.PaidFen)+" refund "+o.RefundNo+": "+reason, actor)
	})
}

// sendRefund asks xpay and records a definite answer: accepted (access
// ends now) or refused (refund_failed, access kept).
func (s *Service) sendRefund(ctx context.Context, o orderRow, from string) error {
	st, err := s.storedSettings(ctx, s.db, o.shopID)
	if err != nil {
		return err
	}
	openid, err := s.openID(ctx, s.db, o.shopID, o.MemberID)
	if err != nil {
		return err
	}
	err = s.pay.Refund(ctx, o.shopID, st.keys, RefundRequest{OpenID: openid, OutTradeNo: o.OutTradeNo, RefundNo: o.RefundNo,
		LeftFee: o.PaidFen, RefundFee: o.PaidFen, Reason: "0", ReqFrom: from, Env: o.Env})
	switch {
	case err == nil:
		return s.accepted(ctx, o)
	case errors.Is(err, ErrRefused):
		if ferr := s.refundFailed(ctx, o, err.Error()); ferr != nil {
			return ferr
		}
		return err
	}
	return err
}

// accepted ends the access o gave (or voids its unclaimed gift), once.
func (s *Service) accepted(ctx context.Context, o orderRow) error {
	now := s.now().UnixMilli()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE content_orders SET revoked_at = ?, updated_at = ?
			WHERE shop_id = ? AND id = ? AND refund_no = ? AND state IN ('refunding', 'refunded') AND revoked_at IS NULL`,
			now, now, o.shopID, o.ID, o.RefundNo))
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return errs.Wrap("end content access", err)
		}
		if err := s.endAccess(ctx, tx, o, now); err != nil {
			return err
		}
		return s.event(ctx, tx, o.shopID, o.ID, "refund_accepted", "WeChat accepted refund "+o.RefundNo+"; access ended", "wechat")
	})
}

func (s *Service) endAccess(ctx context.Context, tx *db.Tx, o orderRow, now int64) error {
	if o.Gift {
		_, err := tx.Exec(ctx, `UPDATE content_gifts SET voided_at = ? WHERE shop_id = ? AND order_id = ? AND claimed_by IS NULL AND voided_at IS NULL`,
			now, o.shopID, o.ID)
		return errs.Wrap("void gift", err)
	}
	return s.rights.RevokeTx(ctx, tx, o.shopID, orderRef(o.ID), "refunded: "+o.RefundNo, "system")
}

// refundFailed records WeChat's refusal or failure of a refund.
func (s *Service) refundFailed(ctx context.Context, o orderRow, why string) error {
	now := s.now().UnixMilli()
	s.log.Error("xpay refund failed; staff must decide", "shop", o.shopID, "order", o.ID, "refund", o.RefundNo, "why", why)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE content_orders SET state = 'refund_failed', refund_error = ?, next_check_at = NULL, updated_at = ?
			WHERE shop_id = ? AND id = ? AND refund_no = ? AND state = 'refunding'`, clip(why, 300), now, o.shopID, o.ID, o.RefundNo))
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return errs.Wrap("record refund failure", err)
		}
		return s.event(ctx, tx, o.shopID, o.ID, "refund_failed", why, "wechat")
	})
}

// refunded finishes a refund WeChat reports done (ending access too if its
// acceptance was never seen).
func (s *Service) refunded(ctx context.Context, o orderRow, via string) error {
	now := s.now().UnixMilli()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var revoked *int64
		err := tx.QueryRow(ctx, `UPDATE content_orders SET state = 'refunded', refunded_at = ?, next_check_at = NULL, updated_at = ?
			WHERE shop_id = ? AND id = ? AND refund_no = ? AND state = 'refunding' RETURNING revoked_at`,
			now, now, o.shopID, o.ID, o.RefundNo).Scan(&revoked)
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return errs.Wrap("finish content refund", err)
		}
		if revoked == nil {
			if _, err := tx.Exec(ctx, `UPDATE content_orders SET revoked_at = ? WHERE shop_id = ? AND id = ?`, now, o.shopID, o.ID); err != nil {
				return errs.Wrap("end content access", err)
			}
			if err := s.endAccess(ctx, tx, o, now); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, o.shopID, o.ID, "refunded", "¥"+yuan(o.PaidFen)+" refunded ("+via+")", "wechat")
	})
}

// RefundNotice is WeChat's xpay_refund_notify push, decoded.
type RefundNotice struct {
	MchRefundID, MchOrderID string
	RetCode                 int
	RetMsg                  string
}

// RefundNotified applies a refund's outcome pushed by WeChat. A push for
// another refund number than the order's current one is stale and ignored.
func (s *Service) RefundNotified(ctx context.Context, shopID int64, n RefundNotice) error {
	o, err := s.orderByTradeNo(ctx, s.db, shopID, n.MchOrderID)
	if err != nil {
		return err
	}
	if o.RefundNo == "" || o.RefundNo != n.MchRefundID || o.State != StateRefunding {
		return nil
	}
	if n.RetCode != 0 {
		return s.refundFailed(ctx, o, "WeChat: "+strconv.Itoa(n.RetCode)+" "+n.RetMsg)
	}
	return s.refunded(ctx, o, "push")
}

// checkRefund moves a refund on: sends it again while WeChat's acceptance
// is unknown, then asks query_order until it is refunded or failed.
func (s *Service) checkRefund(ctx context.Context, o orderRow) error {
	if o.RevokedAt == nil {
		err := s.sendRefund(ctx, o, o.refundFrom)
		if err != nil && !errors.Is(err, ErrRefused) {
			return s.later(ctx, o)
		}
		return nil
	}
	po, err := s.ask(ctx, o)
	switch {
	case err != nil:
		return s.later(ctx, o)
	case po.Status == 5:
		return s.refunded(ctx, o, "check")
	case po.Status == 7:
		return s.refundFailed(ctx, o, "WeChat's query_order shows the refund failed (status 7)")
	}
	return s.later(ctx, o)
}
