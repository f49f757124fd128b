package payment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
)

// Refund jobs: submit to WeChat (retried, then flagged), and query until
// WeChat reports a final status (in case its notification is lost).
const (
	RefundSubmitKind   = "refund.submit"
	RefundQueryKind    = "refund.query"
	refundSubmitTries  = 8
	maxRefundReasonLen = 80 // WeChat's limit on the reason shown to the payer
)

// RefundInput is a staff refund request.
type RefundInput struct {
	Amount int64  `json:"amount" doc:"fen; several partial refunds may add up to what was paid"`
	Reason string `json:"reason" doc:"shown to the buyer by WeChat; at most 80 characters"`
}

// Refund is one refund request and where it stands.
type Refund struct {
	ID          int64      `json:"id"`
	OrderID     int64      `json:"order_id"`
	OutRefundNo string     `json:"out_refund_no"`
	Amount      int64      `json:"amount" doc:"fen"`
	Reason      string     `json:"reason"`
	LatePayment bool       `json:"late_payment" doc:"a payment that arrived after the order was cancelled, returned automatically"`
	Status      string     `json:"status" enum:"pending,processing,succeeded,failed,abnormal" doc:"pending, processing, succeeded, failed (flagged) or abnormal (flagged: WeChat needs manual handling)"`
	LastError   string     `json:"last_error,omitempty"`
	RequestedBy string     `json:"requested_by"`
	CreatedAt   time.Time  `json:"created_at"`
	SucceededAt *time.Time `json:"succeeded_at"`
}

type refundJob struct {
	RefundID int64 `json:"refund_id"`
}

// RequestRefund refunds part or all of a paid order: the amount is set
// aside on the order at once (never more than was paid) and sent to WeChat
// by a job.
func (s *Service) RequestRefund(ctx context.Context, shopID, orderID int64, in RefundInput, actor order.Actor) (Refund, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = RequestRefundTx(ctx, tx, shopID, orderID, in, actor)
		return err
	})
	if err != nil {
		return Refund{}, errs.Wrap("request refund", err)
	}
	return s.refund(ctx, shopID, id)
}

// RequestRefundTx is RequestRefund inside the caller's transaction (an
// approved after-sales request and its refund commit together). It returns
// the refund's id.
func RequestRefundTx(ctx context.Context, tx *db.Tx, shopID, orderID int64, in RefundInput, actor order.Actor) (int64, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if len([]rune(in.Reason)) > maxRefundReasonLen {
		return 0, errs.Field("reason", "reason_too_long", "must be at most 80 characters")
	}
	o, err := order.ReserveRefund(ctx, tx, shopID, orderID, in.Amount, actor, fmt.Sprintf("refund of %d fen requested", in.Amount))
	if err != nil {
		return 0, err
	}
	return insertRefund(ctx, tx, shopID, orderID, o.OrderNo, in.Amount, o.PaidAmount, in.Reason, false, string(actor))
}

// insertRefund stores a refund with the next out_refund_no of its order
// (order number + R + sequence) and queues its submission.
func insertRefund(ctx context.Context, tx *db.Tx, shopID, orderID int64, orderNo string, amount, total int64, reason string, late bool, by string) (int64, error) {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM refunds WHERE shop_id = ? AND order_id = ?`, shopID, orderID).Scan(&n); err != nil {
		return 0, err
	}
	now := db.Now()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO refunds (shop_id, order_id, out_refund_no, amount, total, reason, late_payment,
		requested_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, orderID, fmt.Sprintf("%sR%02d", orderNo, n+1), amount, total, reason, late, by, now, now).Scan(&id)
	if err != nil {
		return 0, err
	}
	_, err = jobs.Enqueue(ctx, tx, RefundSubmitKind, refundJob{RefundID: id}, jobs.Options{ShopID: shopID,
		UniqueKey: fmt.Sprintf("refund-submit:%d", id), MaxAttempts: refundSubmitTries})
	return id, err
}

const refundColumns = `id, order_id, out_refund_no, amount, reason, late_payment, status, last_error, requested_by, created_at, succeeded_at`

func scanRefund(row interface{ Scan(...any) error }) (Refund, error) {
	var r Refund
	var created int64
	var succeeded *int64
	err := row.Scan(&r.ID, &r.OrderID, &r.OutRefundNo, &r.Amount, &r.Reason, &r.LatePayment, &r.Status, &r.LastError,
		&r.RequestedBy, &created, &succeeded)
	r.CreatedAt = time.UnixMilli(created).UTC()
	if succeeded != nil {
		t := time.UnixMilli(*succeeded).UTC()
		r.SucceededAt = &t
	}
	return r, err
}

func (s *Service) refund(ctx context.Context, shopID, id int64) (Refund, error) {
	r, err := scanRefund(s.db.QueryRow(ctx, `SELECT `+refundColumns+` FROM refunds WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Refund{}, errs.E(errs.NotFound, "refund_not_found", "no such refund")
	}
	return r, errs.Wrap("refund", err)
}

