package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/paycerts"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/shop"
)

// QueryKind is the job that asks WeChat about a payment whose notification
// has not arrived.
const QueryKind = "payment.query"

// prepayTTL is how long WeChat keeps a prepay_id usable (2 h), less a margin.
const prepayTTL = 110 * time.Minute

// OpenIDs gives a member's openid.
type OpenIDs interface {
	OpenID(ctx context.Context, shopID, memberID int64) (string, error)
}

// Config is what the payment service needs from the deployment.
type Config struct {
	APIBase    string        // WeChat Pay API, https://api.mch.weixin.qq.com in production
	PublicURL  string        // this server's public base URL, for notify_url
	HTTP       *http.Client  // nil = a client with a 10 s timeout
	QueryAfter time.Duration // how long to wait for a notification before asking WeChat (default 1 minute), and between asks
}

// Service takes payments for orders.
type Service struct {
	db      *db.DB
	orders  *order.Service
	members OpenIDs
	clients *clients
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	alarms  alarms
}

// alarms count what must never happen and yet did, for the metrics.
type alarms struct {
	lateRefundSuccess atomic.Int64 // a refund marked failed that WeChat reported succeeded
}

// LateRefundSuccesses is how many refunds marked failed were later
// reported succeeded by WeChat Pay, since start (an alarm metric).
func (s *Service) LateRefundSuccesses() int64 { return s.alarms.lateRefundSuccess.Load() }

// NewService returns the payment service.
func NewService(d *db.DB, shops Shops, providers Providers, orders *order.Service, members OpenIDs, cfg Config, log *slog.Logger) *Service {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.QueryAfter <= 0 {
		cfg.QueryAfter = time.Minute
	}
	return &Service{db: d, orders: orders, members: members, cfg: cfg, log: log, now: time.Now,
		clients: &clients{shops: shops, providers: providers, certs: paycerts.New(d, log), log: log, baseURL: cfg.APIBase, http: cfg.HTTP, byShop: map[int64]cachedClient{}}}
}

// NotifyPath is where WeChat Pay posts a shop's payment notifications.
func NotifyPath(shopID int64) string {
	return "/webhooks/wechatpay/" + strconv.FormatInt(shopID, 10) + "/transaction"
}

// Pay returns the wx.requestPayment parameters for a buyer's unpaid order,
// creating the WeChat Pay order (prepay) on first call and reusing it after.
func (s *Service) Pay(ctx context.Context, shopID, memberID, orderID int64) (wechatpay.PaymentParams, error) {
	o, err := s.orders.Head(ctx, shopID, orderID, memberID)
	if err != nil {
		return wechatpay.PaymentParams{}, err
	}
	client, _, err := s.clients.get(ctx, shopID)
	if err != nil {
		return wechatpay.PaymentParams{}, err
	}
	if o.Status != order.PendingPayment {
		return wechatpay.PaymentParams{}, errs.E(errs.Conflict, "order_not_payable", "the order is "+string(o.Status))
	}
	if !s.now().Before(o.PayDeadline) {
		return wechatpay.PaymentParams{}, errs.E(errs.Conflict, "order_expired", "the time to pay this order is over")
	}
	prepayID, err := s.prepay(ctx, client, shopID, memberID, o)
	if err != nil {
		return wechatpay.PaymentParams{}, err
	}
	return client.RequestPayment(prepayID)
}

