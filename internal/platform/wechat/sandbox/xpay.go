package sandbox

// Virtual payment (虚拟支付, xpay): the server APIs, the user's phone paying
// (wx.requestVirtualPayment) and the pushes WeChat sends afterwards.
//
// Server APIs (access_token and pay_sig in the query; pay_sig checked with
// the AppKey of the body's env over the raw body, 268490003 when it does
// not verify, so a body signed with the other env's key is refused):
//
//	POST /xpay/query_order          {openid, env, order_id | wx_order_id} → {order}
//	POST /xpay/notify_provide_goods {order_id | wx_order_id, env}: paid (2) → delivered (4); again → 268490004
//	POST /xpay/refund_order         {openid, order_id, refund_order_id, left_fee, refund_fee, refund_reason, req_from, env}:
//	     accepted, settled later by SettleXPayRefunds (status 5, or 7 when it fails) with xpay_refund_notify
//	     pushed; the same refund_order_id again → 268490004; iOS orders → 268490002 (Apple decides)
//	POST /xpay/query_user_balance   {openid, env, user_ip} + signature (session key): always 0 coins;
//	     268490009 when the user has no session key (never logged in, or expired)
//
// Control endpoints (POST, JSON in and out, HTTP 400 {"error"} on bad input):
//
//	/sandbox/xpay-app         {"appid","offer_id","app_key","sandbox_app_key"} → {}   enable xpay for an app
//	/sandbox/xpay-item        {"appid","product_id","price"}                  → {}   register an item (price in fen)
//	/sandbox/xpay-push-target {"appid","url","token","encoding_aes_key"?}     → {}   where pushes go (safe mode with a key)
//	/sandbox/xpay-pay         {"appid","openid"?,"mode","signData","paySig","signature"} (or the four as one object "params")
//	     → {"errCode":0,"errMsg":"requestVirtualPayment:ok","order":XPayOrder}, or HTTP 200
//	     {"errCode":-15005|-15006|-15016|-15019,"errMsg"}: the user paying, with exactly what the
//	     mini program passes to wx.requestVirtualPayment (openid defaults to the app's demo user, who
//	     needs a session key: log in through jscode2session first). The order is paid (status 2) and
//	     xpay_goods_deliver_notify is pushed; ErrCode 0 in the answer makes it delivered (4).
//	/sandbox/xpay-deliver     {"appid"}                         → {"acked"}   retry unanswered pushes now (≤15 tries each)
//	/sandbox/xpay-settle-refunds {"appid","fail"?}              → {"settled"} settle pending refunds (fail: all fail, status 7)
//	/sandbox/xpay-duplicate   {"appid","out_trade_no","times"}  → {"acked"}   send an order's delivery push again, times times
//	/sandbox/xpay-drop        {"appid","count"?}                → {}          lose the app's next count pushes (never sent)
//	/sandbox/xpay-delay       {"appid","count"?}                → {}          hold the next count pushes until xpay-deliver
//	/sandbox/xpay-bad-token   {"appid","count"?}                → {}          sign the next count push attempts with a wrong Token
//	/sandbox/xpay-ios         {"appid","on"}                    → {}          payments come from iPhones (≥ ¥1; refunds refused)
//	/sandbox/xpay-expire-session {"appid","openid"?}            → {}          forget the user's session key
//	/sandbox/xpay-orders      {"appid"}                         → {"orders":[XPayOrder],"refunds":[XPayRefund]}
//
// A push is retried until the answer is {"ErrCode":0,…} (JSON or XML), at
// most 15 times (an app without a push target fails every attempt);
// retries happen when DeliverXPayPushes (xpay-deliver) or RunXPay's loop
// runs, never on their own, so tests need no sleeping. Every control has a
// Go method of the same effect (SetXPayKeys, AddXPayItem, SetPushTarget,
// XPayPay, DeliverXPayPushes, SettleXPayRefunds, DuplicateXPayPush,
// DropXPayPushes, DelayXPayPushes, BadTokenXPayPushes, SetXPayIOS,
// ExpireXPaySession, XPayOrders/XPayRefunds). The server APIs are in
// xpay_api.go, the controls in xpay_control.go.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// xpay errcodes and the phone's wx.requestVirtualPayment failure codes.
const (
	errXPayOpenID     = wechat.ErrXPayOpenID
	errXPayParam      = wechat.ErrXPayParam
	errXPaySignature  = wechat.ErrXPaySignature
	errXPayRepeat     = wechat.ErrXPayRepeat
	errXPaySessionKey = wechat.ErrXPaySessionKey

	PayErrUserSig    = -15005 // signature (session key) does not verify
	PayErrPaySig     = -15006 // paySig (AppKey) does not verify
	PayErrField      = -15016 // a signData field has the wrong type or value
	PayErrRestricted = -15019 // the merchant cannot sell (xpay not enabled)

	xpayMaxPushTries = 15
)

