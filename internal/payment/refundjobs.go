package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
)

// refusalCodes are the refund API's answers that say, definitely, that
// WeChat did not create the refund and will not on a repeat of the same
// request: bad or inconsistent parameters, no such order or merchant, no
// refund permission, the payer's account closed. Everything else (5xx,
// SYSTEM_ERROR, a timeout, an answer whose signature does not verify) says
// nothing about whether the refund exists: it is unknown and resubmitted
// with the same out_refund_no, which WeChat deduplicates. NOT_ENOUGH,
// FREQUENCY_LIMITED and SIGN_ERROR are refusals that a later try can
// overcome (money arrives, the limit resets, the key is fixed): retried.
var refusalCodes = []string{"PARAM_ERROR", "INVALID_REQUEST", "MCH_NOT_EXISTS", "RESOURCE_NOT_EXISTS",
	"ORDER_NOT_EXIST", "NO_AUTH", "USER_ACCOUNT_ABNORMAL"}

// refusedForGood reports whether err is a definite refusal (see
// refusalCodes), or a request the client never sent.
func refusedForGood(err error) bool {
	if errors.Is(err, wechatpay.ErrInvalidRequest) {
		return true
	}
	var apiErr *wechatpay.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 &&
		slices.Contains(refusalCodes, apiErr.Code)
}

// refundWait is the pause before asking WeChat again about a refund:
// growing with the attempts, up to refundMaxWait, for as long as it takes.
func refundWait(base time.Duration, attempt int) time.Duration {
	if attempt > 1000 {
		return refundMaxWait
	}
	return min(base*time.Duration(attempt*attempt), refundMaxWait)
}

type refundToSend struct {
	Refund
	orderNo string
	total   int64
}

func (s *Service) refundToSend(ctx context.Context, shopID, id int64) (refundToSend, error) {
	r, err := s.refund(ctx, shopID, id)
	if err != nil {
		return refundToSend{}, err
	}
	out := refundToSend{Refund: r}
	err = s.db.QueryRow(ctx, `SELECT o.order_no, r.total FROM refunds r JOIN orders o ON o.id = r.order_id
		WHERE r.id = ? AND r.shop_id = ?`, id, shopID).Scan(&out.orderNo, &out.total)
	return out, err
}

// submitRefund sends a pending refund to WeChat, and again (same
// out_refund_no, same amount) until WeChat answers: accepted (then queried
// until final) or refused for good (failed, its amount released).
func (s *Service) submitRefund(ctx context.Context, j jobs.Job) error {
	var p refundJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	r, err := s.refundToSend(ctx, j.ShopID, p.RefundID)
	if errs.Is(err, "refund_not_found") || (err == nil && r.Status != "pending") {
		return nil
	}
	if err != nil {
		return err
	}
	client, _, err := s.clients.get(ctx, j.ShopID)
	if err != nil {
		return s.refundTrouble(ctx, j, r.ID, err, false)
	}
	res, err := client.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: r.orderNo, OutRefundNo: r.OutRefundNo, Reason: r.Reason,
		NotifyURL: s.cfg.PublicURL + refundNotifyPath(j.ShopID), Refund: r.Amount, Total: r.total})
	switch {
	case err == nil:
		if err := s.settleRefund(ctx, j.ShopID, r.OutRefundNo, res.Status, res.RefundID, ""); err != nil {
			return err
		}
		return s.queueRefundQuery(ctx, j.ShopID, r.ID)
	case refusedForGood(err) && (r.UnknownSince != nil || j.Attempts > 1):
		// An earlier try's answer was lost (or the process died before it
		// recorded one): make sure that try did not create the refund
		// before calling it failed.
		return s.confirmRefused(ctx, j, client, r.Refund, err)
	case refusedForGood(err):
		s.log.Warn("refund refused by WeChat Pay", "shop", j.ShopID, "refund", r.ID, "err", err.Error())
		return s.settleRefund(ctx, j.ShopID, r.OutRefundNo, wechatpay.RefundStatusClosed, "", err.Error())
	default:
		return s.refundTrouble(ctx, j, r.ID, err, !isKnownRefusal(err))
	}
}

// isKnownRefusal is an answer that says the refund was not created now
// but may be later (NOT_ENOUGH, FREQUENCY_LIMITED, SIGN_ERROR, …): a 4xx.
func isKnownRefusal(err error) bool {
	var apiErr *wechatpay.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500
}