func (s *Service) prepay(ctx context.Context, client *wechatpay.Client, shopID, memberID int64, o order.Order) (string, error) {
	var prepayID string
	var prepayAt int64
	err := s.db.QueryRow(ctx, `SELECT prepay_id, prepay_at FROM payments WHERE shop_id = ? AND order_id = ? AND channel = 'wechatpay'`,
		shopID, o.ID).Scan(&prepayID, &prepayAt)
	if err == nil && prepayID != "" && s.now().Sub(time.UnixMilli(prepayAt)) < prepayTTL {
		return prepayID, nil
	}
	if err != nil && !db.IsNoRows(err) {
		return "", errs.Wrap("payment", err)
	}
	openid, err := s.members.OpenID(ctx, shopID, memberID)
	if err != nil {
		return "", err
	}
	title, err := s.orders.FirstLineTitle(ctx, shopID, o.ID)
	if err != nil {
		return "", err
	}
	prepayID, err = client.Prepay(ctx, wechatpay.PrepayRequest{Description: description(o.OrderNo, title), OutTradeNo: o.OrderNo,
		NotifyURL: s.cfg.PublicURL + NotifyPath(shopID), Total: o.TotalAmount, OpenID: openid, TimeExpire: o.PayDeadline})
	if err != nil {
		return "", wechatPayError(err)
	}
	return prepayID, s.recordPrepay(ctx, shopID, o, prepayID)
}

