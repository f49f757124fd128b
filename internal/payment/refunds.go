package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// Refund jobs: submit to WeChat, and query until WeChat reports a final
// status (in case its notification is lost). Both run until WeChat gives a
// verified answer, with a backoff that grows to refundMaxWait: a refund
// whose fate is unknown is never given up on, nor failed blind.
const (
	RefundSubmitKind = "refund.submit"
	RefundQueryKind  = "refund.query"
	// RefundRecheckKind re-verifies a refund an older version failed
	// blind; migration 0049 queues one for each failed refund.
	RefundRecheckKind  = "refund.recheck"
	maxRefundReasonLen = 80 // WeChat's limit on the reason shown to the payer
	refundMaxWait      = 6 * time.Hour
	// forever is the attempts of jobs that must not give up (the jobs
	// table needs a number).
	forever = 1 << 30
)

// RefundInput is a staff refund request.
type RefundInput struct {
	Amount int64  `json:"amount" doc:"fen; several partial refunds may add up to what was paid"`
	Reason string `json:"reason" doc:"shown to the buyer by WeChat; at most 80 characters"`
}

// Refund is one refund request and where it stands.
type Refund struct {
	ID           int64      `json:"id"`
	OrderID      int64      `json:"order_id"`
	OutRefundNo  string     `json:"out_refund_no"`
	Amount       int64      `json:"amount" doc:"fen"`
	Reason       string     `json:"reason"`
	LatePayment  bool       `json:"late_payment" doc:"a payment that arrived after the order was cancelled, returned automatically"`
	Status       string     `json:"status" enum:"pending,processing,succeeded,failed,abnormal" doc:"pending (not yet accepted by WeChat), processing, succeeded, failed (WeChat refused or closed it: verified) or abnormal (flagged: WeChat needs manual handling)"`
	LastError    string     `json:"last_error,omitempty"`
	RequestedBy  string     `json:"requested_by"`
	CreatedAt    time.Time  `json:"created_at"`
	SucceededAt  *time.Time `json:"succeeded_at"`
	UnknownSince *time.Time `json:"unknown_since" doc:"since when WeChat's answer is unknown (lost, timed out or unverifiable); it is asked again"`
}

var errIdempotencyKeyRequired = errs.Field("Idempotency-Key", "idempotency_key_required",
	"send an Idempotency-Key header of 8 to 64 characters, one per refund")

type refundJob struct {
	RefundID int64 `json:"refund_id"`
}

// RequestRefund refunds part or all of a paid order: the amount is set
// aside on the order at once (never more than was paid) and sent to WeChat
// by a job. The key (required) makes it idempotent: the same key and
// request return the same refund, the same key with another request is
// refused, so a retried or double-clicked refund never pays out twice.
func (s *Service) RequestRefund(ctx context.Context, shopID, orderID int64, key string, in RefundInput, actor order.Actor) (Refund, error) {
	if len(key) < 8 || len(key) > 64 {
		return Refund{}, errIdempotencyKeyRequired
	}
	in.Reason = strings.TrimSpace(in.Reason)
	hash := refundHash(orderID, in)
	if r, found, err := s.refundByKey(ctx, shopID, key, hash); found || err != nil {
		return r, err
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = requestRefundTx(ctx, tx, shopID, orderID, in, actor, key, hash)
		return err
	})
	if db.IsUniqueViolation(err) { // the same key at the same moment: answer with the winner's refund
		if r, found, lookupErr := s.refundByKey(ctx, shopID, key, hash); found || lookupErr != nil {
			return r, lookupErr
		}
	}
	if err != nil {
		return Refund{}, errs.Wrap("request refund", err)
	}
	return s.refund(ctx, shopID, id)
}

func refundHash(orderID int64, in RefundInput) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%d\x00%s", orderID, in.Amount, in.Reason)))
	return hex.EncodeToString(sum[:])
}

// refundByKey finds the refund made under an idempotency key.
func (s *Service) refundByKey(ctx context.Context, shopID int64, key, hash string) (Refund, bool, error) {
	if key == "" {
		return Refund{}, false, nil
	}
	id, found, err := refundIDByKey(ctx, s.db, shopID, key, hash)
	if !found || err != nil {
		return Refund{}, found, err
	}
	r, err := s.refund(ctx, shopID, id)
	return r, true, err
}

// refundIDByKey finds the refund made under an idempotency key for the
// request whose hash is given; the key used for another request is
// idempotency_key_reused.
func refundIDByKey(ctx context.Context, q db.Querier, shopID int64, key, hash string) (id int64, found bool, err error) {
	var stored string
	err = q.QueryRow(ctx, `SELECT id, request_hash FROM refunds WHERE shop_id = ? AND idempotency_key = ?`, shopID, key).Scan(&id, &stored)
	switch {
	case db.IsNoRows(err):
		return 0, false, nil
	case err != nil:
		return 0, false, errs.Wrap("idempotency", err)
	case stored != hash:
		return 0, true, errs.E(errs.Conflict, "idempotency_key_reused", "this idempotency key was used for a different refund")
	}
	return id, true, nil
}

