package wechat

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Virtual payment (虚拟支付, "xpay"): a mini program sells registered items
// (道具直购, mode short_series_goods) paid in the WeChat app. The server
// signs what wx.requestVirtualPayment takes (SignVirtualPayment), WeChat
// pushes xpay_goods_deliver_notify through the message push when the user
// paid (DecodeXPayDeliverNotify, answered with XPayAck), and the server
// APIs under /xpay/ query orders, refund them and mark them delivered.
//
// Every xpay server call carries pay_sig = hex(HMAC-SHA256(AppKey of the
// body's env, uri+"&"+body)) over the exact bytes sent; the sandbox env
// (env 1) has its own AppKey.

// XPay environments.
const (
	XPayEnvProduction = 0
	XPayEnvSandbox    = 1
)

// XPayModeGoods is the wx.requestVirtualPayment mode of buying a
// registered item (道具直购).
const XPayModeGoods = "short_series_goods"

// XPay order statuses (query_order's order.status).
const (
	XPayStatusInit         = 0
	XPayStatusCreated      = 1
	XPayStatusPaid         = 2
	XPayStatusDelivering   = 3
	XPayStatusDelivered    = 4
	XPayStatusRefunded     = 5
	XPayStatusClosed       = 6
	XPayStatusRefundFailed = 7
)

// XPay errcodes.
const (
	ErrXPayOpenID     = 268490001 // the openid is not a user of this app
	ErrXPayParam      = 268490002 // a parameter is wrong (also: no such order)
	ErrXPaySignature  = 268490003 // pay_sig or signature does not verify
	ErrXPayRepeat     = 268490004 // the same operation again: success
	ErrXPayBalance    = 268490006 // coin balance too low
	ErrXPaySessionKey = 268490009 // the user's session_key is unknown or expired
)

// ErrXPayInvalid is a request the client refuses to send (bad outTradeNo,
// price, quantity, refund fields, or no AppKey for the env). It is neither
// transient nor an answer from WeChat.
var ErrXPayInvalid = errors.New("wechat xpay: invalid request")

// XPayKeys are a mini program's virtual-payment settings: its OfferID and
// the AppKeys of the production (env 0) and sandbox (env 1) environments.
type XPayKeys struct {
	OfferID, AppKey, SandboxAppKey string
}

// key returns the AppKey that signs calls in env.
func (k XPayKeys) key(env int) (string, error) {
	var key string
	switch env {
	case XPayEnvProduction:
		key = k.AppKey
	case XPayEnvSandbox:
		key = k.SandboxAppKey
	default:
		return "", fmt.Errorf("%w: env must be 0 (production) or 1 (sandbox), not %d", ErrXPayInvalid, env)
	}
	if key == "" {
		return "", fmt.Errorf("%w: no AppKey for env %d", ErrXPayInvalid, env)
	}
	return key, nil
}

