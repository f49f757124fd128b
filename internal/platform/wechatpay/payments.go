package wechatpay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Trade states of a Transaction. Only NOTPAY and USERPAYING may still
// change by themselves.
const (
	TradeStateSuccess    = "SUCCESS"
	TradeStateRefund     = "REFUND" // paid, then (partly) refunded
	TradeStateNotPay     = "NOTPAY"
	TradeStateClosed     = "CLOSED"
	TradeStateRevoked    = "REVOKED"
	TradeStateUserPaying = "USERPAYING"
	TradeStatePayError   = "PAYERROR"
)

// timeLayout is WeChat's time format (RFC 3339 with a numeric offset;
// WeChat rejects "Z").
const timeLayout = "2006-01-02T15:04:05-07:00"

var chinaTime = time.FixedZone("CST", 8*3600)

// PrepayRequest is a JSAPI (mini program) order. Amounts are in fen
// (1 yuan = 100 fen).
type PrepayRequest struct {
	Description string    // shown to the payer; at most 127 characters
	OutTradeNo  string    // merchant order number: 6–32 of 0-9 A-Z a-z _ - | *
	NotifyURL   string    // receives the payment notification
	Total       int64     // amount in fen, > 0
	OpenID      string    // the payer's openid under the paying mini program's appid (Merchant.PayingAppID)
	TimeExpire  time.Time // optional: the order stops accepting payment then
	Attach      string    // optional: echoed in queries and notifications; at most 128 bytes
}

func (p PrepayRequest) validate() error {
	switch {
	case p.Description == "" || utf8.RuneCountInString(p.Description) > 127:
		return fmt.Errorf("%w: description must have 1–127 characters", ErrInvalidRequest)
	case p.NotifyURL == "":
		return fmt.Errorf("%w: notify URL is empty", ErrInvalidRequest)
	case p.Total <= 0:
		return fmt.Errorf("%w: total must be positive fen", ErrInvalidRequest)
	case p.OpenID == "":
		return fmt.Errorf("%w: payer openid is empty", ErrInvalidRequest)
	case len(p.Attach) > 128:
		return fmt.Errorf("%w: attach is over 128 bytes", ErrInvalidRequest)
	}
	return checkOutTradeNo(p.OutTradeNo)
}

type prepayBody struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire,omitempty"`
	Attach      string `json:"attach,omitempty"`
	NotifyURL   string `json:"notify_url"`
	Amount      struct {
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Payer struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
}

// partnerPrepayBody is the service-provider JSAPI order: the payer is
// named by sp_openid when paying in the provider's mini program (sp_appid),
// by sub_openid when paying in the sub-merchant's own (sub_appid).
type partnerPrepayBody struct {
	SpAppID     string `json:"sp_appid"`
	SpMchID     string `json:"sp_mchid"`
	SubAppID    string `json:"sub_appid,omitempty"`
	SubMchID    string `json:"sub_mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire,omitempty"`
	Attach      string `json:"attach,omitempty"`
	NotifyURL   string `json:"notify_url"`
	Amount      struct {
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Payer struct {
		SpOpenID  string `json:"sp_openid,omitempty"`
		SubOpenID string `json:"sub_openid,omitempty"`
	} `json:"payer"`
}

// Prepay places a JSAPI order (POST /v3/pay/transactions/jsapi, or
// /v3/pay/partner/transactions/jsapi for a sub-merchant) and returns its
// prepay_id, valid for two hours. Repeating it with the same OutTradeNo
// and arguments is safe.
func (c *Client) Prepay(ctx context.Context, p PrepayRequest) (string, error) {
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("wechatpay: prepay: %w", err)
	}
	var expire string
	if !p.TimeExpire.IsZero() {
		expire = p.TimeExpire.In(chinaTime).Format(timeLayout)
	}
	cl := call{method: http.MethodPost, path: "/v3/pay/transactions/jsapi"}
	if c.m.Partner() {
		body := partnerPrepayBody{SpAppID: c.m.AppID, SpMchID: c.m.MchID, SubAppID: c.m.SubAppID, SubMchID: c.m.SubMchID,
			Description: p.Description, OutTradeNo: p.OutTradeNo, TimeExpire: expire, Attach: p.Attach, NotifyURL: p.NotifyURL}
		body.Amount.Total, body.Amount.Currency = p.Total, "CNY"
		if c.m.SubAppID != "" {
			body.Payer.SubOpenID = p.OpenID
		} else {
			body.Payer.SpOpenID = p.OpenID
		}
		cl.path, cl.body = "/v3/pay/partner/transactions/jsapi", body
	} else {
		body := prepayBody{AppID: c.m.AppID, MchID: c.m.MchID, Description: p.Description,
			OutTradeNo: p.OutTradeNo, TimeExpire: expire, Attach: p.Attach, NotifyURL: p.NotifyURL}
		body.Amount.Total, body.Amount.Currency = p.Total, "CNY"
		body.Payer.OpenID = p.OpenID
		cl.body = body
	}
	var out struct {
		PrepayID string `json:"prepay_id"`
	}
	if err := c.do(ctx, cl, &out); err != nil {
		return "", err
	}
	if out.PrepayID == "" {
		return "", cl.errorf("response has no prepay_id")
	}
	return out.PrepayID, nil
}