func init() {
	for path, h := range map[string]func(*Sandbox, *http.Request, []byte) reply{
		"/xpay/query_order":          (*Sandbox).xpayQueryOrder,
		"/xpay/notify_provide_goods": (*Sandbox).xpayNotifyProvideGoods,
		"/xpay/refund_order":         (*Sandbox).xpayRefundOrder,
		"/xpay/query_user_balance":   (*Sandbox).xpayQueryUserBalance,
	} {
		apiRoutes[path] = apiRoute{http.MethodPost, h}
	}
	for path, h := range map[string]func(*Sandbox, []byte) (any, error){
		"/sandbox/xpay-app": (*Sandbox).ctlXPayApp, "/sandbox/xpay-item": (*Sandbox).ctlXPayItem,
		"/sandbox/xpay-push-target": (*Sandbox).ctlXPayPushTarget, "/sandbox/xpay-pay": (*Sandbox).ctlXPayPay,
		"/sandbox/xpay-deliver": (*Sandbox).ctlXPayDeliver, "/sandbox/xpay-settle-refunds": (*Sandbox).ctlXPaySettle,
		"/sandbox/xpay-duplicate": (*Sandbox).ctlXPayDuplicate, "/sandbox/xpay-drop": (*Sandbox).ctlXPayDrop,
		"/sandbox/xpay-delay": (*Sandbox).ctlXPayDelay, "/sandbox/xpay-bad-token": (*Sandbox).ctlXPayBadToken,
		"/sandbox/xpay-ios": (*Sandbox).ctlXPayIOS, "/sandbox/xpay-expire-session": (*Sandbox).ctlXPayExpireSession,
		"/sandbox/xpay-orders": (*Sandbox).ctlXPayOrders,
	} {
		controlRoutes[path] = h
	}
	for code, msg := range map[int]string{errXPayOpenID: "openid error", errXPayParam: "param error",
		errXPaySignature: "signature error", errXPayRepeat: "repeat operation", errXPaySessionKey: "session_key expired"} {
		errMessages[code] = msg
	}
}

// XPayOrder is an order of the sandbox's virtual payment. Fees are in fen,
// times Unix seconds.
type XPayOrder struct {
	AppID         string `json:"appid"`
	OpenID        string `json:"openid"`
	OutTradeNo    string `json:"out_trade_no"`
	WxOrderID     string `json:"wx_order_id"`
	Env           int    `json:"env"`
	ProductID     string `json:"product_id"`
	Quantity      int    `json:"quantity"`
	GoodsPrice    int64  `json:"goods_price"`
	OrderFee      int64  `json:"order_fee"`
	PaidFee       int64  `json:"paid_fee"`
	LeftFee       int64  `json:"left_fee"`
	RefundFee     int64  `json:"refund_fee"`
	Status        int    `json:"status"`
	IOS           bool   `json:"ios"`
	Attach        string `json:"attach"`
	MchOrderNo    string `json:"mch_order_no"`
	TransactionID string `json:"transaction_id"`
	PaidTime      int64  `json:"paid_time"`
	ProvideTime   int64  `json:"provide_time"`
	PushAttempts  int    `json:"push_attempts"` // delivery pushes sent (duplicates not counted)
	PushAcked     bool   `json:"push_acked"`
	push          *xpayPush
}

