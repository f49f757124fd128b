package paysandbox

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Service-provider (服务商) mode: a service provider is a merchant with
// keys (AddMerchant or NewMerchant, its mchid and appid being sp_mchid and
// sp_appid); its sub-merchants (AddSubMerchant) have none. Every partner
// call is signed with the provider's key, names sp_mchid (the
// Authorization header's mchid) and sub_mchid (a sub-merchant of that
// provider), and a sub_appid must be bound to the sub_mchid. The payer is
// sp_openid (under sp_appid) or sub_openid (under sub_appid); with
// UseOpenIDs the openid must belong to that appid. Notifications are
// sealed with the provider's APIv3 key and carry sp_*/sub_* fields.

// subMerchant is a 特约商户 of a service provider.
type subMerchant struct {
	spMchID string
	appids  map[string]bool // mini programs bound to it (sub_appid)
}

// AddSubMerchant registers subMchID as a sub-merchant of the service
// provider spMchID (a merchant already added), with the mini programs
// bound to it that may pay as sub_appid. Calling it again adds appids.
func (s *Sandbox) AddSubMerchant(spMchID, subMchID string, subAppIDs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.merchants[spMchID] == nil:
		return fmt.Errorf("paysandbox: no service provider %q", spMchID)
	case subMchID == "" || s.merchants[subMchID] != nil:
		return errors.New("paysandbox: a sub-merchant needs an mchid of its own, not a direct merchant's")
	}
	sm := s.subMerchants[subMchID]
	if sm == nil {
		sm = &subMerchant{spMchID: spMchID, appids: map[string]bool{}}
		s.subMerchants[subMchID] = sm
	}
	if sm.spMchID != spMchID {
		return fmt.Errorf("paysandbox: %s is a sub-merchant of another provider", subMchID)
	}
	for _, a := range subAppIDs {
		sm.appids[a] = true
	}
	return nil
}

// UseOpenIDs makes partner prepays check that the payer's openid belongs
// to the appid it is given under (the WeChat sandbox's HasOpenID, say);
// nil stops checking.
func (s *Sandbox) UseOpenIDs(belongs func(appid, openid string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.openIDs = belongs
}

// checkSubMerchant checks that sub (if set) is a sub-merchant of the
// calling provider.
func (s *Sandbox) checkSubMerchant(c *apiCall, sub string) (result, bool) {
	if sub == "" {
		return result{}, true
	}
	if sm := s.subMerchants[sub]; sm == nil || sm.spMchID != c.mch.mchid {
		return apiError(http.StatusForbidden, "NO_AUTH", "特约商户号与服务商不存在受理关系"), false
	}
	return result{}, true
}

type partnerPrepayRequest struct {
	SpAppID     string `json:"sp_appid"`
	SpMchID     string `json:"sp_mchid"`
	SubAppID    string `json:"sub_appid"`
	SubMchID    string `json:"sub_mchid"`
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
		SpOpenID  string `json:"sp_openid"`
		SubOpenID string `json:"sub_openid"`
	} `json:"payer"`
}

func (s *Sandbox) partnerPrepay(c *apiCall) result {
	var p partnerPrepayRequest
	if res, ok := decodeBody(c, &p); !ok {
		return res
	}
	if res, ok := s.checkPartner(c, &p); !ok {
		return res
	}
	// The direct-mode checks of the common fields.
	d := prepayRequest{AppID: p.SpAppID, MchID: p.SpMchID, Description: p.Description, OutTradeNo: p.OutTradeNo,
		TimeExpire: p.TimeExpire, Attach: p.Attach, NotifyURL: p.NotifyURL, Amount: p.Amount}
	d.Payer.OpenID = p.Payer.SpOpenID + p.Payer.SubOpenID // one of them is empty
	if msg := d.problem(); msg != "" {
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
	if o := s.orders[orderKey(p.SubMchID, p.OutTradeNo)]; o != nil {
		return repeatPrepay(o, &d)
	}
	o := s.newOrderFor(&d, expires, func(o *order) {
		o.subMchID, o.subAppID, o.subOpenID = p.SubMchID, p.SubAppID, p.Payer.SubOpenID != ""
	})
	return result{http.StatusOK, reply{"prepay_id": o.prepayID}}
}

// checkPartner checks what only a partner prepay has: the provider is the
// caller, the sub-merchant is its own, sub_appid is bound to it, exactly
// one openid, under the right appid.
func (s *Sandbox) checkPartner(c *apiCall, p *partnerPrepayRequest) (result, bool) {
	switch {
	case p.SpMchID != c.mch.mchid:
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "sp_mchid 与 Authorization 头中的商户号不一致"), false
	case p.SpAppID != c.mch.appid:
		return apiError(http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "sp_appid 和 sp_mchid 不匹配"), false
	case p.SubMchID == "":
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "sub_mchid 不能为空"), false
	}
	if res, ok := s.checkSubMerchant(c, p.SubMchID); !ok {
		return res, false
	}
	if p.SubAppID != "" && !s.subMerchants[p.SubMchID].appids[p.SubAppID] {
		return apiError(http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "sub_appid 和 sub_mchid 不匹配"), false
	}
	appid, openid := p.SpAppID, p.Payer.SpOpenID
	switch {
	case (p.Payer.SpOpenID == "") == (p.Payer.SubOpenID == ""):
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "payer 需要 sp_openid 或 sub_openid 之一"), false
	case p.Payer.SubOpenID != "" && p.SubAppID == "":
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "sub_openid 需要 sub_appid"), false
	case p.Payer.SubOpenID != "":
		appid, openid = p.SubAppID, p.Payer.SubOpenID
	}
	if s.openIDs != nil && !s.openIDs(appid, openid) {
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "openid 与 appid 不匹配"), false
	}
	return result{}, true
}

