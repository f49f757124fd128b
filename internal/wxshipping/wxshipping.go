// Package wxshipping reports shipments of WeChat Pay orders to WeChat
// (小程序发货信息管理, upload_shipping_info): until a shipment is reported
// the buyer's money stays frozen and the buyer gets reminders. Shipping an
// order enqueues a durable job in the ship transaction; the job uploads
// with the shop's shared access token, retries what may pass later (WeChat
// busy, no answer, a payment WeChat does not show yet) with backoff, and
// records the outcome on the order for staff.
package wxshipping

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// UploadKind is the job that uploads one order's shipping info.
const UploadKind = "wxshipping.upload"

const (
	// maxAttempts spreads retries over about 20 hours (backoff n² s,
	// capped at an hour); then the upload is marked failed for staff.
	maxAttempts = 60
	// noPaymentAttempts bounds retries of "no such payment" (10060001):
	// WeChat shows a payment about a minute after it; ten tries wait
	// about six minutes.
	noPaymentAttempts = 10
	maxItemDescRunes  = 120
)

// States of an upload.
const (
	Pending  = "pending"
	Uploaded = "uploaded"
	Failed   = "failed"
)

// Orders reads an order (order.Service).
type Orders interface {
	Get(ctx context.Context, shopID, orderID, memberID int64) (order.Order, error)
}

// Apps gives a shop's mini-program credentials.
type Apps interface {
	App(ctx context.Context, shopID int64) (wechat.App, error)
}

// OpenIDs gives a member's openid (member.Service).
type OpenIDs interface {
	OpenID(ctx context.Context, shopID, memberID int64) (string, error)
}

// Uploader calls WeChat (*wechat.Client).
type Uploader interface {
	UploadShippingInfo(ctx context.Context, app wechat.App, info wechat.ShippingInfo) error
}

// Service reports shipments.
type Service struct {
	db      *db.DB
	orders  Orders
	apps    Apps
	members OpenIDs
	wx      Uploader
	log     *slog.Logger
	now     func() time.Time
}

// NewService returns the service.
func NewService(d *db.DB, orders Orders, apps Apps, members OpenIDs, wx Uploader, log *slog.Logger) *Service {
	return &Service{db: d, orders: orders, apps: apps, members: members, wx: wx, log: log, now: time.Now}
}