// XPayRefund is a refund_order call the sandbox accepted. Status is
// "pending" until SettleXPayRefunds, then "refunded" or "failed".
type XPayRefund struct {
	AppID         string `json:"appid"`
	OpenID        string `json:"openid"`
	OutTradeNo    string `json:"out_trade_no"`
	RefundOrderID string `json:"refund_order_id"`
	WxRefundID    string `json:"wx_refund_id"`
	RefundFee     int64  `json:"refund_fee"`
	Reason        string `json:"refund_reason"`
	ReqFrom       string `json:"req_from"`
	Status        string `json:"status"`
	PushAttempts  int    `json:"push_attempts"`
	PushAcked     bool   `json:"push_acked"`
	push          *xpayPush
}

// XPayPayError is the fail answer of wx.requestVirtualPayment.
type XPayPayError struct {
	Code int
	Msg  string
}

func (e *XPayPayError) Error() string {
	return fmt.Sprintf("requestVirtualPayment:fail %d %s", e.Code, e.Msg)
}

// xpayPush is one event to push until it is acknowledged.
type xpayPush struct {
	appid    string
	msg      []byte
	attempts int
	acked    bool
	dropped  bool // lost: never sent
	held     bool // delayed until the next DeliverXPayPushes
	sending  bool
	onAck    func(now time.Time) // runs with s.mu held
}

type xpayFaults struct{ drop, delay, badToken int }

type xpayState struct {
	keys     map[string]wechat.XPayKeys // by appid
	items    map[string]int64           // appid\x00product_id → price in fen
	sessions map[string]string          // appid\x00openid → current session_key
	orders   map[string]*XPayOrder      // appid\x00out_trade_no
	orderSeq []*XPayOrder               // oldest first
	refunds  map[string]*XPayRefund     // appid\x00refund_order_id
	refSeq   []*XPayRefund
	pushes   []*xpayPush
	ios      map[string]bool
	faults   map[string]*xpayFaults
}

func (s *Sandbox) xp() *xpayState {
	if s.xpay == nil {
		s.xpay = &xpayState{keys: map[string]wechat.XPayKeys{}, items: map[string]int64{}, sessions: map[string]string{},
			orders: map[string]*XPayOrder{}, refunds: map[string]*XPayRefund{}, ios: map[string]bool{}, faults: map[string]*xpayFaults{}}
	}
	return s.xpay
}

func (st *xpayState) fault(appid string) *xpayFaults {
	f := st.faults[appid]
	if f == nil {
		f = &xpayFaults{}
		st.faults[appid] = f
	}
	return f
}

// rememberSession records the session_key jscode2session issued (s.mu held):
// the latest one is the user's, as a new wx.login replaces the old key.
func (s *Sandbox) rememberSession(appid, openid, key string) {
	s.xp().sessions[appid+"\x00"+openid] = key
}

// SetXPayKeys enables virtual payment for appid with these settings.
func (s *Sandbox) SetXPayKeys(appid string, keys wechat.XPayKeys) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.xp().keys[appid] = keys
}

// AddXPayItem registers (or reprices) an item of appid; price in fen.
func (s *Sandbox) AddXPayItem(appid, productID string, price int64) error {
	if productID == "" || price <= 0 {
		return errors.New("sandbox: an item needs a product id and a positive price")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.xp().items[appid+"\x00"+productID] = price
	return nil
}

// XPaySessionKey returns the user's current session key ("" if none).
func (s *Sandbox) XPaySessionKey(appid, openid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.xp().sessions[appid+"\x00"+openid]
}

// ExpireXPaySession forgets the user's session key (it expired).
func (s *Sandbox) ExpireXPaySession(appid, openid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.xp().sessions, appid+"\x00"+openid)
}

// SetXPayIOS makes appid's next payments come from iPhones (or not): such
// orders are marked IOS, must cost at least ¥1, and cannot be refunded
// through refund_order (Apple decides).
func (s *Sandbox) SetXPayIOS(appid string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.xp().ios[appid] = on
}

// DropXPayPushes loses appid's next n pushes: they are never sent, so the
// app has to find the payment with query_order.
func (s *Sandbox) DropXPayPushes(appid string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.xp().fault(appid).drop += n
}

// DelayXPayPushes holds appid's next n pushes until DeliverXPayPushes.
func (s *Sandbox) DelayXPayPushes(appid string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.xp().fault(appid).delay += n
}

