package contentsale

import (
	"context"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// DeliverNotice is WeChat's xpay_goods_deliver_notify push, decoded.
type DeliverNotice struct {
	OpenID, OutTradeNo string
	Env                int
	ProductID          string
	ActualPrice        int64
}

// Delivered handles a delivery push: it asks WeChat for the order
// (query_order) and, when WeChat holds the money, grants once. An error
// makes the push's answer an error, so WeChat pushes again; a push for an
// order already granted is answered as done.
func (s *Service) Delivered(ctx context.Context, shopID int64, n DeliverNotice) error {
	o, err := s.orderByTradeNo(ctx, s.db, shopID, n.OutTradeNo)
	if err != nil {
		return err
	}
	if o.State != StateCreated && o.State != StateClosed {
		return nil
	}
	if n.ProductID != "" && n.ProductID != o.ItemID {
		s.log.Error("xpay push names another item than the order's", "shop", shopID, "order", o.ID, "item", n.ProductID)
		return errs.E(errs.Conflict, "xpay_push_mismatch", "the push does not match the order")
	}
	po, err := s.ask(ctx, o)
	if err != nil {
		return err
	}
	if !po.Paid() {
		return errs.E(errs.Conflict, "xpay_not_paid", "WeChat does not show this order as paid yet")
	}
	return s.settle(ctx, o, po, "push")
}

// ask is WeChat's record of o.
func (s *Service) ask(ctx context.Context, o orderRow) (PayOrder, error) {
	st, err := s.storedSettings(ctx, s.db, o.shopID)
	if err != nil {
		return PayOrder{}, err
	}
	openid, err := s.openID(ctx, s.db, o.shopID, o.MemberID)
	if err != nil {
		return PayOrder{}, err
	}
	po, err := s.pay.Query(ctx, o.shopID, st.keys, o.Env, openid, o.OutTradeNo)
	if err != nil {
		return PayOrder{}, &errs.Error{Kind: errs.Unavailable, Code: "xpay_unavailable", Message: "WeChat's virtual payment could not be asked; try again", Err: err}
	}
	return po, nil
}

// settle marks o paid and grants what it bought, in one transaction, once
// (a compare-and-set from created or closed: a late payment of an order
// closed as unpaid still grants). The amount must be what was charged.
func (s *Service) settle(ctx context.Context, o orderRow, po PayOrder, via string) error {
	if po.PaidFee != 0 && po.PaidFee != o.PriceFen {
		s.log.Error("xpay order paid another amount than charged", "shop", o.shopID, "order", o.ID, "paid", po.PaidFee, "price", o.PriceFen)
		return errs.E(errs.Conflict, "xpay_amount_mismatch", "WeChat shows another amount paid than the order's price; staff must look")
	}
	now := s.now().UnixMilli()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE content_orders SET state = 'paid', paid_at = ?, paid_fen = ?, wx_order_id = ?, next_check_at = NULL, updated_at = ?
			WHERE shop_id = ? AND id = ? AND state IN ('created', 'closed')`, now, o.PriceFen, po.WxOrderID, now, o.shopID, o.ID)
		if err := db.ExpectOne(res, err); db.IsNoRows(err) {
			return nil // settled by the other path (push or check) already
		} else if err != nil {
			return errs.Wrap("mark content order paid", err)
		}
		if err := s.deliver(ctx, tx, o, now); err != nil {
			return err
		}
		return s.event(ctx, tx, o.shopID, o.ID, "paid", "WeChat's query_order shows it paid (status "+strconv.Itoa(po.Status)+"), via "+via, "wechat")
	})
}

// deliver gives what a paid order bought: access, or a gift's claim code.
func (s *Service) deliver(ctx context.Context, tx *db.Tx, o orderRow, now int64) error {
	if o.Gift {
		_, err := tx.Exec(ctx, `INSERT INTO content_gifts (shop_id, order_id, giver_id, code, created_at) VALUES (?, ?, ?, ?, ?)`,
			o.shopID, o.ID, o.MemberID, newGiftCode(), now)
		return errs.Wrap("make gift code", err)
	}
	_, err := s.rights.GrantTx(ctx, tx, Grant{ShopID: o.shopID, MemberID: o.MemberID, TargetKind: o.TargetKind, TargetID: o.TargetID,
		Source: "purchase", SourceRef: orderRef(o.ID), Days: o.Days, By: "system", Note: "content order " + o.OutTradeNo})
	return err
}

func orderRef(id int64) string { return "xorder:" + strconv.FormatInt(id, 10) }

// retryShort and retryLong are how long to wait before asking WeChat
// about an order again: soon for its first few checks, then hourly (an
// unknown answer is asked again for as long as it stays unknown).
const (
	retryShort  = 5 * time.Minute
	retryLong   = time.Hour
	shortChecks = 6
)

// unpaidAfter is when an order WeChat still shows unpaid is closed.
const unpaidAfter = 2 * time.Hour

// CheckKind is the periodic job that asks WeChat about due orders.
const CheckKind = "contentsale.check"

// RegisterJobs runs the check every minute on one process of the cluster.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Every(CheckKind, time.Minute, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.CheckDue(ctx, 200)
		return err
	})
}

// CheckDue asks WeChat about orders whose check is due: unpaid orders (a
// lost push), refunds not yet accepted or not yet finished. It returns how
// many it looked at. Run periodically, once per cluster.
func (s *Service) CheckDue(ctx context.Context, limit int) (int, error) {
	rows, err := db.All(ctx, s.db, scanOrder, `SELECT `+orderColumns+` FROM content_orders
		WHERE next_check_at IS NOT NULL AND next_check_at <= ? ORDER BY next_check_at LIMIT ?`, s.now().UnixMilli(), limit)
	if err != nil {
		return 0, errs.Wrap("due content orders", err)
	}
	for _, o := range rows {
		var err error
		switch o.State {
		case StateCreated:
			err = s.checkUnpaid(ctx, o)
		case StateRefunding:
			err = s.checkRefund(ctx, o)
		default:
			err = s.clearCheck(ctx, o)
		}
		if err != nil {
			s.log.Warn("content order check", "shop", o.shopID, "order", o.ID, "err", err)
		}
	}
	return len(rows), nil
}

func (s *Service) checkUnpaid(ctx context.Context, o orderRow) error {
	po, err := s.ask(ctx, o)
	if err != nil {
		return s.later(ctx, o) // unknown stays unknown: asked again
	}
	if po.Paid() {
		if err := s.settle(ctx, o, po, "check"); err != nil {
			return err
		}
		return s.provided(ctx, o)
	}
	if s.now().Sub(o.CreatedAt) < unpaidAfter {
		return s.later(ctx, o)
	}
	now := s.now().UnixMilli()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE content_orders SET state = 'closed', next_check_at = NULL, updated_at = ?
			WHERE shop_id = ? AND id = ? AND state = 'created'`, now, o.shopID, o.ID))
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return errs.Wrap("close content order", err)
		}
		return s.event(ctx, tx, o.shopID, o.ID, "closed", "unpaid after "+unpaidAfter.String()+" (WeChat status "+strconv.Itoa(po.Status)+")", "system")
	})
}

