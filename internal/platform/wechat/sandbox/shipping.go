package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// Order-shipping (发货信息管理) errcodes, as WeChat documents them.
const (
	errShipNoPayment      = 10060001 // no such payment (also: not visible yet, ~1 min after paying)
	errShipAlreadyShipped = 10060002 // the same shipping info again: treat as success
	errShipReshipUsed     = 10060003 // the one re-ship chance is used
	errShipNotShippable   = 10060004
	errShipLogisticsType  = 10060005
	errShipSplitExpress   = 10060006
	errShipAllDelivered   = 10060007
	errShipItemDescEmpty  = 10060008
	errShipItemDescLong   = 10060009
	errShipParam          = 10060014
	errShipListLong       = 10060024
	errShipPayer          = 10060031
	errShipNumberType     = 268485194
	errShipTransactionID  = 268485195
	errShipMchID          = 268485196
	errShipOutTradeNo     = 268485197
	errShipUploadTime     = 268485216
	errShipDeliveryMode   = 268485224
	errShipTrackingNo     = 268485226
	errShipCompany        = 268485227
	errShipUnifiedList    = 268485228
)

func init() {
	for code, msg := range map[int]string{
		errShipNoPayment: "支付单不存在", errShipAlreadyShipped: "订单已发货", errShipReshipUsed: "订单已使用过重新发货机会",
		errShipNotShippable: "订单状态不支持发货", errShipLogisticsType: "物流模式错误", errShipSplitExpress: "分拆发货仅支持快递",
		errShipAllDelivered: "分拆发货需填写 is_all_delivered", errShipItemDescEmpty: "商品描述为空",
		errShipItemDescLong: "商品描述超过 120 字", errShipParam: "参数错误", errShipListLong: "物流信息列表过长",
		errShipPayer: "支付者信息与支付单不符", errShipNumberType: "order_number_type 错误", errShipTransactionID: "缺少 transaction_id",
		errShipMchID: "缺少 mchid", errShipOutTradeNo: "缺少 out_trade_no", errShipUploadTime: "upload_time 错误",
		errShipDeliveryMode: "delivery_mode 错误", errShipTrackingNo: "运单号为空", errShipCompany: "快递公司为空",
		errShipUnifiedList: "统一发货时物流信息列表长度必须为 1",
		10060012:           "系统繁忙，请稍后重试", 10060019: "系统繁忙，请稍后重试",
	} {
		errMessages[code] = msg
	}
}

const (
	maxItemDescRunes  = 120
	maxTrackingNo     = 128
	maxSplitPackages  = 15
	shippingUploadAPI = "/wxa/sec/order/upload_shipping_info"
)

// expressCompanies are delivery_id codes of get_delivery_list that the
// sandbox accepts as express_company (a sample of WeChat's ~1,500).
var expressCompanies = []string{"SF", "YTO", "ZTO", "STO", "YD", "JTSD", "EMS", "JD", "DBL", "ZJS", "YZPY", "HTKY"}

// maskedContact is a phone number masked as WeChat requires for SF: the
// last four digits in clear, some digits before them hidden by '*'.
var maskedContact = regexp.MustCompile(`^[+0-9\- ]*\*{3,}[0-9]{4}$`)

// Payments finds paid WeChat Pay orders: *paysandbox.Sandbox.
type Payments interface {
	PaidOrder(transactionID, mchid, outTradeNo string) (paysandbox.PaidOrder, bool)
}

// UsePayments connects the pay sandbox whose orders upload_shipping_info
// ships. Without it every upload answers 10060001 (no such payment).
func (s *Sandbox) UsePayments(p Payments) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payments = p
}

// SetPaymentDelay hides payments from the shipping APIs for d after they
// are paid, as WeChat does for about a minute (default 0).
func (s *Sandbox) SetPaymentDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paymentDelay = d
}

// ShippingItem is one element of shipping_list.
type ShippingItem struct {
	TrackingNo       string `json:"tracking_no,omitempty"`
	ExpressCompany   string `json:"express_company,omitempty"`
	ItemDesc         string `json:"item_desc"`
	ConsignorContact string `json:"consignor_contact,omitempty"`
	ReceiverContact  string `json:"receiver_contact,omitempty"`
}