// BadTokenXPayPushes signs appid's next n push attempts with a wrong
// Token: a receiver that checks signatures refuses them, and they are
// retried.
func (s *Sandbox) BadTokenXPayPushes(appid string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.xp().fault(appid).badToken += n
}

// XPayOrders lists appid's orders, oldest first.
func (s *Sandbox) XPayOrders(appid string) []XPayOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []XPayOrder{}
	for _, o := range s.xp().orderSeq {
		if o.AppID == appid {
			out = append(out, o.view())
		}
	}
	return out
}

// XPayRefunds lists appid's refunds, oldest first.
func (s *Sandbox) XPayRefunds(appid string) []XPayRefund {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []XPayRefund{}
	for _, r := range s.xp().refSeq {
		if r.AppID == appid {
			v := *r
			v.PushAttempts, v.PushAcked = pushState(r.push)
			out = append(out, v)
		}
	}
	return out
}

func (o *XPayOrder) view() XPayOrder {
	v := *o
	v.PushAttempts, v.PushAcked = pushState(o.push)
	return v
}

func pushState(p *xpayPush) (int, bool) {
	if p == nil {
		return 0, false
	}
	return p.attempts, p.acked
}

// --- the phone: wx.requestVirtualPayment ---

// XPayPay is the user paying on the phone with what the mini program
// passes to wx.requestVirtualPayment (openid "" is the app's demo user).
// The checks are WeChat's: signature with the user's session key (-15005),
// paySig with the AppKey of signData's env (-15006), the fields (-15016:
// offerId a string and the app's, a registered item at its price, an
// unused outTradeNo). The order is paid (status 2) and its delivery push
// sent once before XPayPay returns; an acknowledged push makes it 4.
func (s *Sandbox) XPayPay(appid, openid string, p wechat.VirtualPaymentParams) (XPayOrder, error) {
	s.mu.Lock()
	if openid == "" {
		openid = defaultOpenID(appid)
	}
	o, err := s.newXPayOrder(appid, openid, p)
	if err != nil {
		s.mu.Unlock()
		return XPayOrder{}, err
	}
	push := o.push
	s.mu.Unlock()
	s.sendXPayPush(push)
	s.mu.Lock()
	defer s.mu.Unlock()
	return o.view(), nil
}

// xpaySignData is signData with its JSON types kept for checking.
type xpaySignData struct {
	OfferID      json.RawMessage `json:"offerId"`
	BuyQuantity  json.RawMessage `json:"buyQuantity"`
	Env          json.RawMessage `json:"env"`
	CurrencyType json.RawMessage `json:"currencyType"`
	ProductID    json.RawMessage `json:"productId"`
	GoodsPrice   json.RawMessage `json:"goodsPrice"`
	OutTradeNo   json.RawMessage `json:"outTradeNo"`
	Attach       json.RawMessage `json:"attach"`
}

// paid is a checked signData.
type paid struct {
	offer, currency, product, outTradeNo, attach string
	quantity, env                                int
	price                                        int64
}

