package paysandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of the payer-side controls.
var (
	ErrUnknownOrder = errors.New("paysandbox: no such order")
	ErrOrderClosed  = errors.New("paysandbox: order is closed")
	ErrOrderPaid    = errors.New("paysandbox: order is already paid")
	ErrOrderExpired = errors.New("paysandbox: order or prepay_id has expired")
	ErrBadPaySign   = errors.New("paysandbox: wx.requestPayment parameters do not verify")
)

// Trade states.
const (
	stateNotPay  = "NOTPAY"
	stateSuccess = "SUCCESS"
	stateRefund  = "REFUND"
	stateClosed  = "CLOSED"
)

var stateDesc = map[string]string{
	stateNotPay: "订单未支付", stateSuccess: "支付成功", stateRefund: "转入退款", stateClosed: "订单已关闭",
}

const prepayTTL = 2 * time.Hour

type order struct {
	mchid, appid           string // the direct merchant, or the service provider (sp_mchid, sp_appid)
	subMchID, subAppID     string // a sub-merchant's order (service-provider mode)
	subOpenID              bool   // the payer is named by sub_openid (under subAppID)
	outTradeNo, prepayID   string
	description, notifyURL string
	attach, openid         string
	total                  int64
	state                  string
	created, expires       time.Time // expires is zero without time_expire
	transactionID          string
	paidAt                 time.Time
	paidNotice             []byte // the payment notification's plaintext, resent as is
	eventID                string
	refunded               int64 // fen in refunds not CLOSED
}

func (o *order) paid() bool { return o.state == stateSuccess || o.state == stateRefund }

// owner is the merchant whose order it is: the sub-merchant in
// service-provider mode (out_trade_no is unique per sub-merchant), else the
// direct merchant. Orders and refunds are keyed by it, and the Go controls
// (Pay, Renotify, CompleteRefund, PaidOrder) take it as their mchid.
func (o *order) owner() string {
	if o.subMchID != "" {
		return o.subMchID
	}
	return o.mchid
}

// payingAppID is the mini program the buyer pays in.
func (o *order) payingAppID() string {
	if o.subAppID != "" {
		return o.subAppID
	}
	return o.appid
}

type prepayRequest struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire"`
	Attach      string `json:"attach"`
	NotifyURL   string `json:"notify_url"`
	Amount      struct {
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Payer struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
}

// problem returns a description of the first invalid field, or "".
func (p *prepayRequest) problem() string {
	switch {
	case utf8.RuneCountInString(p.Description) < 1 || utf8.RuneCountInString(p.Description) > 127:
		return "description 长度应为 1–127"
	case !validNo(p.OutTradeNo, 6, 32, "_-|*"):
		return "out_trade_no 应为 6–32 位数字、字母或 _-|*"
	case !validURL(p.NotifyURL):
		return "notify_url 不是合法的 URL"
	case p.Amount.Total <= 0:
		return "amount.total 应大于 0"
	case p.Amount.Currency != "" && p.Amount.Currency != "CNY":
		return "amount.currency 只支持 CNY"
	case p.Payer.OpenID == "":
		return "payer.openid 不能为空"
	case len(p.Attach) > 128:
		return "attach 超过 128 字节"
	}
	return ""
}

func (s *Sandbox) prepay(c *apiCall) result {
	var p prepayRequest
	if res, ok := decodeBody(c, &p); !ok {
		return res
	}
	switch {
	case p.MchID != c.mch.mchid:
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "mchid 与 Authorization 头中的商户号不一致")
	case p.AppID != c.mch.appid:
		return apiError(http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "appid 和 mch_id 不匹配")
	}
	if msg := p.problem(); msg != "" {
		return apiError(http.StatusBadRequest, "PARAM_ERROR", msg)
	}
	var expires time.Time
	if p.TimeExpire != "" {
		t, err := time.Parse(time.RFC3339, p.TimeExpire)
		if err != nil {
			return apiError(http.StatusBadRequest, "PARAM_ERROR", "time_expire 格式错误")
		}
		expires = t
	}
	if o := s.orders[orderKey(p.MchID, p.OutTradeNo)]; o != nil {
		return repeatPrepay(o, &p)
	}
	o := s.newOrder(&p, expires)
	return result{http.StatusOK, reply{"prepay_id": o.prepayID}}
}

func (s *Sandbox) newOrder(p *prepayRequest, expires time.Time) *order {
	return s.newOrderFor(p, expires, nil)
}