// ShippingUpload is an upload_shipping_info call WeChat accepted.
type ShippingUpload struct {
	AppID          string         `json:"appid"`
	TransactionID  string         `json:"transaction_id"` // of the payment it ships, however it was named
	MchID          string         `json:"mchid"`
	OutTradeNo     string         `json:"out_trade_no"`
	OrderKeyType   int            `json:"order_number_type"`
	LogisticsType  int            `json:"logistics_type"`
	DeliveryMode   int            `json:"delivery_mode"`
	IsAllDelivered bool           `json:"is_all_delivered"`
	Items          []ShippingItem `json:"shipping_list"`
	UploadTime     string         `json:"upload_time"`
	PayerOpenID    string         `json:"payer_openid"`
	Reship         bool           `json:"reship"` // used the one re-ship chance
}

// shipment is what WeChat knows about one payment's shipping.
type shipment struct {
	uploads    []ShippingUpload
	lastTime   time.Time
	content    string // the shipping info of the last upload, to spot a repeat
	reshipUsed bool
}

// ShippingUploads returns the accepted uploads of appid, oldest first.
func (s *Sandbox) ShippingUploads(appid string) []ShippingUpload {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ShippingUpload
	for _, sh := range s.shipments {
		for _, u := range sh.uploads {
			if u.AppID == appid {
				out = append(out, u)
			}
		}
	}
	slices.SortFunc(out, func(a, b ShippingUpload) int { return strings.Compare(a.UploadTime, b.UploadTime) })
	return out
}

// shippingRequest is the body of upload_shipping_info. Empty strings count
// as absent, as some SDKs send every field.
type shippingRequest struct {
	OrderKey struct {
		OrderNumberType int    `json:"order_number_type"`
		TransactionID   string `json:"transaction_id"`
		MchID           string `json:"mchid"`
		OutTradeNo      string `json:"out_trade_no"`
	} `json:"order_key"`
	LogisticsType  int   `json:"logistics_type"`
	DeliveryMode   int   `json:"delivery_mode"`
	IsAllDelivered *bool `json:"is_all_delivered"`
	ShippingList   []struct {
		TrackingNo     string `json:"tracking_no"`
		ExpressCompany string `json:"express_company"`
		ItemDesc       string `json:"item_desc"`
		Contact        struct {
			ConsignorContact string `json:"consignor_contact"`
			ReceiverContact  string `json:"receiver_contact"`
		} `json:"contact"`
	} `json:"shipping_list"`
	UploadTime string `json:"upload_time"`
	Payer      struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
}

// uploadShippingInfo implements POST /wxa/sec/order/upload_shipping_info.
func (s *Sandbox) uploadShippingInfo(r *http.Request, body []byte) reply {
	appid, code := s.checkToken(r)
	if code != 0 {
		return errReply(code)
	}
	var req shippingRequest
	if json.Unmarshal(body, &req) != nil {
		return errReply(errDataFormat)
	}
	if code := req.problem(); code != 0 {
		return errReply(code)
	}
	uploadTime, err := time.Parse(time.RFC3339, req.UploadTime)
	if err != nil {
		return errReply(errShipUploadTime)
	}
	paid, code := s.shippablePayment(appid, &req)
	if code != 0 {
		return errReply(code)
	}
	return s.recordShipment(appid, paid, &req, uploadTime)
}

// problem checks the fields in the order WeChat's error table lists them.
func (req *shippingRequest) problem() int {
	k := req.OrderKey
	switch {
	case k.OrderNumberType != 1 && k.OrderNumberType != 2:
		return errShipNumberType
	case k.OrderNumberType == 2 && k.TransactionID == "":
		return errShipTransactionID
	case k.OrderNumberType == 1 && k.MchID == "":
		return errShipMchID
	case k.OrderNumberType == 1 && k.OutTradeNo == "":
		return errShipOutTradeNo
	case req.LogisticsType < 1 || req.LogisticsType > 4:
		return errShipLogisticsType
	case req.DeliveryMode != 1 && req.DeliveryMode != 2:
		return errShipDeliveryMode
	case req.DeliveryMode == 2 && req.LogisticsType != 1:
		return errShipSplitExpress
	case req.DeliveryMode == 2 && req.IsAllDelivered == nil:
		return errShipAllDelivered
	case req.DeliveryMode == 1 && len(req.ShippingList) != 1:
		return errShipUnifiedList
	case len(req.ShippingList) == 0:
		return errShipParam
	case len(req.ShippingList) > maxSplitPackages:
		return errShipListLong
	case req.Payer.OpenID == "":
		return errShipParam
	}
	for _, it := range req.ShippingList {
		if code := itemProblem(req.LogisticsType, it.ItemDesc, it.TrackingNo, it.ExpressCompany,
			it.Contact.ConsignorContact, it.Contact.ReceiverContact); code != 0 {
			return code
		}
	}
	return 0
}