func payErr(code int, format string, args ...any) error {
	return &XPayPayError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// newXPayOrder checks a payment and records its paid order (s.mu held).
func (s *Sandbox) newXPayOrder(appid, openid string, p wechat.VirtualPaymentParams) (*XPayOrder, error) {
	st := s.xp()
	keys, ok := st.keys[appid]
	if !ok {
		return nil, payErr(PayErrRestricted, "virtual payment is not enabled for %s", appid)
	}
	if p.Mode != wechat.XPayModeGoods {
		return nil, payErr(PayErrField, "mode must be %s (the sandbox sells items only)", wechat.XPayModeGoods)
	}
	data := []byte(p.SignData)
	session := st.sessions[appid+"\x00"+openid]
	if session == "" || !hmac.Equal([]byte(p.Signature), []byte(wechat.XPayUserSig(session, data))) {
		return nil, payErr(PayErrUserSig, "signature does not verify with the user's session key")
	}
	d, err := readSignData(data)
	if err != nil {
		return nil, err
	}
	key := keys.AppKey
	if d.env == wechat.XPayEnvSandbox {
		key = keys.SandboxAppKey
	}
	if key == "" || !hmac.Equal([]byte(p.PaySig), []byte(wechat.XPayPaySig(key, "requestVirtualPayment", data))) {
		return nil, payErr(PayErrPaySig, "paySig does not verify with the AppKey of env %d", d.env)
	}
	if err := s.checkPaid(appid, keys, d); err != nil {
		return nil, err
	}
	return s.recordXPayOrder(appid, openid, d), nil
}

// readSignData parses signData, wanting WeChat's types.
func readSignData(data []byte) (paid, error) {
	var raw xpaySignData
	if err := json.Unmarshal(data, &raw); err != nil {
		return paid{}, payErr(PayErrField, "signData is not a JSON object")
	}
	var d paid
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		str  *string
		num  *int64
	}{
		{"offerId", raw.OfferID, &d.offer, nil}, {"currencyType", raw.CurrencyType, &d.currency, nil},
		{"productId", raw.ProductID, &d.product, nil}, {"outTradeNo", raw.OutTradeNo, &d.outTradeNo, nil},
		{"goodsPrice", raw.GoodsPrice, nil, &d.price},
	} {
		if err := readField(f.name, f.raw, f.str, f.num); err != nil {
			return paid{}, err
		}
	}
	var qty, env int64
	if err := readField("buyQuantity", raw.BuyQuantity, nil, &qty); err != nil {
		return paid{}, err
	}
	if err := readField("env", raw.Env, nil, &env); err != nil {
		return paid{}, err
	}
	if raw.Attach != nil {
		if err := readField("attach", raw.Attach, &d.attach, nil); err != nil {
			return paid{}, err
		}
	}
	d.quantity, d.env = int(qty), int(env)
	return d, nil
}

// readField decodes a required field into str (a JSON string) or num (a
// JSON integer).
func readField(name string, raw json.RawMessage, str *string, num *int64) error {
	var err error
	switch {
	case raw == nil:
		err = errors.New("missing")
	case str != nil:
		if len(raw) == 0 || raw[0] != '"' {
			err = errors.New("must be a string")
		} else {
			err = json.Unmarshal(raw, str)
		}
	default:
		err = json.Unmarshal(raw, num)
	}
	if err != nil {
		return payErr(PayErrField, "signData.%s: %v", name, err)
	}
	return nil
}

// checkPaid checks signData's values against the app's settings.
func (s *Sandbox) checkPaid(appid string, keys wechat.XPayKeys, d paid) error {
	st := s.xp()
	price, known := st.items[appid+"\x00"+d.product]
	switch {
	case d.env != wechat.XPayEnvProduction && d.env != wechat.XPayEnvSandbox:
		return payErr(PayErrField, "env must be 0 or 1")
	case d.offer != keys.OfferID:
		return payErr(PayErrField, "offerId %q is not this app's", d.offer)
	case d.currency != "CNY":
		return payErr(PayErrField, "currencyType must be CNY")
	case !known:
		return payErr(PayErrField, "no item %q", d.product)
	case d.price != price:
		return payErr(PayErrField, "goodsPrice %d is not the item's price %d", d.price, price)
	case d.quantity < 1:
		return payErr(PayErrField, "buyQuantity must be at least 1")
	case !wechat.ValidXPayTradeNo(d.outTradeNo):
		return payErr(PayErrField, "outTradeNo must be 8-32 of 0-9A-Za-z_-|*@, not starting with _")
	case st.orders[appid+"\x00"+d.outTradeNo] != nil:
		return payErr(PayErrField, "outTradeNo %s was used already", d.outTradeNo)
	case st.ios[appid] && d.price*int64(d.quantity) < 100:
		return payErr(PayErrField, "iOS payments must be at least ¥1")
	}
	return nil
}