// XPayPaySig is hex(HMAC-SHA256(appKey, uri+"&"+body)): the pay_sig of a
// server call (uri is the path, "/xpay/query_order"), and with uri
// "requestVirtualPayment" the paySig of wx.requestVirtualPayment.
func XPayPaySig(appKey, uri string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appKey))
	m.Write([]byte(uri + "&"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// XPayUserSig is hex(HMAC-SHA256(sessionKey, body)): the user signature
// of signData and of the calls made on a user's behalf. The key is the
// session_key string as WeChat sent it (base64, not decoded).
func XPayUserSig(sessionKey string, body []byte) string {
	m := hmac.New(sha256.New, []byte(sessionKey))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VirtualPayment is one purchase of a registered item. OfferID may be
// left empty to use the keys' OfferID.
type VirtualPayment struct {
	OfferID     string
	Env         int
	ProductID   string
	GoodsPrice  int64 // fen per item; must equal the item's registered price
	BuyQuantity int
	OutTradeNo  string // 8–32 of 0-9A-Za-z_-|*@, not starting with _; single use
	Attach      string // returned in the delivery push (GoodsInfo.Attach)
}

// VirtualPaymentParams is what wx.requestVirtualPayment takes; SignData
// must reach it byte for byte (re-stringifying it breaks the signatures).
type VirtualPaymentParams struct {
	Mode      string `json:"mode"`
	SignData  string `json:"signData"`
	PaySig    string `json:"paySig"`
	Signature string `json:"signature"`
}

// signData is the JSON of wx.requestVirtualPayment's signData, in the
// documentation's field order.
type signData struct {
	OfferID      string `json:"offerId"`
	BuyQuantity  int    `json:"buyQuantity"`
	Env          int    `json:"env"`
	CurrencyType string `json:"currencyType"`
	ProductID    string `json:"productId"`
	GoodsPrice   int64  `json:"goodsPrice"`
	OutTradeNo   string `json:"outTradeNo"`
	Attach       string `json:"attach"`
}

// SignVirtualPayment builds and signs the parameters of
// wx.requestVirtualPayment for the user whose session_key is sessionKey.
func SignVirtualPayment(p VirtualPayment, keys XPayKeys, sessionKey string) (VirtualPaymentParams, error) {
	offer := p.OfferID
	if offer == "" {
		offer = keys.OfferID
	}
	appKey, err := keys.key(p.Env)
	if err != nil {
		return VirtualPaymentParams{}, err
	}
	switch {
	case offer == "":
		return VirtualPaymentParams{}, fmt.Errorf("%w: no offerId", ErrXPayInvalid)
	case keys.OfferID != "" && offer != keys.OfferID:
		return VirtualPaymentParams{}, fmt.Errorf("%w: offerId %q is not the keys' %q", ErrXPayInvalid, offer, keys.OfferID)
	case p.ProductID == "":
		return VirtualPaymentParams{}, fmt.Errorf("%w: no productId", ErrXPayInvalid)
	case p.GoodsPrice <= 0:
		return VirtualPaymentParams{}, fmt.Errorf("%w: goodsPrice must be positive", ErrXPayInvalid)
	case p.BuyQuantity < 1:
		return VirtualPaymentParams{}, fmt.Errorf("%w: buyQuantity must be at least 1", ErrXPayInvalid)
	case !ValidXPayTradeNo(p.OutTradeNo):
		return VirtualPaymentParams{}, fmt.Errorf("%w: outTradeNo must be 8-32 of 0-9A-Za-z_-|*@, not starting with _", ErrXPayInvalid)
	case sessionKey == "":
		return VirtualPaymentParams{}, fmt.Errorf("%w: no session key", ErrXPayInvalid)
	}
	data, err := compactJSON(signData{OfferID: offer, BuyQuantity: p.BuyQuantity, Env: p.Env, CurrencyType: "CNY",
		ProductID: p.ProductID, GoodsPrice: p.GoodsPrice, OutTradeNo: p.OutTradeNo, Attach: p.Attach})
	if err != nil {
		return VirtualPaymentParams{}, err
	}
	return VirtualPaymentParams{
		Mode:      XPayModeGoods,
		SignData:  string(data),
		PaySig:    XPayPaySig(appKey, "requestVirtualPayment", data),
		Signature: XPayUserSig(sessionKey, data),
	}, nil
}

// ValidXPayTradeNo reports whether s may be an outTradeNo or a
// refund_order_id: 8 to 32 of 0-9A-Za-z_-|*@, not starting with _.
func ValidXPayTradeNo(s string) bool {
	if len(s) < 8 || len(s) > 32 || s[0] == '_' {
		return false
	}
	for _, r := range s {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("_-|*@", r)
		if !ok {
			return false
		}
	}
	return true
}

// compactJSON encodes v without HTML escaping and without the trailing
// newline of json.Encoder: the bytes that are signed and sent.
func compactJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("wechat xpay: encode: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// xpayCall POSTs body to /xpay/<name> with the access token and pay_sig
// computed over the exact bytes sent.
func (c *Client) xpayCall(ctx context.Context, app App, keys XPayKeys, env int, name string, body any, out any) error {
	appKey, err := keys.key(env)
	if err != nil {
		return err
	}
	data, err := compactJSON(body)
	if err != nil {
		return err
	}
	path := "/xpay/" + name
	sig := XPayPaySig(appKey, path, data)
	return c.withToken(ctx, app, func(token string) error {
		rq := request{
			method: http.MethodPost,
			path:   path,
			query:  url.Values{"access_token": {token}, "pay_sig": {sig}},
			raw:    data,
			redact: []string{token, app.Secret, appKey},
		}
		return c.call(ctx, rq, out)
	})
}

// XPayOrder is an order as query_order reports it. Fees are in fen, times
// Unix seconds; EnvType is 1 for production, 2 for the sandbox.
type XPayOrder struct {
	OrderID, WxOrderID                    string
	Status                                int
	OrderFee, PaidFee, LeftFee, RefundFee int64
	PaidTime, ProvideTime                 int64
	EnvType                               int
}

// XPayQueryOrder asks for the order outTradeNo of openid in env: the
// fallback when the delivery push has not come (and the check to make
// before granting on a plain-mode push).
func (c *Client) XPayQueryOrder(ctx context.Context, app App, keys XPayKeys, env int, openid, outTradeNo string) (XPayOrder, error) {
	var out struct {
		Order struct {
			OrderID     string  `json:"order_id"`
			WxOrderID   string  `json:"wx_order_id"`
			Status      flexInt `json:"status"`
			OrderFee    flexInt `json:"order_fee"`
			PaidFee     flexInt `json:"paid_fee"`
			LeftFee     flexInt `json:"left_fee"`
			RefundFee   flexInt `json:"refund_fee"`
			PaidTime    flexInt `json:"paid_time"`
			ProvideTime flexInt `json:"provide_time"`
			EnvType     flexInt `json:"env_type"`
		} `json:"order"`
	}
	body := map[string]any{"openid": openid, "env": env, "order_id": outTradeNo}
	if err := c.xpayCall(ctx, app, keys, env, "query_order", body, &out); err != nil {
		return XPayOrder{}, err
	}
	o := out.Order
	return XPayOrder{OrderID: o.OrderID, WxOrderID: o.WxOrderID, Status: int(o.Status), OrderFee: int64(o.OrderFee),
		PaidFee: int64(o.PaidFee), LeftFee: int64(o.LeftFee), RefundFee: int64(o.RefundFee), PaidTime: int64(o.PaidTime),
		ProvideTime: int64(o.ProvideTime), EnvType: int(o.EnvType)}, nil
}

// XPayRefund asks for (part of) an order back. LeftFee is what the order
// has left to refund now (query_order's left_fee) and RefundFee at most
// that. Reason is "0" (none, the default) to "5"; ReqFrom "1" (customer
// service, the default), "2" (the user) or "3" (other).
type XPayRefund struct {
	OpenID, OrderID, RefundOrderID string
	LeftFee, RefundFee             int64
	Reason, ReqFrom                string
	Env                            int
}

// XPayRefundOrder starts a refund. WeChat refunds asynchronously: the
// result comes as the xpay_refund_notify push (query_order shows status 5
// or 7 later). Asking again with the same RefundOrderID is a success.
func (c *Client) XPayRefundOrder(ctx context.Context, app App, keys XPayKeys, r XPayRefund) error {
	if r.Reason == "" {
		r.Reason = "0"
	}
	if r.ReqFrom == "" {
		r.ReqFrom = "1"
	}
	switch {
	case r.OpenID == "" || r.OrderID == "":
		return fmt.Errorf("%w: a refund needs the openid and order id", ErrXPayInvalid)
	case !ValidXPayTradeNo(r.RefundOrderID):
		return fmt.Errorf("%w: refund_order_id must be 8-32 of 0-9A-Za-z_-|*@, not starting with _", ErrXPayInvalid)
	case r.RefundFee <= 0 || r.RefundFee > r.LeftFee:
		return fmt.Errorf("%w: refund_fee must be positive and at most left_fee", ErrXPayInvalid)
	case len(r.Reason) != 1 || r.Reason < "0" || r.Reason > "5":
		return fmt.Errorf("%w: refund_reason must be \"0\" to \"5\"", ErrXPayInvalid)
	case len(r.ReqFrom) != 1 || r.ReqFrom < "1" || r.ReqFrom > "3":
		return fmt.Errorf("%w: req_from must be \"1\" to \"3\"", ErrXPayInvalid)
	}
	body := map[string]any{"openid": r.OpenID, "order_id": r.OrderID, "refund_order_id": r.RefundOrderID,
		"left_fee": r.LeftFee, "refund_fee": r.RefundFee, "refund_reason": r.Reason, "req_from": r.ReqFrom, "env": r.Env}
	var out struct{}
	return ignoreRepeat(c.xpayCall(ctx, app, keys, r.Env, "refund_order", body, &out))
}

// XPayNotifyProvideGoods tells WeChat the order outTradeNo was delivered
// (status 4) when its delivery push was lost and the order found paid by
// XPayQueryOrder. Telling it again is a success.
func (c *Client) XPayNotifyProvideGoods(ctx context.Context, app App, keys XPayKeys, env int, outTradeNo string) error {
	var out struct{}
	body := map[string]any{"order_id": outTradeNo, "env": env}
	return ignoreRepeat(c.xpayCall(ctx, app, keys, env, "notify_provide_goods", body, &out))
}

// ignoreRepeat turns 268490004 (already done) into success.
func ignoreRepeat(err error) error {
	if hasCode(err, ErrXPayRepeat) {
		return nil
	}
	return err
}

// IsXPayRefused reports whether WeChat gave a definite no to an xpay call
// (or the client refused to send it): a parameter, signature, openid or
// session-key error, an unknown order. Retrying unchanged fails the same
// way; IsTransient errors (-1 busy, no answer, HTTP 5xx) may be retried.
func IsXPayRefused(err error) bool {
	if errors.Is(err, ErrXPayInvalid) {
		return true
	}
	var apiErr *APIError
	return errors.As(err, &apiErr) && !IsTransient(err)
}

// XPayDeliverNotify is the xpay_goods_deliver_notify push: the user paid
// for OutTradeNo; deliver (once per OutTradeNo) and answer XPayAck.
// Prices are in fen, PaidTime Unix seconds.
type XPayDeliverNotify struct {
	OpenID, OutTradeNo        string
	Env                       int
	MchOrderNo, TransactionID string
	PaidTime                  int64
	ProductID                 string
	Quantity                  int
	OrigPrice, ActualPrice    int64
	Attach                    string
}

// Push events of virtual payment.
const (
	XPayDeliverEvent = "xpay_goods_deliver_notify"
	XPayRefundEvent  = "xpay_refund_notify"
)

// DecodeXPayDeliverNotify reads an xpay_goods_deliver_notify push (JSON or
// XML, keys in any case: OpenId/openid, WeChatPayInfo/WechatPayInfo).
func DecodeXPayDeliverNotify(p Push) (XPayDeliverNotify, error) {
	if !strings.EqualFold(p.Event, XPayDeliverEvent) {
		return XPayDeliverNotify{}, fmt.Errorf("%w: event %q is not %s", ErrPushMalformed, p.Event, XPayDeliverEvent)
	}
	var m struct {
		OpenID     flexString `json:"OpenId"`
		OutTradeNo flexString
		Env        flexInt
		PayInfo    struct {
			MchOrderNo    flexString
			TransactionID flexString `json:"TransactionId"`
			PaidTime      flexInt
		} `json:"WeChatPayInfo"`
		GoodsInfo struct {
			ProductID   flexString `json:"ProductId"`
			Quantity    flexInt
			OrigPrice   flexInt
			ActualPrice flexInt
			Attach      flexString
		}
	}
	if err := p.Decode(&m); err != nil {
		return XPayDeliverNotify{}, fmt.Errorf("%w: %v", ErrPushMalformed, err)
	}
	if m.OpenID == "" || m.OutTradeNo == "" {
		return XPayDeliverNotify{}, fmt.Errorf("%w: no OpenId or OutTradeNo", ErrPushMalformed)
	}
	g := m.GoodsInfo
	return XPayDeliverNotify{OpenID: string(m.OpenID), OutTradeNo: string(m.OutTradeNo), Env: int(m.Env),
		MchOrderNo: string(m.PayInfo.MchOrderNo), TransactionID: string(m.PayInfo.TransactionID), PaidTime: int64(m.PayInfo.PaidTime),
		ProductID: string(g.ProductID), Quantity: int(g.Quantity), OrigPrice: int64(g.OrigPrice), ActualPrice: int64(g.ActualPrice),
		Attach: string(g.Attach)}, nil
}

// XPayRefundNotify is the xpay_refund_notify push: the result of a
// refund (RetCode 0 refunded, anything else failed). MchRefundID is the
// refund_order_id, MchOrderID the outTradeNo; RefundFee is in fen.
type XPayRefundNotify struct {
	WxRefundID, MchRefundID, WxOrderID, MchOrderID string
	RefundFee                                      int64
	RetCode                                        int
	RetMsg                                         string
	RetryTimes                                     int
}

// DecodeXPayRefundNotify reads an xpay_refund_notify push (JSON or XML,
// keys in any case).
func DecodeXPayRefundNotify(p Push) (XPayRefundNotify, error) {
	if !strings.EqualFold(p.Event, XPayRefundEvent) {
		return XPayRefundNotify{}, fmt.Errorf("%w: event %q is not %s", ErrPushMalformed, p.Event, XPayRefundEvent)
	}
	var m struct {
		WxRefundID  flexString `json:"WxRefundId"`
		MchRefundID flexString `json:"MchRefundId"`
		WxOrderID   flexString `json:"WxOrderId"`
		MchOrderID  flexString `json:"MchOrderId"`
		RefundFee   flexInt
		RetCode     flexInt
		RetMsg      flexString
		RetryTimes  flexInt
	}
	if err := p.Decode(&m); err != nil {
		return XPayRefundNotify{}, fmt.Errorf("%w: %v", ErrPushMalformed, err)
	}
	if m.MchRefundID == "" || m.MchOrderID == "" {
		return XPayRefundNotify{}, fmt.Errorf("%w: no MchRefundId or MchOrderId", ErrPushMalformed)
	}
	return XPayRefundNotify{WxRefundID: string(m.WxRefundID), MchRefundID: string(m.MchRefundID), WxOrderID: string(m.WxOrderID),
		MchOrderID: string(m.MchOrderID), RefundFee: int64(m.RefundFee), RetCode: int(m.RetCode), RetMsg: string(m.RetMsg),
		RetryTimes: int(m.RetryTimes)}, nil
}

// XPayAck is the answer that stops WeChat retrying an xpay push (anything
// else is retried, up to 15 times).
func XPayAck() []byte { return []byte(`{"ErrCode":0,"ErrMsg":"success"}`) }

// flexInt accepts a JSON number or a string holding one (XML pushes carry
// every value as text); an empty string is 0.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(data []byte) error {
	s := strings.Trim(strings.TrimSpace(string(data)), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		return fmt.Errorf("want an integer, got %.20s", data)
	}
	*f = flexInt(n)
	return nil
}
