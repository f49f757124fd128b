package wechatpay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Refund statuses. PROCESSING ends in one of the other three; ABNORMAL
// needs the merchant's attention (e.g. the payer's card was closed).
const (
	RefundStatusSuccess    = "SUCCESS"
	RefundStatusClosed     = "CLOSED"
	RefundStatusProcessing = "PROCESSING"
	RefundStatusAbnormal   = "ABNORMAL"
)

// RefundRequest refunds part or all of a paid order. Name the order by
// OutTradeNo or TransactionID. Amounts are in fen.
type RefundRequest struct {
	OutTradeNo    string
	TransactionID string
	OutRefundNo   string // unique per merchant: 1–64 of 0-9 A-Z a-z _ - | * @; reuse it to retry
	Reason        string // optional; shown to the payer
	NotifyURL     string // optional; receives the refund notification
	Refund        int64  // amount to refund, > 0
	Total         int64  // the order's total
}

func (r RefundRequest) validate() error {
	switch {
	case r.OutTradeNo == "" && r.TransactionID == "":
		return fmt.Errorf("%w: name the order by out_trade_no or transaction_id", ErrInvalidRequest)
	case r.Refund <= 0 || r.Total <= 0 || r.Refund > r.Total:
		return fmt.Errorf("%w: refund must be positive and at most the total", ErrInvalidRequest)
	case r.OutTradeNo != "":
		if err := checkOutTradeNo(r.OutTradeNo); err != nil {
			return err
		}
	}
	return checkOutRefundNo(r.OutRefundNo)
}

type refundBody struct {
	SubMchID      string `json:"sub_mchid,omitempty"` // service-provider mode
	TransactionID string `json:"transaction_id,omitempty"`
	OutTradeNo    string `json:"out_trade_no,omitempty"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason,omitempty"`
	NotifyURL     string `json:"notify_url,omitempty"`
	Amount        struct {
		Refund   int64  `json:"refund"`
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// Refund is a refund as WeChat reports it. Times are RFC 3339 strings.
type Refund struct {
	RefundID            string       `json:"refund_id"`
	OutRefundNo         string       `json:"out_refund_no"`
	TransactionID       string       `json:"transaction_id"`
	OutTradeNo          string       `json:"out_trade_no"`
	Channel             string       `json:"channel"`
	UserReceivedAccount string       `json:"user_received_account"`
	SuccessTime         string       `json:"success_time"`
	CreateTime          string       `json:"create_time"`
	Status              string       `json:"status"`
	FundsAccount        string       `json:"funds_account"`
	Amount              RefundAmount `json:"amount"`
}

// RefundAmount is in fen.
type RefundAmount struct {
	Total       int64  `json:"total"`
	Refund      int64  `json:"refund"`
	PayerTotal  int64  `json:"payer_total"`
	PayerRefund int64  `json:"payer_refund"`
	Currency    string `json:"currency"`
}

// Refund applies for a refund (POST /v3/refund/domestic/refunds). It
// usually answers PROCESSING; the final status arrives by notification or
// QueryRefund. WeChat refuses refunds beyond what is left of the order.
func (c *Client) Refund(ctx context.Context, r RefundRequest) (Refund, error) {
	if err := r.validate(); err != nil {
		return Refund{}, fmt.Errorf("wechatpay: refund: %w", err)
	}
	body := refundBody{SubMchID: c.m.SubMchID, TransactionID: r.TransactionID, OutTradeNo: r.OutTradeNo,
		OutRefundNo: r.OutRefundNo, Reason: r.Reason, NotifyURL: r.NotifyURL}
	body.Amount.Refund, body.Amount.Total, body.Amount.Currency = r.Refund, r.Total, "CNY"
	var out Refund
	cl := call{method: http.MethodPost, path: "/v3/refund/domestic/refunds", body: body}
	if err := c.do(ctx, cl, &out); err != nil {
		return Refund{}, err
	}
	return out, nil
}

// QueryRefund fetches a refund by its merchant refund number.
func (c *Client) QueryRefund(ctx context.Context, outRefundNo string) (Refund, error) {
	if err := checkOutRefundNo(outRefundNo); err != nil {
		return Refund{}, fmt.Errorf("wechatpay: query refund: %w", err)
	}
	var out Refund
	cl := call{method: http.MethodGet, path: "/v3/refund/domestic/refunds/" + url.PathEscape(outRefundNo)}
	if c.m.Partner() {
		cl.query = url.Values{"sub_mchid": {c.m.SubMchID}}
	}
	if err := c.do(ctx, cl, &out); err != nil {
		return Refund{}, err
	}
	return out, nil
}

func checkOutRefundNo(s string) error { return checkNo(s, "out_refund_no", 1, 64, "_-|*@") }