// recordXPayOrder records a paid order and queues its delivery push.
func (s *Sandbox) recordXPayOrder(appid, openid string, d paid) *XPayOrder {
	st := s.xp()
	now := s.now()
	fee := d.price * int64(d.quantity)
	o := &XPayOrder{AppID: appid, OpenID: openid, OutTradeNo: d.outTradeNo, WxOrderID: "wxo" + randomDigits(20), Env: d.env,
		ProductID: d.product, Quantity: d.quantity, GoodsPrice: d.price, OrderFee: fee, PaidFee: fee, LeftFee: fee,
		Status: wechat.XPayStatusPaid, IOS: st.ios[appid], Attach: d.attach, MchOrderNo: "mch" + randomDigits(20),
		TransactionID: "42" + randomDigits(26), PaidTime: now.Unix()}
	st.orders[appid+"\x00"+o.OutTradeNo] = o
	st.orderSeq = append(st.orderSeq, o)
	msg, _ := json.Marshal(map[string]any{"ToUserName": "gh_sandbox", "FromUserName": openid, "CreateTime": now.Unix(),
		"MsgType": "event", "Event": wechat.XPayDeliverEvent, "OpenId": openid, "OutTradeNo": o.OutTradeNo, "Env": o.Env,
		"WeChatPayInfo": map[string]any{"MchOrderNo": o.MchOrderNo, "TransactionId": o.TransactionID, "PaidTime": o.PaidTime},
		"GoodsInfo": map[string]any{"ProductId": o.ProductID, "Quantity": o.Quantity, "OrigPrice": o.GoodsPrice,
			"ActualPrice": o.GoodsPrice, "Attach": o.Attach}})
	o.push = s.queueXPayPush(appid, msg, func(now time.Time) {
		if o.Status == wechat.XPayStatusPaid {
			o.Status, o.ProvideTime = wechat.XPayStatusDelivered, now.Unix()
		}
	})
	return o
}

