package sandbox

// The /sandbox/xpay-… control endpoints (documented in xpay.go).

import (
	"errors"

	"github.com/kaidian/kaidian/internal/platform/wechat"
)

type appReq struct {
	AppID string `json:"appid"`
	Count int    `json:"count"`
}

func (r appReq) count() int { return max(r.Count, 1) }

func (s *Sandbox) ctlXPayApp(body []byte) (any, error) {
	var req struct {
		AppID         string `json:"appid"`
		OfferID       string `json:"offer_id"`
		AppKey        string `json:"app_key"`
		SandboxAppKey string `json:"sandbox_app_key"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.AppID == "" || req.OfferID == "" || (req.AppKey == "" && req.SandboxAppKey == "") {
		return nil, errors.New("need appid, offer_id and an app_key or sandbox_app_key")
	}
	s.SetXPayKeys(req.AppID, wechat.XPayKeys{OfferID: req.OfferID, AppKey: req.AppKey, SandboxAppKey: req.SandboxAppKey})
	return reply{}, nil
}

func (s *Sandbox) ctlXPayItem(body []byte) (any, error) {
	var req struct {
		AppID     string `json:"appid"`
		ProductID string `json:"product_id"`
		Price     int64  `json:"price"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return reply{}, s.AddXPayItem(req.AppID, req.ProductID, req.Price)
}

func (s *Sandbox) ctlXPayPushTarget(body []byte) (any, error) {
	var req struct {
		AppID          string `json:"appid"`
		URL            string `json:"url"`
		Token          string `json:"token"`
		EncodingAESKey string `json:"encoding_aes_key"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.AppID == "" || req.URL == "" || req.Token == "" {
		return nil, errors.New("need appid, url and token")
	}
	s.SetPushTarget(req.AppID, PushTarget{URL: req.URL, Token: req.Token, EncodingAESKey: req.EncodingAESKey})
	return reply{}, nil
}

func (s *Sandbox) ctlXPayPay(body []byte) (any, error) {
	var req struct {
		AppID  string `json:"appid"`
		OpenID string `json:"openid"`
		wechat.VirtualPaymentParams
		// Params is the same four fields as one object (what a server's
		// checkout answers), an alternative to giving them at the top.
		Params *wechat.VirtualPaymentParams `json:"params"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.Params != nil {
		req.VirtualPaymentParams = *req.Params
	}
	o, err := s.XPayPay(req.AppID, req.OpenID, req.VirtualPaymentParams)
	var pe *XPayPayError
	if errors.As(err, &pe) {
		return reply{"errCode": pe.Code, "errMsg": "requestVirtualPayment:fail " + pe.Msg}, nil
	}
	return reply{"errCode": 0, "errMsg": "requestVirtualPayment:ok", "order": o}, nil
}

func (s *Sandbox) ctlXPayDeliver(body []byte) (any, error) {
	var req appReq
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return reply{"acked": s.DeliverXPayPushes(req.AppID)}, nil
}

func (s *Sandbox) ctlXPaySettle(body []byte) (any, error) {
	var req struct {
		AppID string `json:"appid"`
		Fail  bool   `json:"fail"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return reply{"settled": s.SettleXPayRefunds(req.AppID, req.Fail)}, nil
}

func (s *Sandbox) ctlXPayDuplicate(body []byte) (any, error) {
	var req struct {
		AppID      string `json:"appid"`
		OutTradeNo string `json:"out_trade_no"`
		Times      int    `json:"times"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.Times < 1 || req.Times > 100 {
		return nil, errors.New("times must be 1 to 100")
	}
	n, err := s.DuplicateXPayPush(req.AppID, req.OutTradeNo, req.Times)
	if err != nil {
		return nil, err
	}
	return reply{"acked": n}, nil
}

func (s *Sandbox) ctlXPayFault(body []byte, set func(string, int)) (any, error) {
	var req appReq
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	set(req.AppID, req.count())
	return reply{}, nil
}

func (s *Sandbox) ctlXPayDrop(body []byte) (any, error) {
	return s.ctlXPayFault(body, s.DropXPayPushes)
}

func (s *Sandbox) ctlXPayDelay(body []byte) (any, error) {
	return s.ctlXPayFault(body, s.DelayXPayPushes)
}

func (s *Sandbox) ctlXPayBadToken(body []byte) (any, error) {
	return s.ctlXPayFault(body, s.BadTokenXPayPushes)
}

func (s *Sandbox) ctlXPayIOS(body []byte) (any, error) {
	var req struct {
		AppID string `json:"appid"`
		On    bool   `json:"on"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	s.SetXPayIOS(req.AppID, req.On)
	return reply{}, nil
}

func (s *Sandbox) ctlXPayExpireSession(body []byte) (any, error) {
	var req struct {
		AppID  string `json:"appid"`
		OpenID string `json:"openid"`
	}
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	if req.OpenID == "" {
		req.OpenID = defaultOpenID(req.AppID)
	}
	s.ExpireXPaySession(req.AppID, req.OpenID)
	return reply{}, nil
}

func (s *Sandbox) ctlXPayOrders(body []byte) (any, error) {
	var req appReq
	if err := decodeControl(body, &req); err != nil {
		return nil, err
	}
	return reply{"orders": s.XPayOrders(req.AppID), "refunds": s.XPayRefunds(req.AppID)}, nil
}