// provided tells WeChat an order found paid by a check was delivered (its
// push was lost, so WeChat would otherwise keep it undelivered).
func (s *Service) provided(ctx context.Context, o orderRow) error {
	st, err := s.storedSettings(ctx, s.db, o.shopID)
	if err != nil {
		return err
	}
	if err := s.pay.Provided(ctx, o.shopID, st.keys, o.Env, o.OutTradeNo); err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `UPDATE content_orders SET provided_at = ? WHERE shop_id = ? AND id = ? AND provided_at IS NULL`,
		s.now().UnixMilli(), o.shopID, o.ID)
	return errs.Wrap("mark provided", err)
}

// later schedules o's next check with backoff.
func (s *Service) later(ctx context.Context, o orderRow) error {
	now := s.now()
	_, err := s.db.Exec(ctx, `UPDATE content_orders SET checks = checks + 1, next_check_at = CASE WHEN checks < ? THEN ? ELSE ? END
		WHERE shop_id = ? AND id = ? AND next_check_at IS NOT NULL`,
		shortChecks, now.Add(retryShort).UnixMilli(), now.Add(retryLong).UnixMilli(), o.shopID, o.ID)
	return errs.Wrap("schedule content order check", err)
}

func (s *Service) clearCheck(ctx context.Context, o orderRow) error {
	_, err := s.db.Exec(ctx, `UPDATE content_orders SET next_check_at = NULL WHERE shop_id = ? AND id = ? AND state = ?`, o.shopID, o.ID, o.State)
	return errs.Wrap("clear content order check", err)
}