// Upload is the state of an order's shipping report, as staff see it.
type Upload struct {
	OrderID       int64      `json:"order_id"`
	State         string     `json:"state" enum:"pending,uploaded,failed" doc:"pending, uploaded or failed"`
	LogisticsType int        `json:"logistics_type" doc:"WeChat's: 1 express, 2 same-city, 3 virtual, 4 self-pickup"`
	Attempts      int        `json:"attempts"`
	ErrCode       int        `json:"errcode,omitempty" doc:"WeChat's errcode of the last failed attempt"`
	LastError     string     `json:"last_error,omitempty"`
	UploadedAt    *time.Time `json:"uploaded_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// What WeChat's shipping management pushed about the money
	// (trade_manage_order_settlement; safe-mode pushes only).
	EstimatedSettlementAt *time.Time `json:"estimated_settlement_at" doc:"when WeChat expects to release the money to the merchant (pushed at shipping)"`
	ReceiptConfirmedAt    *time.Time `json:"receipt_confirmed_at" doc:"when the buyer's receipt was confirmed, as WeChat saw it"`
	ConfirmReceiveMethod  int        `json:"confirm_receive_method,omitempty" doc:"WeChat's confirm_receive_method: 1 or 2 (automatic or by the buyer; sources disagree on which is which)"`
	SettledAt             *time.Time `json:"settled_at" doc:"when WeChat settled the money to the merchant"`
}

type uploadJob struct {
	OrderID int64 `json:"order_id"`
}

// logisticsTypes maps delivery types to WeChat's logistics_type.
var logisticsTypes = map[order.DeliveryType]int{
	order.Express: wechat.LogisticsExpress, order.SameCity: wechat.LogisticsSameCity,
	order.Virtual: wechat.LogisticsVirtual, order.Pickup: wechat.LogisticsPickup,
}

// Shipped is the order.OnShipped hook: in the ship transaction it records a
// pending upload and enqueues its job, for orders paid with WeChat Pay.
func (s *Service) Shipped(ctx context.Context, tx *db.Tx, sh order.Shipment) error {
	if sh.TransactionID == "" {
		return nil // not paid through WeChat Pay: nothing to report
	}
	now := s.now().UnixMilli()
	_, err := tx.Exec(ctx, `INSERT INTO wx_shipping_uploads (shop_id, order_id, logistics_type, transaction_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, order_id) DO UPDATE SET logistics_type = excluded.logistics_type, state = 'pending',
			attempts = 0, errcode = 0, last_error = '', updated_at = excluded.updated_at`,
		sh.ShopID, sh.OrderID, logisticsTypes[sh.DeliveryType], sh.TransactionID, now, now)
	if err != nil {
		return err
	}
	return s.enqueue(ctx, tx, sh.ShopID, sh.OrderID)
}

func (s *Service) enqueue(ctx context.Context, x db.Querier, shopID, orderID int64) error {
	_, err := jobs.Enqueue(ctx, x, UploadKind, uploadJob{OrderID: orderID}, jobs.Options{ShopID: shopID,
		UniqueKey: "wxshipping:" + strconv.FormatInt(orderID, 10), MaxAttempts: maxAttempts})
	return err
}

// RegisterJobs sets the upload job's handler.
func (s *Service) RegisterJobs(q *jobs.Queue) { q.Handle(UploadKind, s.runUpload) }

var errNotFound = errs.E(errs.NotFound, "shipping_upload_not_found", "this order has no shipping report to WeChat (not shipped, or not paid with WeChat Pay)")

// Get returns an order's shipping report.
func (s *Service) Get(ctx context.Context, shopID, orderID int64) (Upload, error) {
	var u Upload
	var uploadedAt, estimated, confirmed, settled *int64
	var updatedAt int64
	err := s.db.QueryRow(ctx, `SELECT order_id, state, logistics_type, attempts, errcode, last_error, uploaded_at, updated_at,
		estimated_settlement_at, confirm_receive_method, receipt_confirmed_at, settled_at
		FROM wx_shipping_uploads WHERE shop_id = ? AND order_id = ?`, shopID, orderID).
		Scan(&u.OrderID, &u.State, &u.LogisticsType, &u.Attempts, &u.ErrCode, &u.LastError, &uploadedAt, &updatedAt,
			&estimated, &u.ConfirmReceiveMethod, &confirmed, &settled)
	if db.IsNoRows(err) {
		return Upload{}, errNotFound
	}
	if err != nil {
		return Upload{}, errs.Wrap("shipping upload", err)
	}
	u.UploadedAt, u.EstimatedSettlementAt = timeOrNil(uploadedAt), timeOrNil(estimated)
	u.ReceiptConfirmedAt, u.SettledAt = timeOrNil(confirmed), timeOrNil(settled)
	u.UpdatedAt = time.UnixMilli(updatedAt).UTC()
	return u, nil
}

func timeOrNil(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := time.UnixMilli(*ms).UTC()
	return &t
}

// Retry uploads a failed report again (after staff fixed what WeChat
// refused, e.g. the mini-program secret).
func (s *Service) Retry(ctx context.Context, shopID, orderID int64) (Upload, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE wx_shipping_uploads SET state = 'pending', attempts = 0, updated_at = ?
			WHERE shop_id = ? AND order_id = ? AND state = 'failed'`, s.now().UnixMilli(), shopID, orderID))
		if db.IsNoRows(err) {
			if _, gerr := s.Get(ctx, shopID, orderID); gerr != nil {
				return gerr
			}
			return errs.E(errs.Conflict, "shipping_upload_not_failed", "only a failed shipping report can be retried")
		}
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, shopID, orderID)
	})
	if err != nil {
		return Upload{}, errs.Wrap("retry shipping upload", err)
	}
	return s.Get(ctx, shopID, orderID)
}

// runUpload is the job: one attempt at reporting an order's shipment.
func (s *Service) runUpload(ctx context.Context, j jobs.Job) error {
	var p uploadJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	u, txID, err := s.pending(ctx, j.ShopID, p.OrderID)
	if err != nil || u.State != Pending {
		return err // gone or already settled: nothing to do
	}
	info, app, err := s.request(ctx, j.ShopID, p.OrderID, u.LogisticsType, txID)
	if err == nil {
		err = s.wx.UploadShippingInfo(ctx, app, info)
	}
	return s.settle(ctx, j, err)
}

// pending loads an upload and its transaction id.
func (s *Service) pending(ctx context.Context, shopID, orderID int64) (Upload, string, error) {
	var u Upload
	var txID string
	err := s.db.QueryRow(ctx, `SELECT order_id, state, logistics_type, transaction_id FROM wx_shipping_uploads
		WHERE shop_id = ? AND order_id = ?`, shopID, orderID).Scan(&u.OrderID, &u.State, &u.LogisticsType, &txID)
	if db.IsNoRows(err) {
		return Upload{}, "", nil
	}
	return u, txID, err
}