// recordPrepay stores the payment attempt and schedules the first query,
// in case the notification never comes.
func (s *Service) recordPrepay(ctx context.Context, shopID int64, o order.Order, prepayID string) error {
	now := s.now().UnixMilli()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO payments (shop_id, order_id, out_trade_no, prepay_id, prepay_at, amount, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (shop_id, order_id, channel) DO UPDATE SET prepay_id = excluded.prepay_id, prepay_at = excluded.prepay_at,
				updated_at = excluded.updated_at`, shopID, o.ID, o.OrderNo, prepayID, now, o.TotalAmount, now, now)
		if err != nil {
			return err
		}
		_, err = jobs.Enqueue(ctx, tx, QueryKind, queryJob{OrderID: o.ID}, jobs.Options{ShopID: shopID,
			RunAt: s.now().Add(s.cfg.QueryAfter), UniqueKey: "payment-query:" + strconv.FormatInt(o.ID, 10), MaxAttempts: 30})
		return err
	})
	return errs.Wrap("record prepay", err)
}

// description is the order's first line title (or its number), cut to
// WeChat's 127 bytes.
func description(orderNo, firstTitle string) string {
	d := "订单 " + orderNo
	if firstTitle != "" {
		d = firstTitle
	}
	for len(d) > 127 {
		_, size := utf8.DecodeLastRuneInString(d)
		d = d[:len(d)-size]
	}
	return d
}

func wechatPayError(err error) error {
	if wechatpay.IsRetryable(err) {
		return &errs.Error{Kind: errs.Unavailable, Code: "wechatpay_unavailable", Message: "WeChat Pay is busy; try again", Err: err}
	}
	return &errs.Error{Kind: errs.Unavailable, Code: "wechatpay_error", Message: "WeChat Pay refused the request", Err: err}
}

// Notify handles a payment notification: verified, decrypted, checked
// against the order and applied at most once. A forged or tampered one is
// a rejected error (4xx) and changes nothing.
func (s *Service) Notify(ctx context.Context, shopID int64, r *http.Request) error {
	client, sh, err := s.clients.get(ctx, shopID)
	if err != nil {
		return err
	}
	n, err := client.ParseNotification(r)
	if err != nil {
		return err
	}
	if n.EventType != "TRANSACTION.SUCCESS" {
		return nil
	}
	tx, err := n.Transaction()
	if err != nil {
		return err
	}
	return s.apply(ctx, client, sh, tx, n.ID, n.EventType)
}

// errMismatch marks a verified notification or query result that does not
// match our order: it is refused and logged, never applied.
var errMismatch = errors.New("payment does not match the order")

// apply brings an order up to date with WeChat's view of its payment.
// eventID names what told us (a notification's id, or a query).
//
// The payment must be of the shop's merchant as client knows it: its appid
// and mchid, or in partner mode the provider's sp_mchid and sp_appid, the
// shop's sub_mchid and its sub_appid. A verified payment of another
// merchant, or of another sub-merchant of the same provider, is refused.
func (s *Service) apply(ctx context.Context, client *wechatpay.Client, sh shop.Shop, tx wechatpay.Transaction, eventID, eventType string) error {
	if !client.Owns(tx) {
		s.log.Error("payment for another merchant", "shop", sh.ID, "out_trade_no", tx.OutTradeNo)
		return errMismatch
	}
	o, err := s.orders.HeadByNo(ctx, sh.ID, tx.OutTradeNo)
	if err != nil {
		return err
	}
	if tx.TradeState != "SUCCESS" {
		return nil
	}
	if tx.Amount.Total != o.TotalAmount {
		s.log.Error("payment amount differs from the order", "shop", sh.ID, "order", o.ID, "paid", tx.Amount.Total, "total", o.TotalAmount)
		return errMismatch
	}
	err = s.db.InTx(ctx, func(dbtx *db.Tx) error {
		applied, err := s.orders.MarkPaidTx(ctx, dbtx, sh.ID, o.ID, tx.Amount.Total, tx.TransactionID)
		if err != nil {
			return err
		}
		status := "paid"
		if !applied {
			st, err := order.StatusTx(ctx, dbtx, sh.ID, o.ID)
			if err != nil {
				return err
			}
			if st != order.Cancelled {
				// Already paid: complete the payment's own records if a
				// crash or an older version left them behind.
				return recordPaid(ctx, dbtx, sh.ID, o, tx, "paid", eventID, eventType, s.now())
			}
			status = "paid_late" // paid after cancellation: refunded automatically
			s.log.Warn("payment arrived for a cancelled order; refunding it", "shop", sh.ID, "order", o.ID, "transaction", tx.TransactionID)
			if err := refundLatePayment(ctx, dbtx, sh.ID, o, tx); err != nil {
				return err
			}
		}
		return recordPaid(ctx, dbtx, sh.ID, o, tx, status, eventID, eventType, s.now())
	})
	return errs.Wrap("apply payment", err)
}

// recordPaid moves the order's payments row to status (creating it if the
// prepay was never recorded) and writes the payment event, inside the
// transaction that marks the order paid. It does nothing when the row is
// already paid.
func recordPaid(ctx context.Context, tx *db.Tx, shopID int64, o order.Order, t wechatpay.Transaction, status, eventID, eventType string, now time.Time) error {
	at := now.UnixMilli()
	res, err := tx.Exec(ctx, `INSERT INTO payments (shop_id, order_id, out_trade_no, amount, status, transaction_id, paid_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, order_id, channel) DO UPDATE SET status = excluded.status, transaction_id = excluded.transaction_id,
			paid_at = excluded.paid_at, updated_at = excluded.updated_at WHERE payments.status IN ('created','closed')`,
		shopID, o.ID, o.OrderNo, t.Amount.Total, status, t.TransactionID, at, at, at)
	if n, err := rowsAffected(res, err); err != nil || n == 0 {
		return err
	}
	return insertPaymentEvent(ctx, tx, shopID, o.ID, eventID, eventType, t.TransactionID, t.Amount.Total, at)
}

func insertPaymentEvent(ctx context.Context, tx *db.Tx, shopID, orderID int64, eventID, eventType, transactionID string, amount, at int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO payment_events (shop_id, event_id, event_type, order_id, transaction_id, amount, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, event_id) DO NOTHING`,
		shopID, eventID, eventType, orderID, transactionID, amount, at)
	return err
}

type queryJob struct {
	OrderID int64 `json:"order_id"`
}

// RegisterJobs sets the handler that asks WeChat about payments whose
// notification is late, and closes the WeChat order before an order is
// cancelled.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Handle(QueryKind, s.queryPayment)
	q.Handle(RefundSubmitKind, s.submitRefund)
	q.Handle(RefundQueryKind, s.queryRefund)
	q.Handle(RefundRecheckKind, s.recheckFailedRefund)
	q.Every(ReconcileKind, time.Hour, s.reconcileDue)
	q.Every(RepairKind, time.Hour, s.repairDue)
	q.Every(CertRefreshKind, paycerts.RefreshEvery, s.refreshCertificates)
	s.orders.BeforeCancel(s.closeBeforeCancel)
}

