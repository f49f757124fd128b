package paysandbox

import "time"

// PaidOrder is a paid WeChat Pay order as WeChat's other services see it
// (the mini-program shipping APIs look payments up by these keys).
type PaidOrder struct {
	AppID, MchID, OutTradeNo, TransactionID, OpenID string
	Description                                     string // as the prepay sent it
	Total, Refunded                                 int64  // fen
	PaidAt                                          time.Time
}

// PaidOrder finds a paid order by transaction_id or, if that is empty, by
// mchid (a sub-merchant's sub_mchid for its orders) and out_trade_no. Unpaid and closed orders are not found.
func (s *Sandbox) PaidOrder(transactionID, mchid, outTradeNo string) (PaidOrder, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderKey(mchid, outTradeNo)]
	if transactionID != "" {
		o = s.transactions[transactionID]
	}
	if o == nil || !o.paid() {
		return PaidOrder{}, false
	}
	return PaidOrder{AppID: o.payingAppID(), MchID: o.owner(), OutTradeNo: o.outTradeNo, TransactionID: o.transactionID,
		OpenID: o.openid, Description: o.description, Total: o.total, Refunded: o.refunded, PaidAt: o.paidAt}, true
}