// itemProblem checks one package: a description always; for express a
// tracking number and a known carrier code, and for SF a masked contact.
func itemProblem(logisticsType int, desc, trackingNo, company, consignor, receiver string) int {
	switch n := utf8.RuneCountInString(desc); {
	case n == 0:
		return errShipItemDescEmpty
	case n > maxItemDescRunes:
		return errShipItemDescLong
	}
	if logisticsType != 1 {
		return 0
	}
	contact := receiver
	if contact == "" {
		contact = consignor
	}
	switch {
	case trackingNo == "":
		return errShipTrackingNo
	case company == "":
		return errShipCompany
	case len(trackingNo) > maxTrackingNo, !slices.Contains(expressCompanies, company):
		return errShipParam
	case company == "SF" && contact == "":
		return errShipParam
	case contact != "" && !maskedContact.MatchString(contact):
		return errShipParam
	}
	return 0
}

// shippablePayment finds the paid order the request names.
func (s *Sandbox) shippablePayment(appid string, req *shippingRequest) (paysandbox.PaidOrder, int) {
	if s.payments == nil {
		return paysandbox.PaidOrder{}, errShipNoPayment
	}
	k := req.OrderKey
	txID := ""
	if k.OrderNumberType == 2 {
		txID = k.TransactionID
	}
	paid, ok := s.payments.PaidOrder(txID, k.MchID, k.OutTradeNo)
	switch {
	case !ok || paid.AppID != appid || s.now().Before(paid.PaidAt.Add(s.paymentDelay)):
		return paid, errShipNoPayment
	case paid.OpenID != req.Payer.OpenID:
		return paid, errShipPayer
	case paid.Refunded >= paid.Total:
		return paid, errShipNotShippable
	}
	return paid, 0
}

// recordShipment applies WeChat's re-upload rules: the same info again is
// "already shipped"; different info uses the one re-ship chance; upload
// times must increase.
func (s *Sandbox) recordShipment(appid string, paid paysandbox.PaidOrder, req *shippingRequest, at time.Time) reply {
	content := shippingContent(req)
	sh := s.shipments[paid.TransactionID]
	reship := false
	if sh != nil {
		switch {
		case content == sh.content:
			return errReply(errShipAlreadyShipped)
		case !at.After(sh.lastTime):
			return errReply(errShipUploadTime)
		case sh.reshipUsed:
			return errReply(errShipReshipUsed)
		}
		reship = true
	} else {
		sh = &shipment{}
		s.shipments[paid.TransactionID] = sh
	}
	sh.lastTime, sh.content, sh.reshipUsed = at, content, sh.reshipUsed || reship
	up := ShippingUpload{AppID: appid, TransactionID: paid.TransactionID, MchID: paid.MchID, OutTradeNo: paid.OutTradeNo,
		OrderKeyType: req.OrderKey.OrderNumberType, LogisticsType: req.LogisticsType, DeliveryMode: req.DeliveryMode,
		IsAllDelivered: req.IsAllDelivered != nil && *req.IsAllDelivered, UploadTime: req.UploadTime,
		PayerOpenID: req.Payer.OpenID, Reship: reship}
	for _, it := range req.ShippingList {
		up.Items = append(up.Items, ShippingItem{TrackingNo: it.TrackingNo, ExpressCompany: it.ExpressCompany,
			ItemDesc: it.ItemDesc, ConsignorContact: it.Contact.ConsignorContact, ReceiverContact: it.Contact.ReceiverContact})
	}
	sh.uploads = append(sh.uploads, up)
	return reply{"errcode": 0, "errmsg": "ok"}
}

// shippingContent is the part of a request that says how the order ships.
func shippingContent(req *shippingRequest) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode([]any{req.LogisticsType, req.DeliveryMode, req.IsAllDelivered, req.ShippingList})
	return b.String()
}