func randomDigits(n int) string {
	b := []byte(randomString(n))
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// --- pushes ---

// queueXPayPush records a push, applying the app's drop and delay faults
// (s.mu held).
func (s *Sandbox) queueXPayPush(appid string, msg []byte, onAck func(time.Time)) *xpayPush {
	st := s.xp()
	p := &xpayPush{appid: appid, msg: msg, onAck: onAck}
	f := st.fault(appid)
	switch {
	case f.drop > 0:
		f.drop--
		p.dropped = true
	case f.delay > 0:
		f.delay--
		p.held = true
	}
	st.pushes = append(st.pushes, p)
	return p
}

// pushClient waits 5 s for an answer, as WeChat does.
var pushClient = &http.Client{Timeout: 5 * time.Second}

// sendXPayPush makes one attempt at p unless it is done, lost, held,
// being sent or out of tries. It reports whether p is acknowledged.
func (s *Sandbox) sendXPayPush(p *xpayPush) bool {
	s.mu.Lock()
	if p.acked || p.dropped || p.held || p.sending || p.attempts >= xpayMaxPushTries {
		acked := p.acked
		s.mu.Unlock()
		return acked
	}
	p.sending = true
	p.attempts++
	f := s.xp().fault(p.appid)
	badToken := f.badToken > 0
	if badToken {
		f.badToken--
	}
	target, ok := s.pushTargets[p.appid]
	now := s.now()
	s.mu.Unlock()

	acked := ok && postXPayPush(target, p.appid, p.msg, now, badToken)
	s.mu.Lock()
	defer s.mu.Unlock()
	p.sending = false
	if acked && !p.acked {
		p.acked = true
		p.onAck(s.now())
	}
	return p.acked
}

// postXPayPush POSTs msg to t (safe mode when t has an EncodingAESKey) and
// reports whether the answer was the xpay ack, ErrCode 0.
func postXPayPush(t PushTarget, appid string, msg []byte, now time.Time, badToken bool) bool {
	token := t.Token
	if badToken {
		token = "not-" + token
	}
	ts, nonce := strconv.FormatInt(now.Unix(), 10), randomHex(8)
	cfg := wechat.PushConfig{AppID: appid, Token: token, EncodingAESKey: t.EncodingAESKey}
	q, body := wechat.SignPlainPush(cfg, ts, nonce), msg
	if t.EncodingAESKey != "" {
		var err error
		if q, body, err = wechat.SealPush(cfg, msg, ts, nonce); err != nil {
			return false
		}
	}
	res, err := pushClient.Post(t.URL+"?"+q.Encode(), "application/json", bytes.NewReader(body))
	if err != nil {
		return false
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return err == nil && res.StatusCode == http.StatusOK && isXPayAck(answer)
}

// isXPayAck reports whether answer is {"ErrCode":0,…} or its XML form.
func isXPayAck(answer []byte) bool {
	var ack struct {
		ErrCode *int `json:"ErrCode" xml:"ErrCode"`
	}
	answer = bytes.TrimSpace(answer)
	var err error
	if len(answer) > 0 && answer[0] == '<' {
		err = xml.Unmarshal(answer, &ack)
	} else {
		err = json.Unmarshal(answer, &ack)
	}
	return err == nil && ack.ErrCode != nil && *ack.ErrCode == 0
}

// DeliverXPayPushes retries now every unacknowledged push of appid (held
// ones included, lost ones never, each at most 15 times in all) and
// returns how many are acknowledged by this round.
func (s *Sandbox) DeliverXPayPushes(appid string) int {
	s.mu.Lock()
	var due []*xpayPush
	for _, p := range s.xp().pushes {
		if p.appid == appid && !p.acked && !p.dropped {
			p.held = false
			due = append(due, p)
		}
	}
	s.mu.Unlock()
	n := 0
	for _, p := range due {
		if s.sendXPayPush(p) {
			n++
		}
	}
	return n
}

// DuplicateXPayPush sends the delivery push of an order times more times,
// byte for byte as the first (WeChat repeats pushes), and returns how many
// were acknowledged. An acknowledgement counts as the first one would.
func (s *Sandbox) DuplicateXPayPush(appid, outTradeNo string, times int) (int, error) {
	s.mu.Lock()
	o := s.xp().orders[appid+"\x00"+outTradeNo]
	target, ok := s.pushTargets[appid]
	now := s.now()
	s.mu.Unlock()
	if o == nil {
		return 0, fmt.Errorf("sandbox: no xpay order %q", outTradeNo)
	}
	if !ok {
		return 0, fmt.Errorf("sandbox: no push target for %s", appid)
	}
	n := 0
	for range times {
		if postXPayPush(target, appid, o.push.msg, now, false) {
			n++
			s.mu.Lock()
			if !o.push.acked {
				o.push.acked = true
				o.push.onAck(s.now())
			}
			s.mu.Unlock()
		}
	}
	return n, nil
}

// SettleXPayRefunds settles appid's pending refunds now, as WeChat does
// some time after refund_order: refunded (order status 5, refund_fee
// grows) or, with fail, failed (status 7, the fee is refundable again);
// each result is pushed as xpay_refund_notify. It returns how many were
// settled.
func (s *Sandbox) SettleXPayRefunds(appid string, fail bool) int {
	s.mu.Lock()
	var due []*xpayPush
	for _, r := range s.xp().refSeq {
		if r.AppID == appid && r.Status == "pending" {
			s.settleRefund(r, fail)
			due = append(due, r.push)
		}
	}
	s.mu.Unlock()
	for _, p := range due {
		s.sendXPayPush(p)
	}
	return len(due)
}

// settleRefund decides one refund and queues its push (s.mu held).
func (s *Sandbox) settleRefund(r *XPayRefund, fail bool) {
	o := s.xp().orders[r.AppID+"\x00"+r.OutTradeNo]
	retCode, retMsg := 0, "refund success"
	if fail {
		r.Status, retCode, retMsg = "failed", 1, "refund failed"
		o.LeftFee += r.RefundFee
		o.Status = wechat.XPayStatusRefundFailed
	} else {
		r.Status = "refunded"
		o.RefundFee += r.RefundFee
		o.Status = wechat.XPayStatusRefunded
	}
	msg, _ := json.Marshal(map[string]any{"ToUserName": "gh_sandbox", "FromUserName": r.OpenID, "CreateTime": s.now().Unix(),
		"MsgType": "event", "Event": wechat.XPayRefundEvent, "OpenId": r.OpenID, "WxRefundId": r.WxRefundID,
		"MchRefundId": r.RefundOrderID, "WxOrderId": o.WxOrderID, "MchOrderId": o.OutTradeNo, "RefundFee": r.RefundFee,
		"RetCode": retCode, "RetMsg": retMsg, "RetryTimes": 0})
	r.push = s.queueXPayPush(r.AppID, msg, func(time.Time) {})
}

// RunXPay retries pushes and settles refunds of appid every interval
// until ctx ends (for the demo; tests call the methods directly).
func (s *Sandbox) RunXPay(ctx context.Context, appid string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.SettleXPayRefunds(appid, false)
			s.DeliverXPayPushes(appid)
		}
	}
}
