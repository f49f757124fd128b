package sandbox

// The /xpay/ server APIs of the virtual-payment sandbox (see xpay.go);
// handlers run with s.mu held.

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// xpayRequest is the common part of the /xpay/ bodies.
type xpayRequest struct {
	OpenID        string          `json:"openid"`
	Env           json.RawMessage `json:"env"`
	OrderID       string          `json:"order_id"`
	WxOrderID     string          `json:"wx_order_id"`
	RefundOrderID string          `json:"refund_order_id"`
	LeftFee       int64           `json:"left_fee"`
	RefundFee     int64           `json:"refund_fee"`
	RefundReason  string          `json:"refund_reason"`
	ReqFrom       string          `json:"req_from"`
	env           int
}

// xpayCheck checks the token and pay_sig of an xpay call and decodes its
// body; it returns the appid or an error reply.
func (s *Sandbox) xpayCheck(r *http.Request, body []byte, req *xpayRequest) (string, reply) {
	appid, code := s.checkToken(r)
	if code != 0 {
		return "", errReply(code)
	}
	if json.Unmarshal(body, req) != nil {
		return "", errReplyMsg(errXPayParam, "param error: body is not JSON")
	}
	var env int64
	if req.Env == nil || json.Unmarshal(req.Env, &env) != nil || (env != 0 && env != 1) {
		return "", errReplyMsg(errXPayParam, "param error: env must be 0 or 1")
	}
	req.env = int(env)
	keys, ok := s.xp().keys[appid]
	if !ok {
		return "", errReplyMsg(errXPayParam, "param error: virtual payment is not enabled")
	}
	key := keys.AppKey
	if env == wechat.XPayEnvSandbox {
		key = keys.SandboxAppKey
	}
	want := wechat.XPayPaySig(key, r.URL.Path, body)
	if key == "" || !hmac.Equal([]byte(r.URL.Query().Get("pay_sig")), []byte(want)) {
		return "", errReplyMsg(errXPaySignature, "signature error: pay_sig does not verify")
	}
	return appid, nil
}

// findOrder returns the order named by order_id or wx_order_id in env.
func (s *Sandbox) findOrder(appid string, req *xpayRequest) *XPayOrder {
	st := s.xp()
	o := st.orders[appid+"\x00"+req.OrderID]
	if req.OrderID == "" && req.WxOrderID != "" {
		for _, c := range st.orderSeq {
			if c.AppID == appid && c.WxOrderID == req.WxOrderID {
				o = c
			}
		}
	}
	if o == nil || o.Env != req.env {
		return nil
	}
	return o
}

func (s *Sandbox) xpayQueryOrder(r *http.Request, body []byte) reply {
	var req xpayRequest
	appid, bad := s.xpayCheck(r, body, &req)
	if bad != nil {
		return bad
	}
	o := s.findOrder(appid, &req)
	switch {
	case o == nil:
		return errReplyMsg(errXPayParam, "param error: order not exist")
	case req.OpenID != o.OpenID:
		return errReply(errXPayOpenID)
	}
	envType := 1
	if o.Env == wechat.XPayEnvSandbox {
		envType = 2
	}
	return reply{"errcode": 0, "errmsg": "ok", "order": reply{"order_id": o.OutTradeNo, "wx_order_id": o.WxOrderID,
		"status": o.Status, "order_fee": o.OrderFee, "paid_fee": o.PaidFee, "left_fee": o.LeftFee, "refund_fee": o.RefundFee,
		"paid_time": o.PaidTime, "provide_time": o.ProvideTime, "env_type": envType, "biz_type": 0,
		"create_time": o.PaidTime, "update_time": s.now().Unix()}}
}

func (s *Sandbox) xpayNotifyProvideGoods(r *http.Request, body []byte) reply {
	var req xpayRequest
	appid, bad := s.xpayCheck(r, body, &req)
	if bad != nil {
		return bad
	}
	o := s.findOrder(appid, &req)
	switch {
	case o == nil:
		return errReplyMsg(errXPayParam, "param error: order not exist")
	case o.Status == wechat.XPayStatusDelivered:
		return errReply(errXPayRepeat)
	case o.Status != wechat.XPayStatusPaid:
		return errReplyMsg(errXPayParam, fmt.Sprintf("param error: order status %d cannot be delivered", o.Status))
	}
	o.Status, o.ProvideTime = wechat.XPayStatusDelivered, s.now().Unix()
	return reply{"errcode": 0, "errmsg": "ok"}
}