// Refunds lists a shop's refunds: of one order (orderID > 0), or with a
// status (e.g. failed and abnormal ones, which need staff), newest first.
func (s *Service) Refunds(ctx context.Context, shopID, orderID int64, status string) ([]Refund, error) {
	rows, err := s.db.Query(ctx, `SELECT `+refundColumns+` FROM refunds WHERE shop_id = ?
		AND (? = 0 OR order_id = ?) AND (? = '' OR status = ?) ORDER BY id DESC LIMIT 200`, shopID, orderID, orderID, status, status)
	if err != nil {
		return nil, errs.Wrap("refunds", err)
	}
	defer rows.Close()
	out := []Refund{}
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, errs.Wrap("refunds", err)
		}
		out = append(out, r)
	}
	return out, errs.Wrap("refunds", rows.Err())
}

// submitRefund sends a pending refund to WeChat. Temporary failures are
// retried with backoff; after the last try, or on a refusal, the refund is
// flagged failed and its amount released.
func (s *Service) submitRefund(ctx context.Context, j jobs.Job) error {
	var p refundJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	var outRefundNo, orderNo, reason, status string
	var amount, total int64
	err := s.db.QueryRow(ctx, `SELECT r.out_refund_no, o.order_no, r.reason, r.status, r.amount, r.total
		FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.id = ? AND r.shop_id = ?`, p.RefundID, j.ShopID).
		Scan(&outRefundNo, &orderNo, &reason, &status, &amount, &total)
	if err != nil || status != "pending" {
		return err
	}
	client, _, err := s.clients.get(ctx, j.ShopID)
	if err != nil {
		return err
	}
	res, err := client.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: orderNo, OutRefundNo: outRefundNo, Reason: reason,
		NotifyURL: s.cfg.PublicURL + refundNotifyPath(j.ShopID), Refund: amount, Total: total})
	if err != nil {
		if wechatpay.IsRetryable(err) && j.Attempts < refundSubmitTries {
			return err
		}
		return s.settleRefund(ctx, j.ShopID, outRefundNo, wechatpay.RefundStatusClosed, "", err.Error())
	}
	if err := s.settleRefund(ctx, j.ShopID, outRefundNo, res.Status, res.RefundID, ""); err != nil {
		return err
	}
	_, err = jobs.Enqueue(ctx, s.db, RefundQueryKind, p, jobs.Options{ShopID: j.ShopID, RunAt: s.now().Add(s.cfg.QueryAfter),
		UniqueKey: fmt.Sprintf("refund-query:%d", p.RefundID), MaxAttempts: 60})
	return err
}

// queryRefund asks WeChat about a refund until it is final.
func (s *Service) queryRefund(ctx context.Context, j jobs.Job) error {
	var p refundJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	r, err := s.refund(ctx, j.ShopID, p.RefundID)
	if err != nil || r.Status != "processing" {
		return nil
	}
	client, _, err := s.clients.get(ctx, j.ShopID)
	if err != nil {
		return err
	}
	res, err := client.QueryRefund(ctx, r.OutRefundNo)
	if err != nil {
		return err
	}
	if res.Status == wechatpay.RefundStatusProcessing {
		return jobs.RetryLater{After: 2 * s.cfg.QueryAfter}
	}
	return s.settleRefund(ctx, j.ShopID, r.OutRefundNo, res.Status, res.RefundID, "")
}

