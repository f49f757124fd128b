package paysandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Errors of CompleteRefund.
var (
	ErrUnknownRefund = errors.New("paysandbox: no such refund")
	ErrRefundFinal   = errors.New("paysandbox: refund is no longer PROCESSING")
)

// Refund statuses.
const (
	RefundProcessing = "PROCESSING"
	RefundSuccess    = "SUCCESS"
	RefundAbnormal   = "ABNORMAL"
	RefundClosed     = "CLOSED"
)

var refundSummary = map[string]string{RefundSuccess: "退款成功", RefundAbnormal: "退款异常", RefundClosed: "退款关闭"}

type refund struct {
	mchid, outRefundNo, refundID string
	order                        *order
	reason, notifyURL            string
	amount                       int64
	status                       string
	created, finished            time.Time
	eventID                      string
}

type refundRequest struct {
	SubMchID      string `json:"sub_mchid"` // service-provider mode
	TransactionID string `json:"transaction_id"`
	OutTradeNo    string `json:"out_trade_no"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason"`
	NotifyURL     string `json:"notify_url"`
	Amount        struct {
		Refund   int64  `json:"refund"`
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

func (s *Sandbox) createRefund(c *apiCall) result {
	var req refundRequest
	if res, ok := decodeBody(c, &req); !ok {
		return res
	}
	if !validNo(req.OutRefundNo, 1, 64, "_-|*@") || (req.NotifyURL != "" && !validURL(req.NotifyURL)) {
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "out_refund_no 或 notify_url 格式错误")
	}
	if res, ok := s.checkSubMerchant(c, req.SubMchID); !ok {
		return res
	}
	o := s.refundOrder(c.mch.mchid, &req)
	if o == nil {
		return apiError(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在")
	}
	if rf := s.refunds[orderKey(o.owner(), req.OutRefundNo)]; rf != nil {
		return repeatRefund(rf, o, &req)
	}
	if res, ok := checkRefundable(o, &req); !ok {
		return res
	}
	rf := s.newRefund(o, &req)
	s.completeLater(rf.order.owner(), rf.outRefundNo)
	return result{http.StatusOK, rf.json()}
}

// refundOrder finds the order a refund names, by transaction_id first: an
// order of the merchant mchid, or of its sub-merchant req.SubMchID.
func (s *Sandbox) refundOrder(mchid string, req *refundRequest) *order {
	owner := mchid
	if req.SubMchID != "" {
		owner = req.SubMchID
	}
	o := s.orders[orderKey(owner, req.OutTradeNo)]
	if req.TransactionID != "" {
		o = s.transactions[req.TransactionID]
	}
	if o == nil || o.mchid != mchid || o.subMchID != req.SubMchID {
		return nil
	}
	return o
}

// repeatRefund answers a reused out_refund_no: the same refund when the
// request is a retry of it, else an error.
func repeatRefund(rf *refund, o *order, req *refundRequest) result {
	if rf.order != o || rf.amount != req.Amount.Refund {
		return apiError(http.StatusBadRequest, "INVALID_REQUEST", "out_refund_no 已用于另一笔退款")
	}
	return result{http.StatusOK, rf.json()}
}

func checkRefundable(o *order, req *refundRequest) (result, bool) {
	switch {
	case !o.paid():
		return apiError(http.StatusBadRequest, "INVALID_REQUEST", "订单未支付，不能退款"), false
	case req.Amount.Total != o.total:
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "amount.total 与订单金额不一致"), false
	case req.Amount.Refund <= 0:
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "amount.refund 应大于 0"), false
	case req.Amount.Currency != "" && req.Amount.Currency != "CNY":
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "amount.currency 只支持 CNY"), false
	case o.refunded+req.Amount.Refund > o.total:
		msg := fmt.Sprintf("申请退款金额超过订单可退金额 (可退 %d 分)", o.total-o.refunded)
		return apiError(http.StatusBadRequest, "INVALID_REQUEST", msg), false
	}
	return result{}, true
}

func (s *Sandbox) newRefund(o *order, req *refundRequest) *refund {
	rf := &refund{
		mchid: o.mchid, outRefundNo: req.OutRefundNo, refundID: "50" + randomDigits(27),
		order: o, reason: req.Reason, notifyURL: req.NotifyURL,
		amount: req.Amount.Refund, status: RefundProcessing, created: s.now(),
	}
	s.refunds[orderKey(o.owner(), rf.outRefundNo)] = rf
	o.refunded += rf.amount
	o.state = stateRefund
	return rf
}