func (s *Sandbox) xpayRefundOrder(r *http.Request, body []byte) reply {
	var req xpayRequest
	appid, bad := s.xpayCheck(r, body, &req)
	if bad != nil {
		return bad
	}
	st := s.xp()
	o := s.findOrder(appid, &req)
	if o == nil {
		return errReplyMsg(errXPayParam, "param error: order not exist")
	}
	if bad := checkRefund(o, &req, st.refunds[appid+"\x00"+req.RefundOrderID]); bad != nil {
		return bad
	}
	ref := &XPayRefund{AppID: appid, OpenID: o.OpenID, OutTradeNo: o.OutTradeNo, RefundOrderID: req.RefundOrderID,
		WxRefundID: "wxr" + randomDigits(20), RefundFee: req.RefundFee, Reason: req.RefundReason, ReqFrom: req.ReqFrom, Status: "pending"}
	st.refunds[appid+"\x00"+ref.RefundOrderID] = ref
	st.refSeq = append(st.refSeq, ref)
	o.LeftFee -= req.RefundFee
	return reply{"errcode": 0, "errmsg": "ok", "refund_order_id": ref.RefundOrderID, "refund_wx_order_id": ref.WxRefundID,
		"pay_order_id": o.OutTradeNo, "pay_wx_order_id": o.WxOrderID}
}

// checkRefund returns an error reply for a refund WeChat would not take.
func checkRefund(o *XPayOrder, req *xpayRequest, same *XPayRefund) reply {
	refundable := o.Status == wechat.XPayStatusPaid || o.Status == wechat.XPayStatusDelivered ||
		o.Status == wechat.XPayStatusRefunded || o.Status == wechat.XPayStatusRefundFailed
	switch {
	case req.OpenID != o.OpenID:
		return errReply(errXPayOpenID)
	case same != nil && same.OutTradeNo == o.OutTradeNo:
		return errReply(errXPayRepeat)
	case same != nil:
		return errReplyMsg(errXPayParam, "param error: refund_order_id is used by another order")
	case o.IOS:
		return errReplyMsg(errXPayParam, "param error: iOS orders are refunded by Apple only")
	case !wechat.ValidXPayTradeNo(req.RefundOrderID):
		return errReplyMsg(errXPayParam, "param error: refund_order_id")
	case !refundable || o.LeftFee <= 0:
		return errReplyMsg(errXPayParam, fmt.Sprintf("param error: order status %d has nothing to refund", o.Status))
	case req.LeftFee != o.LeftFee:
		return errReplyMsg(errXPayParam, fmt.Sprintf("param error: left_fee is %d", o.LeftFee))
	case req.RefundFee <= 0 || req.RefundFee > req.LeftFee:
		return errReplyMsg(errXPayParam, "param error: refund_fee")
	case len(req.RefundReason) != 1 || req.RefundReason < "0" || req.RefundReason > "5":
		return errReplyMsg(errXPayParam, "param error: refund_reason")
	case len(req.ReqFrom) != 1 || req.ReqFrom < "1" || req.ReqFrom > "3":
		return errReplyMsg(errXPayParam, "param error: req_from")
	}
	return nil
}

func (s *Sandbox) xpayQueryUserBalance(r *http.Request, body []byte) reply {
	var req xpayRequest
	appid, bad := s.xpayCheck(r, body, &req)
	if bad != nil {
		return bad
	}
	if !s.users[appid+"\x00"+req.OpenID] {
		return errReply(errXPayOpenID)
	}
	session := s.xp().sessions[appid+"\x00"+req.OpenID]
	if session == "" {
		return errReply(errXPaySessionKey)
	}
	if !hmac.Equal([]byte(r.URL.Query().Get("signature")), []byte(wechat.XPayUserSig(session, body))) {
		return errReplyMsg(errXPaySignature, "signature error: signature does not verify")
	}
	return reply{"errcode": 0, "errmsg": "ok", "balance": 0, "present_balance": 0, "sum_save": 0, "sum_present": 0,
		"sum_balance": 0, "sum_cost": 0, "first_save_flag": false}
}
