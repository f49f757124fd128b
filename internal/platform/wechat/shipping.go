package wechat

import (
	"context"
	"errors"
	"time"
)

// Logistics types of upload_shipping_info.
const (
	LogisticsExpress  = 1 // 实体物流 (express, with tracking numbers)
	LogisticsSameCity = 2 // 同城配送
	LogisticsVirtual  = 3 // 虚拟商品
	LogisticsPickup   = 4 // 用户自提
)

// Delivery modes of upload_shipping_info.
const (
	DeliveryUnified = 1 // all items in one shipment: exactly one shipping_list entry
	DeliverySplit   = 2 // several packages (express only)
)

// Order key types: which payment a shipment belongs to.
const (
	OrderKeyOutTradeNo    = 1 // mchid + out_trade_no
	OrderKeyTransactionID = 2 // transaction_id
)

// ShippingInfo is the body of upload_shipping_info (小程序发货信息管理).
type ShippingInfo struct {
	OrderKey       OrderKey       `json:"order_key"`
	LogisticsType  int            `json:"logistics_type"`
	DeliveryMode   int            `json:"delivery_mode"`
	IsAllDelivered *bool          `json:"is_all_delivered,omitempty"` // split mode only
	ShippingList   []ShippingItem `json:"shipping_list"`
	UploadTime     string         `json:"upload_time"` // RFC 3339, see ShippingTime
	Payer          Payer          `json:"payer"`
}

// OrderKey names the WeChat Pay payment that is shipped.
type OrderKey struct {
	OrderNumberType int    `json:"order_number_type"`
	TransactionID   string `json:"transaction_id,omitempty"`
	MchID           string `json:"mchid,omitempty"`
	OutTradeNo      string `json:"out_trade_no,omitempty"`
}

// ShippingItem is one package; virtual goods and self-pickup send one
// item with only ItemDesc.
type ShippingItem struct {
	TrackingNo     string   `json:"tracking_no,omitempty"`
	ExpressCompany string   `json:"express_company,omitempty"` // a get_delivery_list delivery_id, e.g. "SF"
	ItemDesc       string   `json:"item_desc"`                 // at most 120 characters
	Contact        *Contact `json:"contact,omitempty"`         // required for SF
}

// Contact is a masked phone number ("+86-177****1234").
type Contact struct {
	ConsignorContact string `json:"consignor_contact,omitempty"`
	ReceiverContact  string `json:"receiver_contact,omitempty"`
}

// Payer is the openid that paid.
type Payer struct {
	OpenID string `json:"openid"`
}

var chinaTime = time.FixedZone("CST", 8*3600)

// ShippingTime formats t as upload_time: RFC 3339 with milliseconds in
// China time ("2022-12-15T13:29:35.120+08:00").
func ShippingTime(t time.Time) string { return t.In(chinaTime).Format("2006-01-02T15:04:05.000-07:00") }

// UploadShippingInfo reports a shipment of a WeChat Pay order (POST
// /wxa/sec/order/upload_shipping_info). Until it is reported the payment
// stays frozen and the buyer is reminded.
func (c *Client) UploadShippingInfo(ctx context.Context, app App, info ShippingInfo) error {
	var out struct{}
	return c.withToken(ctx, app, func(token string) error {
		return c.call(ctx, tokenRequest(app, token, "/wxa/sec/order/upload_shipping_info", info), &out)
	})
}

// Shipping errcodes kaidian acts on.
const (
	ErrShipNoPayment      = 10060001 // no such payment, or not visible yet (about a minute after paying)
	ErrShipAlreadyShipped = 10060002 // the same shipping info is already recorded
	ErrShipReshipUsed     = 10060003 // the one re-ship chance is used
	ErrShipNotShippable   = 10060004 // e.g. refunded, or a virtual order completed on its own
)

// IsShippingDone reports whether err means WeChat already holds this
// shipment (10060002): a retry of an upload that had succeeded.
func IsShippingDone(err error) bool { return hasCode(err, ErrShipAlreadyShipped) }

// IsTransient reports whether a call may succeed later unchanged: WeChat
// busy (-1, 10060012, 10060019), a quota (45009, 45011), or no answer at
// all (timeout, refused or broken connection) other than the caller
// cancelling or a request refused before it was sent (ErrXPayInvalid). Other errcodes are definite answers.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrXPayInvalid) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return hasCode(err, -1, 10060012, 10060019, 45009, 45011)
	}
	return true
}