// settleRefund records WeChat's status of a refund, once: SUCCESS may close
// the order, CLOSED (or a refusal) releases the amount and flags it failed,
// ABNORMAL flags it for staff.
func (s *Service) settleRefund(ctx context.Context, shopID int64, outRefundNo, wxStatus, refundID, lastError string) error {
	to := map[string]string{wechatpay.RefundStatusSuccess: "succeeded", wechatpay.RefundStatusProcessing: "processing",
		wechatpay.RefundStatusClosed: "failed", wechatpay.RefundStatusAbnormal: "abnormal"}[wxStatus]
	if to == "" {
		return fmt.Errorf("unknown refund status %q", wxStatus)
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var id, orderID, amount int64
		var late bool
		err := tx.QueryRow(ctx, `SELECT id, order_id, amount, late_payment FROM refunds WHERE out_refund_no = ? AND shop_id = ?`,
			outRefundNo, shopID).Scan(&id, &orderID, &amount, &late)
		if err != nil {
			return err
		}
		now := db.Now()
		res, err := tx.Exec(ctx, `UPDATE refunds SET status = ?, refund_id = CASE WHEN ? <> '' THEN ? ELSE refund_id END,
			last_error = ?, succeeded_at = CASE WHEN ? = 'succeeded' THEN CAST(? AS BIGINT) ELSE succeeded_at END, updated_at = ?
			WHERE id = ? AND status IN ('pending','processing') AND status <> ?`,
			to, refundID, refundID, lastError, to, now, now, id, to)
		if n, _ := rowsAffected(res, err); n == 0 || late {
			return err // already settled (a repeated notification), or a late payment's refund
		}
		return s.afterSettle(ctx, tx, shopID, orderID, amount, to)
	})
	return errs.Wrap("settle refund", err)
}

func (s *Service) afterSettle(ctx context.Context, tx *db.Tx, shopID, orderID, amount int64, to string) error {
	switch to {
	case "failed":
		s.log.Warn("refund failed", "shop", shopID, "order", orderID, "amount", amount)
		return order.ReleaseRefund(ctx, tx, shopID, orderID, amount)
	case "succeeded":
		var ok int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE shop_id = ? AND order_id = ? AND status = 'succeeded' AND late_payment = FALSE`,
			shopID, orderID).Scan(&ok); err != nil {
			return err
		}
		return order.CloseIfRefunded(ctx, tx, shopID, orderID, ok)
	case "abnormal":
		s.log.Error("refund abnormal: needs manual handling at WeChat Pay", "shop", shopID, "order", orderID)
	}
	return nil
}

func rowsAffected(res interface{ RowsAffected() (int64, error) }, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func refundNotifyPath(shopID int64) string {
	return fmt.Sprintf("/webhooks/wechatpay/%d/refund", shopID)
}

// RefundNotify handles a refund notification from WeChat Pay: verified,
// decrypted, matched to our refund and settled once.
func (s *Service) RefundNotify(ctx context.Context, shopID int64, r *http.Request) error {
	client, sh, err := s.clients.get(ctx, shopID)
	if err != nil {
		return err
	}
	n, err := client.ParseNotification(r)
	if err != nil {
		return err
	}
	rn, err := n.RefundNotice()
	if err != nil {
		return err
	}
	if rn.MchID != sh.MchID {
		return errMismatch
	}
	err = s.settleRefund(ctx, shopID, rn.OutRefundNo, rn.RefundStatus, rn.RefundID, "")
	if db.IsNoRows(err) {
		return errMismatch
	}
	return err
}

// refundLatePayment returns a payment that arrived after its order was
// cancelled, in full, automatically.
func (s *Service) refundLatePayment(ctx context.Context, shopID int64, o order.Order, tx wechatpay.Transaction) error {
	err := s.db.InTx(ctx, func(dbtx *db.Tx) error {
		var n int
		if err := dbtx.QueryRow(ctx, `SELECT COUNT(*) FROM refunds WHERE shop_id = ? AND order_id = ? AND late_payment = TRUE`, shopID, o.ID).Scan(&n); err != nil || n > 0 {
			return err
		}
		if _, err := insertRefund(ctx, dbtx, shopID, o.ID, o.OrderNo, tx.Amount.Total, tx.Amount.Total,
			"订单已取消，款项原路退回", true, string(order.System)); err != nil {
			return err
		}
		return order.LogNote(ctx, dbtx, shopID, o.ID, order.System,
			fmt.Sprintf("payment %s of %d fen arrived after cancellation; refunding it", tx.TransactionID, tx.Amount.Total))
	})
	return errs.Wrap("refund late payment", err)
}