// newOrderFor makes and stores an order; set (if not nil) completes it
// before it is keyed.
func (s *Sandbox) newOrderFor(p *prepayRequest, expires time.Time, set func(*order)) *order {
	now := s.now()
	o := &order{
		mchid: p.MchID, appid: p.AppID, outTradeNo: p.OutTradeNo,
		prepayID:    "wx" + now.In(chinaTime).Format("20060102150405") + strings.ToLower(randomHex(11)),
		description: p.Description, notifyURL: p.NotifyURL, attach: p.Attach, openid: p.Payer.OpenID,
		total: p.Amount.Total, state: stateNotPay, created: now, expires: expires,
	}
	if set != nil {
		set(o)
	}
	s.orders[orderKey(o.owner(), o.outTradeNo)] = o
	s.prepays[o.prepayID] = o
	return o
}

// repeatPrepay answers a prepay for an existing out_trade_no: the same
// prepay_id when the order is unpaid and unchanged, else an error.
func repeatPrepay(o *order, p *prepayRequest) result {
	switch {
	case o.paid():
		return apiError(http.StatusBadRequest, "ORDERPAID", "该订单已支付")
	case o.state == stateClosed:
		return apiError(http.StatusBadRequest, "ORDER_CLOSED", "订单已关闭")
	case o.total != p.Amount.Total || o.openid != p.Payer.OpenID || o.description != p.Description:
		return apiError(http.StatusForbidden, "OUT_TRADE_NO_USED", "商户订单号重复")
	}
	return result{http.StatusOK, reply{"prepay_id": o.prepayID}}
}

func (s *Sandbox) queryByOutTradeNo(c *apiCall) result {
	return s.queryOrder(c, s.orders[orderKey(c.mch.mchid, c.r.PathValue("out_trade_no"))])
}

func (s *Sandbox) queryByTransactionID(c *apiCall) result {
	return s.queryOrder(c, s.transactions[c.r.PathValue("transaction_id")])
}

func (s *Sandbox) queryOrder(c *apiCall, o *order) result {
	if c.r.URL.Query().Get("mchid") != c.mch.mchid {
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "mchid 参数缺失或与 Authorization 头不一致")
	}
	if o == nil || o.mchid != c.mch.mchid || o.subMchID != "" {
		return apiError(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
	}
	return result{http.StatusOK, o.transaction(o.state)}
}

// transaction renders the order as WeChat's Transaction, in trade state
// state.
func (o *order) transaction(state string) reply {
	if o.subMchID != "" {
		return o.partnerTransaction(state)
	}
	t := reply{
		"appid": o.appid, "mchid": o.mchid, "out_trade_no": o.outTradeNo, "trade_type": "JSAPI",
		"trade_state": state, "trade_state_desc": stateDesc[state], "attach": o.attach,
		"amount": reply{"total": o.total, "currency": "CNY", "payer_currency": "CNY"},
	}
	if o.transactionID != "" {
		t["transaction_id"], t["bank_type"], t["success_time"] = o.transactionID, "OTHERS", wxTime(o.paidAt)
		t["payer"] = reply{"openid": o.openid}
		t["amount"] = reply{"total": o.total, "payer_total": o.total, "currency": "CNY", "payer_currency": "CNY"}
	}
	return t
}

func (s *Sandbox) closeOrder(c *apiCall) result {
	var req struct {
		MchID string `json:"mchid"`
	}
	if res, ok := decodeBody(c, &req); !ok {
		return res
	}
	if req.MchID != c.mch.mchid {
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "mchid 与 Authorization 头中的商户号不一致")
	}
	return s.closeOrderOf(s.orders[orderKey(c.mch.mchid, c.r.PathValue("out_trade_no"))])
}