// partnerOrder finds the sub-merchant's order the query string and path
// name, after checking sp_mchid and sub_mchid.
func (s *Sandbox) partnerOrder(c *apiCall, find func(sub string) *order) (*order, result, bool) {
	q := c.r.URL.Query()
	if q.Get("sp_mchid") != c.mch.mchid {
		return nil, apiError(http.StatusBadRequest, "PARAM_ERROR", "sp_mchid 参数缺失或与 Authorization 头不一致"), false
	}
	return s.partnerOrderOf(c, q.Get("sub_mchid"), find)
}

func (s *Sandbox) partnerOrderOf(c *apiCall, sub string, find func(sub string) *order) (*order, result, bool) {
	if sub == "" {
		return nil, apiError(http.StatusBadRequest, "PARAM_ERROR", "sub_mchid 不能为空"), false
	}
	if res, ok := s.checkSubMerchant(c, sub); !ok {
		return nil, res, false
	}
	o := find(sub)
	if o == nil || o.mchid != c.mch.mchid || o.subMchID != sub {
		return nil, apiError(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在"), false
	}
	return o, result{}, true
}

func (s *Sandbox) partnerQueryByOutTradeNo(c *apiCall) result {
	o, res, ok := s.partnerOrder(c, func(sub string) *order { return s.orders[orderKey(sub, c.r.PathValue("out_trade_no"))] })
	if !ok {
		return res
	}
	return result{http.StatusOK, o.transaction(o.state)}
}

func (s *Sandbox) partnerQueryByTransactionID(c *apiCall) result {
	o, res, ok := s.partnerOrder(c, func(string) *order { return s.transactions[c.r.PathValue("transaction_id")] })
	if !ok {
		return res
	}
	return result{http.StatusOK, o.transaction(o.state)}
}

func (s *Sandbox) partnerCloseOrder(c *apiCall) result {
	var req struct {
		SpMchID  string `json:"sp_mchid"`
		SubMchID string `json:"sub_mchid"`
	}
	if res, ok := decodeBody(c, &req); !ok {
		return res
	}
	if req.SpMchID != c.mch.mchid {
		return apiError(http.StatusBadRequest, "PARAM_ERROR", "sp_mchid 与 Authorization 头中的商户号不一致")
	}
	if res, ok := s.checkSubMerchant(c, req.SubMchID); !ok || req.SubMchID == "" {
		if ok {
			res = apiError(http.StatusBadRequest, "PARAM_ERROR", "sub_mchid 不能为空")
		}
		return res
	}
	o := s.orders[orderKey(req.SubMchID, c.r.PathValue("out_trade_no"))]
	if o != nil && o.mchid != c.mch.mchid {
		o = nil
	}
	return s.closeOrderOf(o)
}

// partnerTransaction renders a sub-merchant's order as WeChat's partner
// Transaction.
func (o *order) partnerTransaction(state string) reply {
	t := reply{
		"sp_appid": o.appid, "sp_mchid": o.mchid, "sub_mchid": o.subMchID,
		"out_trade_no": o.outTradeNo, "trade_type": "JSAPI",
		"trade_state": state, "trade_state_desc": stateDesc[state], "attach": o.attach,
		"amount": reply{"total": o.total, "currency": "CNY", "payer_currency": "CNY"},
	}
	if o.subAppID != "" {
		t["sub_appid"] = o.subAppID
	}
	if o.transactionID != "" {
		t["transaction_id"], t["bank_type"], t["success_time"] = o.transactionID, "OTHERS", wxTime(o.paidAt)
		if o.subOpenID {
			t["payer"] = reply{"sub_openid": o.openid}
		} else {
			t["payer"] = reply{"sp_openid": o.openid}
		}
		t["amount"] = reply{"total": o.total, "payer_total": o.total, "currency": "CNY", "payer_currency": "CNY"}
	}
	return t
}
