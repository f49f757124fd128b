package paysandbox

import "context"

// PayBeforeNextClose makes the payer pay the order at the worst moment for
// a merchant that is cancelling it: when the close request arrives, the
// order is paid first (its notification is sent), so the close fails with
// ORDERPAID, as when a payment lands between the merchant's query and its
// close.
func (s *Sandbox) PayBeforeNextClose(mchid, outTradeNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.payOnClose == nil {
		s.payOnClose = map[string]bool{}
	}
	s.payOnClose[orderKey(mchid, outTradeNo)] = true
}

// payIfAskedBeforeClose pays o if PayBeforeNextClose asked for it (s.mu
// held); the notification goes out without the lock.
func (s *Sandbox) payIfAskedBeforeClose(o *order) {
	if o == nil || !s.payOnClose[orderKey(o.owner(), o.outTradeNo)] {
		return
	}
	delete(s.payOnClose, orderKey(o.owner(), o.outTradeNo))
	n, err := s.markPaid(o)
	if err != nil {
		return
	}
	go s.deliver(context.Background(), n) // ends with Close (see wait)
}

// RefundRecord is one refund the sandbox holds, for tests that check
// nothing was refunded twice.
type RefundRecord struct {
	MchID       string `json:"mchid"`
	OutTradeNo  string `json:"out_trade_no"`
	OutRefundNo string `json:"out_refund_no"`
	Amount      int64  `json:"amount"`
	Total       int64  `json:"total"`
	Status      string `json:"status"`
}

// RefundRecords lists every refund the sandbox has created.
func (s *Sandbox) RefundRecords() []RefundRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []RefundRecord{}
	for _, rf := range s.refunds {
		out = append(out, RefundRecord{MchID: rf.mchid, OutTradeNo: rf.order.outTradeNo, OutRefundNo: rf.outRefundNo,
			Amount: rf.amount, Total: rf.order.total, Status: rf.status})
	}
	return out
}