// queryPayment asks WeChat about one order until it is paid or over.
func (s *Service) queryPayment(ctx context.Context, j jobs.Job) error {
	var p queryJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	o, err := s.orders.Head(ctx, j.ShopID, p.OrderID, 0)
	if err != nil || o.Status != order.PendingPayment {
		return nil // gone, paid or cancelled: nothing to ask
	}
	client, sh, err := s.clients.get(ctx, j.ShopID)
	if err != nil {
		return err
	}
	tx, err := client.QueryOrder(ctx, o.OrderNo)
	if err != nil {
		return err
	}
	if tx.TradeState == "SUCCESS" {
		return s.apply(ctx, client, sh, tx, "query:"+tx.TransactionID, "QUERY.SUCCESS")
	}
	if s.now().After(o.PayDeadline.Add(time.Minute)) {
		return nil // the auto-cancel job takes it from here
	}
	return jobs.RetryLater{After: 2 * s.cfg.QueryAfter}
}

// closeBeforeCancel closes the WeChat Pay order of an order about to be
// cancelled. If WeChat says it was paid, before the close or by refusing it
// (ORDERPAID: the payment landed between our query and the close), the
// payment is applied instead and the cancellation refused with 409.
func (s *Service) closeBeforeCancel(ctx context.Context, shopID int64, o order.Order) error {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM payments WHERE shop_id = ? AND order_id = ? AND status = 'created'`,
		shopID, o.ID).Scan(&n); err != nil || n == 0 {
		return errs.Wrap("close payment", err)
	}
	client, sh, err := s.clients.get(ctx, shopID)
	if err != nil {
		return err
	}
	tx, err := client.QueryOrder(ctx, o.OrderNo)
	if err == nil && tx.TradeState == "SUCCESS" {
		return s.foundPaid(ctx, client, sh, o)
	}
	err = client.CloseOrder(ctx, o.OrderNo)
	switch {
	case wechatpay.HasCode(err, "ORDERPAID"):
		return s.foundPaid(ctx, client, sh, o)
	case err != nil && !wechatpay.IsNotFound(err):
		return wechatPayError(err)
	}
	_, err = s.db.Exec(ctx, `UPDATE payments SET status = 'closed', updated_at = ? WHERE shop_id = ? AND order_id = ? AND status = 'created'`,
		s.now().UnixMilli(), shopID, o.ID)
	return errs.Wrap("close payment", err)
}

var errOrderPaid = errs.E(errs.Conflict, "order_paid", "the order was paid meanwhile and cannot be cancelled")

// foundPaid applies a payment WeChat has for o, fetched by a fresh query,
// and refuses the cancellation. If the payment cannot be applied now, the
// payment query job applies it soon; the answer is the same 409.
func (s *Service) foundPaid(ctx context.Context, client *wechatpay.Client, sh shop.Shop, o order.Order) error {
	tx, err := client.QueryOrder(ctx, o.OrderNo)
	if err == nil && tx.TradeState == "SUCCESS" {
		err = s.apply(ctx, client, sh, tx, "query:"+tx.TransactionID, "QUERY.SUCCESS")
	}
	if err != nil || tx.TradeState != "SUCCESS" {
		s.log.Warn("order found paid at WeChat on cancel; the query job applies it", "shop", sh.ID, "order", o.ID, "err", fmt.Sprint(err))
		if _, qerr := jobs.Enqueue(ctx, s.db, QueryKind, queryJob{OrderID: o.ID}, jobs.Options{ShopID: sh.ID,
			UniqueKey: "payment-query:" + strconv.FormatInt(o.ID, 10), MaxAttempts: 30}); qerr != nil {
			s.log.Error("queue payment query", "shop", sh.ID, "order", o.ID, "err", qerr.Error())
		}
	}
	return errOrderPaid
}