func (s *Service) confirmRefused(ctx context.Context, j jobs.Job, client *wechatpay.Client, r Refund, refusal error) error {
	res, err := client.QueryRefund(ctx, r.OutRefundNo)
	switch {
	case err == nil:
		if err := s.settleRefund(ctx, j.ShopID, r.OutRefundNo, res.Status, res.RefundID, ""); err != nil {
			return err
		}
		return s.queueRefundQuery(ctx, j.ShopID, r.ID)
	case wechatpay.IsNotFound(err):
		return s.settleRefund(ctx, j.ShopID, r.OutRefundNo, wechatpay.RefundStatusClosed, "", refusal.Error())
	default:
		return s.refundTrouble(ctx, j, r.ID, err, true)
	}
}

func (s *Service) queueRefundQuery(ctx context.Context, shopID, refundID int64) error {
	_, err := jobs.Enqueue(ctx, s.db, RefundQueryKind, refundJob{RefundID: refundID}, jobs.Options{ShopID: shopID,
		RunAt: s.now().Add(s.cfg.QueryAfter), UniqueKey: fmt.Sprintf("refund-query:%d", refundID), MaxAttempts: forever})
	return err
}

// refundTrouble records why WeChat's answer is missing (unknown: since
// when) and has the job try again later. The refund keeps its status.
func (s *Service) refundTrouble(ctx context.Context, j jobs.Job, refundID int64, cause error, unknown bool) error {
	msg := errs.StoredMessage(cause)
	now := s.now().UnixMilli()
	var since any
	if unknown {
		since = now
	}
	s.log.Warn("refund: no definite answer from WeChat Pay; asking again", "shop", j.ShopID, "refund", refundID,
		"attempt", j.Attempts, "unknown", unknown, "err", msg)
	_, err := s.db.Exec(ctx, `UPDATE refunds SET last_error = ?, unknown_since = COALESCE(unknown_since, CAST(? AS BIGINT)), updated_at = ?
		WHERE id = ? AND shop_id = ?`, msg, since, now, refundID, j.ShopID)
	if err != nil {
		return err
	}
	return jobs.RetryLater{After: refundWait(s.cfg.QueryAfter, j.Attempts)}
}

// queryRefund asks WeChat about an accepted refund until it is final.
func (s *Service) queryRefund(ctx context.Context, j jobs.Job) error {
	var p refundJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	r, err := s.refund(ctx, j.ShopID, p.RefundID)
	if errs.Is(err, "refund_not_found") || (err == nil && r.Status != "processing" && r.Status != "abnormal") {
		return nil
	}
	if err != nil {
		return err
	}
	client, _, err := s.clients.get(ctx, j.ShopID)
	if err != nil {
		return s.refundTrouble(ctx, j, r.ID, err, false)
	}
	res, err := client.QueryRefund(ctx, r.OutRefundNo)
	if err != nil {
		return s.refundTrouble(ctx, j, r.ID, err, true)
	}
	if err := s.settleRefund(ctx, j.ShopID, r.OutRefundNo, res.Status, res.RefundID, ""); err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `UPDATE refunds SET unknown_since = NULL, last_error = '' WHERE id = ? AND unknown_since IS NOT NULL`, r.ID); err != nil {
		return err
	}
	if res.Status == wechatpay.RefundStatusProcessing || res.Status == wechatpay.RefundStatusAbnormal {
		return jobs.RetryLater{After: refundWait(s.cfg.QueryAfter, j.Attempts)}
	}
	return nil
}

// recheckFailedRefund asks WeChat once more about a refund that was
// marked failed before this version, which failed refunds blind (no
// answer, or eight tries) and released their amount. WeChat's verified
// answer is applied: SUCCESS counts the refund again and alarms (see
// lateRefundSuccess); CLOSED or "no such refund" confirms the failure;
// PROCESSING or no answer is asked again later, for as long as it takes.
func (s *Service) recheckFailedRefund(ctx context.Context, j jobs.Job) error {
	var p refundJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	r, err := s.refund(ctx, j.ShopID, p.RefundID)
	if errs.Is(err, "refund_not_found") || (err == nil && r.Status != "failed") {
		return nil
	}
	if err != nil {
		return err
	}
	client, _, err := s.clients.get(ctx, j.ShopID)
	if err != nil {
		return jobs.RetryLater{After: refundWait(s.cfg.QueryAfter, j.Attempts)}
	}
	res, err := client.QueryRefund(ctx, r.OutRefundNo)
	switch {
	case wechatpay.IsNotFound(err):
		return nil
	case err != nil:
		s.log.Warn("recheck of a refund marked failed: no answer from WeChat Pay; asking again", "shop", j.ShopID, "refund", r.ID, "err", err.Error())
		return jobs.RetryLater{After: refundWait(s.cfg.QueryAfter, j.Attempts)}
	case res.Status == wechatpay.RefundStatusSuccess:
		return s.settleRefund(ctx, j.ShopID, r.OutRefundNo, res.Status, res.RefundID, "")
	case res.Status == wechatpay.RefundStatusClosed:
		return nil
	default: // still processing, or abnormal at WeChat: its end is not known yet
		return jobs.RetryLater{After: refundWait(s.cfg.QueryAfter, j.Attempts)}
	}
}