// PaymentParams are the arguments of wx.requestPayment in the mini program;
// the JSON field names are the ones it expects.
type PaymentParams struct {
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`  // "prepay_id=…"
	SignType  string `json:"signType"` // "RSA"
	PaySign   string `json:"paySign"`
}

// RequestPayment builds and signs the wx.requestPayment parameters for a
// prepay_id: paySign is SHA256withRSA over "appId\ntimeStamp\nnonceStr\npackage\n"
// with the merchant's key (the provider's for a sub-merchant), appId being
// the mini program that pays (Merchant.PayingAppID).
func (c *Client) RequestPayment(prepayID string) (PaymentParams, error) {
	if prepayID == "" {
		return PaymentParams{}, fmt.Errorf("wechatpay: request payment: %w: prepay_id is empty", ErrInvalidRequest)
	}
	p := PaymentParams{
		TimeStamp: strconv.FormatInt(c.now().Unix(), 10),
		NonceStr:  newNonce(),
		Package:   "prepay_id=" + prepayID,
		SignType:  "RSA",
	}
	sig, err := signSHA256(c.m.PrivateKey, c.m.PayingAppID()+"\n"+p.TimeStamp+"\n"+p.NonceStr+"\n"+p.Package+"\n")
	if err != nil {
		return PaymentParams{}, fmt.Errorf("wechatpay: request payment: %w", err)
	}
	p.PaySign = sig
	return p, nil
}

// Transaction is an order as WeChat reports it, in a query answer or a
// TRANSACTION.SUCCESS notification. Times are RFC 3339 strings. A direct
// merchant's order has AppID, MchID and Payer.OpenID; a sub-merchant's has
// the Sp*/Sub* fields and Payer.SpOpenID or Payer.SubOpenID instead.
type Transaction struct {
	AppID          string `json:"appid"`
	MchID          string `json:"mchid"`
	SpAppID        string `json:"sp_appid"`
	SpMchID        string `json:"sp_mchid"`
	SubAppID       string `json:"sub_appid"`
	SubMchID       string `json:"sub_mchid"`
	OutTradeNo     string `json:"out_trade_no"`
	TransactionID  string `json:"transaction_id"` // empty until paid
	TradeType      string `json:"trade_type"`
	TradeState     string `json:"trade_state"`
	TradeStateDesc string `json:"trade_state_desc"`
	BankType       string `json:"bank_type"`
	Attach         string `json:"attach"`
	SuccessTime    string `json:"success_time"` // empty until paid
	Payer          struct {
		OpenID    string `json:"openid"`
		SpOpenID  string `json:"sp_openid"`
		SubOpenID string `json:"sub_openid"`
	} `json:"payer"`
	Amount TransactionAmount `json:"amount"`
}

// Owns reports whether t is an order of the client's merchant: the same
// appid and mchid, or for a sub-merchant the same sp_mchid, sp_appid,
// sub_mchid and sub_appid. A verified message for another merchant (or
// another sub-merchant of the same provider) must not be applied.
func (c *Client) Owns(t Transaction) bool {
	if c.m.Partner() {
		return t.SpMchID == c.m.MchID && t.SpAppID == c.m.AppID && t.SubMchID == c.m.SubMchID &&
			t.SubAppID == c.m.SubAppID && t.MchID == "" && t.AppID == ""
	}
	return t.AppID == c.m.AppID && t.MchID == c.m.MchID && t.SubMchID == ""
}

// TransactionAmount is in fen. PayerTotal is what the payer paid after
// discounts.
type TransactionAmount struct {
	Total         int64  `json:"total"`
	PayerTotal    int64  `json:"payer_total"`
	Currency      string `json:"currency"`
	PayerCurrency string `json:"payer_currency"`
}

// QueryOrder fetches an order by its merchant order number. An unknown
// order gives an error for which IsNotFound is true.
func (c *Client) QueryOrder(ctx context.Context, outTradeNo string) (Transaction, error) {
	if err := checkOutTradeNo(outTradeNo); err != nil {
		return Transaction{}, fmt.Errorf("wechatpay: query order: %w", err)
	}
	return c.queryOrder(ctx, c.payPath()+"/out-trade-no/"+url.PathEscape(outTradeNo))
}

// QueryOrderByID fetches an order by WeChat's transaction_id.
func (c *Client) QueryOrderByID(ctx context.Context, transactionID string) (Transaction, error) {
	if err := checkNo(transactionID, "transaction_id", 1, 32, ""); err != nil {
		return Transaction{}, fmt.Errorf("wechatpay: query order: %w", err)
	}
	return c.queryOrder(ctx, c.payPath()+"/id/"+url.PathEscape(transactionID))
}

// payPath is where the merchant's transactions live.
func (c *Client) payPath() string {
	if c.m.Partner() {
		return "/v3/pay/partner/transactions"
	}
	return "/v3/pay/transactions"
}

// merchantIDs names the merchant in a query string or close body:
// mchid, or sp_mchid and sub_mchid.
func (c *Client) merchantIDs() map[string]string {
	if c.m.Partner() {
		return map[string]string{"sp_mchid": c.m.MchID, "sub_mchid": c.m.SubMchID}
	}
	return map[string]string{"mchid": c.m.MchID}
}

func (c *Client) queryOrder(ctx context.Context, path string) (Transaction, error) {
	var t Transaction
	query := url.Values{}
	for k, v := range c.merchantIDs() {
		query.Set(k, v)
	}
	cl := call{method: http.MethodGet, path: path, query: query}
	if err := c.do(ctx, cl, &t); err != nil {
		return Transaction{}, err
	}
	return t, nil
}

// CloseOrder closes an unpaid order so it can no longer be paid. Closing a
// closed order succeeds; closing a paid one fails with code ORDERPAID.
func (c *Client) CloseOrder(ctx context.Context, outTradeNo string) error {
	if err := checkOutTradeNo(outTradeNo); err != nil {
		return fmt.Errorf("wechatpay: close order: %w", err)
	}
	path := c.payPath() + "/out-trade-no/" + url.PathEscape(outTradeNo) + "/close"
	return c.do(ctx, call{method: http.MethodPost, path: path, body: c.merchantIDs()}, nil)
}

func checkOutTradeNo(s string) error { return checkNo(s, "out_trade_no", 6, 32, "_-|*") }

// checkNo checks that s has min..max characters, each a letter, a digit or
// one of extra.
func checkNo(s, name string, min, max int, extra string) error {
	if len(s) < min || len(s) > max {
		return fmt.Errorf("%w: %s must have %d–%d characters", ErrInvalidRequest, name, min, max)
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune(extra, r) {
			return fmt.Errorf("%w: %s has a character outside 0-9 A-Z a-z %s", ErrInvalidRequest, name, extra)
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
}