// settle records an attempt's outcome. Success and "already shipped" are
// uploaded; transient failures (and "no such payment" for a few minutes)
// are retried by the job queue with backoff until its last attempt; any
// other answer is definite and marks the upload failed.
func (s *Service) settle(ctx context.Context, j jobs.Job, callErr error) error {
	var p uploadJob
	_ = json.Unmarshal(j.Payload, &p)
	now := s.now().UnixMilli()
	if callErr == nil || wechat.IsShippingDone(callErr) {
		_, err := s.db.Exec(ctx, `UPDATE wx_shipping_uploads SET state = 'uploaded', attempts = attempts + 1, errcode = 0,
			last_error = '', uploaded_at = ?, updated_at = ? WHERE shop_id = ? AND order_id = ? AND state = 'pending'`,
			now, now, j.ShopID, p.OrderID)
		return err
	}
	code := errcode(callErr)
	retry := wechat.IsTransient(callErr) && j.Attempts < maxAttempts ||
		code == wechat.ErrShipNoPayment && j.Attempts < noPaymentAttempts
	state := Failed
	if retry {
		state = Pending
	}
	msg := errs.StoredMessage(callErr)
	_, err := s.db.Exec(ctx, `UPDATE wx_shipping_uploads SET state = ?, attempts = attempts + 1, errcode = ?, last_error = ?,
		updated_at = ? WHERE shop_id = ? AND order_id = ? AND state = 'pending'`, state, code, msg, now, j.ShopID, p.OrderID)
	if err != nil {
		return err
	}
	if retry {
		return callErr // the queue retries with backoff
	}
	s.log.Error("WeChat refused a shipping report; the merchant's money stays frozen until it is fixed",
		"shop", j.ShopID, "order", p.OrderID, "errcode", code, "err", msg)
	return nil
}

func errcode(err error) int {
	var apiErr *wechat.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return 0
}

// request builds the upload for an order.
func (s *Service) request(ctx context.Context, shopID, orderID int64, logisticsType int, txID string) (wechat.ShippingInfo, wechat.App, error) {
	o, err := s.orders.Get(ctx, shopID, orderID, 0)
	if err != nil {
		return wechat.ShippingInfo{}, wechat.App{}, err
	}
	openid, err := s.members.OpenID(ctx, shopID, o.MemberID)
	if err != nil {
		return wechat.ShippingInfo{}, wechat.App{}, err
	}
	app, err := s.apps.App(ctx, shopID)
	if err != nil {
		return wechat.ShippingInfo{}, wechat.App{}, err
	}
	info := wechat.ShippingInfo{
		OrderKey:      wechat.OrderKey{OrderNumberType: wechat.OrderKeyTransactionID, TransactionID: txID},
		LogisticsType: logisticsType, DeliveryMode: wechat.DeliveryUnified,
		UploadTime: wechat.ShippingTime(s.now()), Payer: wechat.Payer{OpenID: openid},
	}
	if logisticsType == wechat.LogisticsExpress && len(o.Parcels) > 1 {
		// Split delivery, reported once with every package: a second
		// report would use the order's only re-shipping chance.
		all := true
		info.DeliveryMode, info.IsAllDelivered = wechat.DeliverySplit, &all
		for _, p := range o.Parcels {
			info.ShippingList = append(info.ShippingList, expressItem(o, p.Carrier, p.TrackingNo, parcelDesc(o, p)))
		}
		return info, app, nil
	}
	item := wechat.ShippingItem{ItemDesc: itemDesc(o.Lines, o.OrderNo)}
	if logisticsType == wechat.LogisticsExpress {
		item = expressItem(o, o.Carrier, o.TrackingNo, item.ItemDesc)
	}
	info.ShippingList = []wechat.ShippingItem{item}
	return info, app, nil
}

// expressItem is one package of an express shipment; SF wants the
// receiver's masked phone with it.
func expressItem(o order.Order, carrier, trackingNo, desc string) wechat.ShippingItem {
	item := wechat.ShippingItem{ItemDesc: desc, TrackingNo: trackingNo, ExpressCompany: ExpressCompany(carrier)}
	if item.ExpressCompany == "SF" {
		item.Contact = &wechat.Contact{ReceiverContact: MaskPhone(o.Address.Phone)}
	}
	return item
}

// parcelDesc lists what one package of o holds.
func parcelDesc(o order.Order, p order.Parcel) string {
	byID := map[int64]order.Line{}
	for _, l := range o.Lines {
		byID[l.ID] = l
	}
	lines := make([]order.Line, 0, len(p.Lines))
	for _, pl := range p.Lines {
		l := byID[pl.LineID]
		l.Quantity = pl.Quantity
		lines = append(lines, l)
	}
	return itemDesc(lines, o.OrderNo)
}

// itemDesc lists lines ("连衣裙 红 M ×2、…"), cut to WeChat's 120
// characters; an order without lines is named by its number.
func itemDesc(lines []order.Line, orderNo string) string {
	parts := make([]string, 0, len(lines))
	for _, l := range lines {
		parts = append(parts, strings.TrimSpace(l.Title)+" ×"+strconv.Itoa(int(l.Quantity)))
	}
	desc := strings.Join(parts, "、")
	if desc == "" {
		desc = "订单 " + orderNo
	}
	if utf8.RuneCountInString(desc) > maxItemDescRunes {
		desc = string([]rune(desc)[:maxItemDescRunes-1]) + "…"
	}
	return desc
}