// RequestRefundTx is RequestRefund inside the caller's transaction (an
// approved after-sales request and its refund commit together). It returns
// the refund's id.
func RequestRefundTx(ctx context.Context, tx *db.Tx, shopID, orderID int64, in RefundInput, actor order.Actor) (int64, error) {
	return requestRefundTx(ctx, tx, shopID, orderID, in, actor, "", "")
}

// RequestRefundOnceTx is RequestRefundTx under an idempotency key the
// caller derives from what it refunds (an after-sales request's id): when
// a refund with that key exists, it returns that refund's id and refunds
// nothing more, so a retried step never refunds twice. The same key for a
// different amount is refused (idempotency_key_reused).
func RequestRefundOnceTx(ctx context.Context, tx *db.Tx, shopID, orderID int64, key string, in RefundInput, actor order.Actor) (int64, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	hash := refundHash(orderID, in)
	if id, found, err := refundIDByKey(ctx, tx, shopID, key, hash); found || err != nil {
		return id, err
	}
	return requestRefundTx(ctx, tx, shopID, orderID, in, actor, key, hash)
}

func requestRefundTx(ctx context.Context, tx *db.Tx, shopID, orderID int64, in RefundInput, actor order.Actor, key, hash string) (int64, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if len([]rune(in.Reason)) > maxRefundReasonLen {
		return 0, errs.Field("reason", "reason_too_long", "must be at most 80 characters")
	}
	o, err := order.ReserveRefund(ctx, tx, shopID, orderID, in.Amount, actor, fmt.Sprintf("refund of %d fen requested", in.Amount))
	if err != nil {
		return 0, err
	}
	id, err := insertRefund(ctx, tx, shopID, orderID, o.OrderNo, in.Amount, o.PaidAmount, in.Reason, false, string(actor))
	if err != nil || key == "" {
		return id, err
	}
	_, err = tx.Exec(ctx, `UPDATE refunds SET idempotency_key = ?, request_hash = ? WHERE id = ?`, key, hash, id)
	return id, err
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
		UniqueKey: fmt.Sprintf("refund-submit:%d", id), MaxAttempts: forever})
	return id, err
}

const refundColumns = `id, order_id, out_refund_no, amount, reason, late_payment, status, last_error, requested_by, created_at, succeeded_at, unknown_since`

func scanRefund(row interface{ Scan(...any) error }) (Refund, error) {
	var r Refund
	var created int64
	var succeeded, unknown *int64
	err := row.Scan(&r.ID, &r.OrderID, &r.OutRefundNo, &r.Amount, &r.Reason, &r.LatePayment, &r.Status, &r.LastError,
		&r.RequestedBy, &created, &succeeded, &unknown)
	r.CreatedAt = time.UnixMilli(created).UTC()
	r.SucceededAt, r.UnknownSince = utcPtr(succeeded), utcPtr(unknown)
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
// status (e.g. failed and abnormal ones, which need staff), newest first, a
// page at a time: ids below after (0 = from the newest), up to limit+1 rows
// so httpx.PageOf knows whether there is a next page.
func (s *Service) Refunds(ctx context.Context, shopID, orderID int64, status string, after int64, limit int) ([]Refund, error) {
	rows, err := s.db.Query(ctx, `SELECT `+refundColumns+` FROM refunds WHERE shop_id = ?
		AND (? = 0 OR order_id = ?) AND (? = '' OR status = ?) AND id < ? ORDER BY id DESC LIMIT ?`,
		shopID, orderID, orderID, status, status, idBelow(after), limit+1)
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
	client, _, err := s.clients.get(ctx, shopID)
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
	if !client.OwnsRefund(rn) {
		return errMismatch
	}
	err = s.settleRefund(ctx, shopID, rn.OutRefundNo, rn.RefundStatus, rn.RefundID, "")
	if db.IsNoRows(err) {
		return errMismatch
	}
	return err
}

// refundLatePayment returns a payment that arrived after its order was
// cancelled, in full, automatically, inside the transaction that records
// the payment.
func refundLatePayment(ctx context.Context, tx *db.Tx, shopID int64, o order.Order, t wechatpay.Transaction) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM refunds WHERE shop_id = ? AND order_id = ? AND late_payment = TRUE`, shopID, o.ID).Scan(&n); err != nil || n > 0 {
		return err
	}
	if _, err := insertRefund(ctx, tx, shopID, o.ID, o.OrderNo, t.Amount.Total, t.Amount.Total,
		"订单已取消，款项原路退回", true, string(order.System)); err != nil {
		return err
	}
	return order.LogNote(ctx, tx, shopID, o.ID, order.System,
		fmt.Sprintf("payment %s of %d fen arrived after cancellation; refunding it", t.TransactionID, t.Amount.Total))
}

// idBelow turns a page cursor into an id bound: 0 means from the newest.
func idBelow(after int64) int64 {
	if after <= 0 {
		return 1 << 62
	}
	return after
}