// closeOrderOf closes o (nil: not found) and answers.
func (s *Sandbox) closeOrderOf(o *order) result {
	s.payIfAskedBeforeClose(o)
	switch {
	case o == nil:
		return apiError(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
	case o.paid():
		return apiError(http.StatusBadRequest, "ORDERPAID", "订单已支付，不能关闭")
	}
	o.state = stateClosed
	return result{status: http.StatusNoContent}
}

// Pay simulates the payer paying an order: it becomes SUCCESS and the
// payment notification is delivered to its notify_url (see Delivery),
// subject to TamperNextNotification and DropNextNotification. It fails
// for an unknown, closed, expired or already paid order.
func (s *Sandbox) Pay(ctx context.Context, mchid, outTradeNo string) (Delivery, error) {
	return s.payWhere(ctx, func() (*order, error) { return s.orders[orderKey(mchid, outTradeNo)], nil })
}

// PayPrepay is Pay for the order of a prepay_id (valid two hours).
func (s *Sandbox) PayPrepay(ctx context.Context, prepayID string) (Delivery, error) {
	return s.payWhere(ctx, func() (*order, error) { return s.prepayOrder(prepayID) })
}

// PaymentParams are wx.requestPayment's arguments (see PayWithParams).
type PaymentParams struct {
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// PayWithParams does what wx.requestPayment does in the mini program of
// appid: it checks that paySign is the merchant's SHA256withRSA signature
// of "appId\ntimeStamp\nnonceStr\npackage\n" (else ErrBadPaySign), then
// pays the order of the prepay_id in package.
func (s *Sandbox) PayWithParams(ctx context.Context, appid string, p PaymentParams) (Delivery, error) {
	return s.payWhere(ctx, func() (*order, error) { return s.checkPaymentParams(appid, p) })
}

func (s *Sandbox) checkPaymentParams(appid string, p PaymentParams) (*order, error) {
	prepayID, ok := strings.CutPrefix(p.Package, "prepay_id=")
	if !ok || p.SignType != "RSA" {
		return nil, fmt.Errorf("%w: package must be prepay_id=… and signType RSA", ErrBadPaySign)
	}
	o, err := s.prepayOrder(prepayID)
	if err != nil || o == nil {
		return o, err
	}
	m := s.merchants[o.mchid]
	message := appid + "\n" + p.TimeStamp + "\n" + p.NonceStr + "\n" + p.Package + "\n"
	if o.payingAppID() != appid || m == nil || !verifySHA256(m.pub, message, p.PaySign) {
		return nil, fmt.Errorf("%w: 支付验证签名失败", ErrBadPaySign)
	}
	return o, nil
}

func (s *Sandbox) prepayOrder(prepayID string) (*order, error) {
	o := s.prepays[prepayID]
	if o != nil && s.now().Sub(o.created) > prepayTTL {
		return nil, fmt.Errorf("%w: prepay_id is older than two hours", ErrOrderExpired)
	}
	return o, nil
}

// payWhere pays the order find returns (with s.mu held), then delivers the
// notification without the lock.
func (s *Sandbox) payWhere(ctx context.Context, find func() (*order, error)) (Delivery, error) {
	s.mu.Lock()
	o, err := find()
	var n notice
	if err == nil {
		n, err = s.markPaid(o)
	}
	s.mu.Unlock()
	if err != nil {
		return Delivery{}, err
	}
	return s.deliver(ctx, n), nil
}

func (s *Sandbox) markPaid(o *order) (notice, error) {
	now := s.now()
	switch {
	case o == nil:
		return notice{}, ErrUnknownOrder
	case o.state == stateClosed:
		return notice{}, ErrOrderClosed
	case o.paid():
		return notice{}, ErrOrderPaid
	case !o.expires.IsZero() && now.After(o.expires):
		return notice{}, fmt.Errorf("%w: time_expire has passed", ErrOrderExpired)
	}
	o.state, o.paidAt, o.eventID = stateSuccess, now, newEventID(now)
	o.transactionID = "4200" + randomDigits(6) + now.In(chinaTime).Format("20060102") + randomDigits(10)
	o.paidNotice = encodeJSON(o.transaction(stateSuccess))
	s.transactions[o.transactionID] = o
	return s.paymentNotice(o), nil
}

func (s *Sandbox) paymentNotice(o *order) notice {
	return s.newNotice(o.mchid, o.notifyURL, o.eventID, "TRANSACTION.SUCCESS", "支付成功", "transaction", o.paidNotice)
}

// Renotify delivers a paid order's payment notification again, as WeChat
// does until it gets a 2xx: same event id and content, fresh signature.
func (s *Sandbox) Renotify(ctx context.Context, mchid, outTradeNo string) (Delivery, error) {
	s.mu.Lock()
	o := s.orders[orderKey(mchid, outTradeNo)]
	var n notice
	var err error
	switch {
	case o == nil:
		err = ErrUnknownOrder
	case !o.paid():
		err = fmt.Errorf("paysandbox: order %s is %s, not paid", outTradeNo, o.state)
	default:
		n = s.paymentNotice(o)
	}
	s.mu.Unlock()
	if err != nil {
		return Delivery{}, err
	}
	return s.deliver(ctx, n), nil
}

// validNo checks a merchant number: min..max letters, digits or extra.
func validNo(s string, min, max int, extra string) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return true
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func newEventID(now time.Time) string {
	return "EV-" + now.In(chinaTime).Format("20060102150405") + randomDigits(7)
}