var refundStatuses = map[string]string{wechatpay.RefundStatusSuccess: "succeeded", wechatpay.RefundStatusProcessing: "processing",
	wechatpay.RefundStatusClosed: "failed", wechatpay.RefundStatusAbnormal: "abnormal"}

// canSettle is the refund's state machine: open refunds take any verified
// status; a failed one only a late SUCCESS (WeChat's word wins: the money
// went out); a succeeded one nothing.
func canSettle(from, to string) bool {
	switch from {
	case "pending", "processing", "abnormal":
		return from != to && !(from == "abnormal" && to == "processing")
	case "failed":
		return to == "succeeded"
	}
	return false
}

// settleRefund records WeChat's verified status of a refund, once: SUCCESS
// may close the order, CLOSED (or a definite refusal) releases the amount
// and flags it failed, ABNORMAL flags it for staff. A SUCCESS for a refund
// marked failed is applied and alarms.
func (s *Service) settleRefund(ctx context.Context, shopID int64, outRefundNo, wxStatus, refundID, lastError string) error {
	to := refundStatuses[wxStatus]
	if to == "" {
		return fmt.Errorf("unknown refund status %q", wxStatus)
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var id, orderID, amount int64
		var late bool
		var from string
		err := tx.QueryRow(ctx, `SELECT id, order_id, amount, late_payment, status FROM refunds WHERE out_refund_no = ? AND shop_id = ?`,
			outRefundNo, shopID).Scan(&id, &orderID, &amount, &late, &from)
		if err != nil || !canSettle(from, to) {
			return err // a repeated notification, or nothing WeChat can still change
		}
		now := db.Now()
		err = db.ExpectOne(tx.Exec(ctx, `UPDATE refunds SET status = ?, refund_id = CASE WHEN ? <> '' THEN ? ELSE refund_id END,
			last_error = ?, unknown_since = NULL, succeeded_at = CASE WHEN ? = 'succeeded' THEN CAST(? AS BIGINT) ELSE succeeded_at END,
			updated_at = ? WHERE id = ? AND status = ?`, to, refundID, refundID, lastError, to, now, now, id, from))
		if err != nil {
			return err // db.ErrNoRows: settled meanwhile; the job asks again
		}
		if from == "failed" {
			return s.lateRefundSuccess(ctx, tx, shopID, orderID, id, amount, late)
		}
		if late {
			return nil // a late payment's refund: the order was cancelled, nothing was reserved
		}
		return s.afterSettle(ctx, tx, shopID, orderID, amount, to)
	})
	return errs.Wrap("settle refund", err)
}

// lateRefundSuccess applies a SUCCESS for a refund that was marked failed
// (by an older version that failed refunds blind): the money did go out,
// so it counts on the order again, which may close it. It alarms: if the
// released amount was refunded again meanwhile, the buyer got it twice.
func (s *Service) lateRefundSuccess(ctx context.Context, tx *db.Tx, shopID, orderID, refundID, amount int64, late bool) error {
	s.alarms.lateRefundSuccess.Add(1)
	var over int64
	if !late {
		var err error
		if over, err = order.ReserveLateRefund(ctx, tx, shopID, orderID, amount); err != nil {
			return err
		}
	}
	s.log.Error("ALARM: WeChat Pay reports success for a refund marked failed; applied", "shop", shopID, "order", orderID,
		"refund", refundID, "amount", amount, "refunded_beyond_paid", over)
	note := fmt.Sprintf("refund %d of %d fen, marked failed, was reported succeeded by WeChat Pay", refundID, amount)
	if over > 0 {
		note += fmt.Sprintf("; %d fen more than was paid has been refunded", over)
	}
	if err := order.LogNote(ctx, tx, shopID, orderID, order.System, note); err != nil {
		return err
	}
	if late {
		return nil
	}
	return s.afterSettle(ctx, tx, shopID, orderID, amount, "succeeded")
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
		return s.orders.RefundSucceeded(ctx, tx, shopID, orderID, ok)
	case "abnormal":
		s.log.Error("refund abnormal: needs manual handling at WeChat Pay", "shop", shopID, "order", orderID)
	}
	return nil
}

func utcPtr(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := time.UnixMilli(*ms).UTC()
	return &t
}