// json renders the refund as WeChat's Refund object.
func (rf *refund) json() reply {
	r := reply{
		"refund_id": rf.refundID, "out_refund_no": rf.outRefundNo,
		"transaction_id": rf.order.transactionID, "out_trade_no": rf.order.outTradeNo,
		"channel": "ORIGINAL", "user_received_account": "支付用户零钱",
		"create_time": wxTime(rf.created), "status": rf.status, "funds_account": "AVAILABLE",
		"amount": reply{
			"total": rf.order.total, "refund": rf.amount, "payer_total": rf.order.total,
			"payer_refund": rf.amount, "settlement_total": rf.order.total, "settlement_refund": rf.amount,
			"discount_refund": 0, "currency": "CNY",
		},
	}
	if rf.status == RefundSuccess {
		r["success_time"] = wxTime(rf.finished)
	}
	return r
}

func (s *Sandbox) queryRefund(c *apiCall) result {
	sub := c.r.URL.Query().Get("sub_mchid")
	if res, ok := s.checkSubMerchant(c, sub); !ok {
		return res
	}
	owner := c.mch.mchid
	if sub != "" {
		owner = sub
	}
	rf := s.refunds[orderKey(owner, c.r.PathValue("out_refund_no"))]
	if rf == nil || rf.mchid != c.mch.mchid {
		return apiError(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
	}
	return result{http.StatusOK, rf.json()}
}

// CompleteRefund ends a PROCESSING refund with status SUCCESS, ABNORMAL or
// CLOSED (which gives the amount back to the refundable balance) and
// delivers the REFUND.* notification to its notify_url, if it has one.
func (s *Sandbox) CompleteRefund(ctx context.Context, mchid, outRefundNo, status string) (Delivery, error) {
	if _, ok := refundSummary[status]; !ok {
		return Delivery{}, fmt.Errorf("paysandbox: refund status %q, want SUCCESS, ABNORMAL or CLOSED", status)
	}
	s.mu.Lock()
	n, err := s.finishRefund(s.refunds[orderKey(mchid, outRefundNo)], status)
	s.mu.Unlock()
	if err != nil {
		return Delivery{}, err
	}
	return s.deliver(ctx, n), nil
}

func (s *Sandbox) finishRefund(rf *refund, status string) (notice, error) {
	switch {
	case rf == nil:
		return notice{}, ErrUnknownRefund
	case rf.status != RefundProcessing:
		return notice{}, fmt.Errorf("%w: it is %s", ErrRefundFinal, rf.status)
	}
	rf.status, rf.finished, rf.eventID = status, s.now(), newEventID(s.now())
	if status == RefundClosed {
		rf.order.refunded -= rf.amount
	}
	return s.newNotice(rf.mchid, rf.notifyURL, rf.eventID, "REFUND."+status, refundSummary[status], "refund", rf.notice()), nil
}

// notice is the plaintext of the refund's notification.
func (rf *refund) notice() []byte {
	n := reply{
		"out_trade_no": rf.order.outTradeNo, "transaction_id": rf.order.transactionID,
		"out_refund_no": rf.outRefundNo, "refund_id": rf.refundID, "refund_status": rf.status,
		"user_received_account": "支付用户零钱",
		"amount":                reply{"total": rf.order.total, "refund": rf.amount, "payer_total": rf.order.total, "payer_refund": rf.amount},
	}
	if rf.status == RefundSuccess {
		n["success_time"] = wxTime(rf.finished)
	}
	if o := rf.order; o.subMchID != "" {
		n["sp_mchid"], n["sub_mchid"] = o.mchid, o.subMchID
	} else {
		n["mchid"] = rf.mchid
	}
	return encodeJSON(n)
}

// WithRefundsCompletedAfter makes the sandbox complete every new refund
// with SUCCESS (and its notification) after d, as WeChat does once the
// money is back with the buyer: the demo uses it, so a refund does not stay
// PROCESSING until someone calls the complete-refund control.
func WithRefundsCompletedAfter(d time.Duration) Option {
	return func(s *Sandbox) { s.refundAfter = d }
}

// completeLater schedules the automatic completion of a new refund.
func (s *Sandbox) completeLater(mchid, outRefundNo string) {
	if s.refundAfter <= 0 {
		return
	}
	go func() {
		if s.wait(context.Background(), s.refundAfter) {
			_, _ = s.CompleteRefund(context.Background(), mchid, outRefundNo, RefundSuccess)
		}
	}()
}
