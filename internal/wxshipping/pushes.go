package wxshipping

import (
	"context"
	"encoding/json"

	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// Events of WeChat's shipping management (小程序发货信息管理) pushed to
// the shop's message-push URL.
const (
	SettlementEvent     = "trade_manage_order_settlement"
	RemindShippingEvent = "trade_manage_remind_shipping"
)

// settlementPush is trade_manage_order_settlement: sent at shipping (with
// the estimated settlement time) and at settlement (with how and when the
// receipt was confirmed and when the money was settled). Times are Unix
// seconds.
type settlementPush struct {
	TransactionID           string      `json:"transaction_id"`
	MerchantTradeNo         string      `json:"merchant_trade_no"`
	EstimatedSettlementTime json.Number `json:"estimated_settlement_time"`
	ConfirmReceiveMethod    json.Number `json:"confirm_receive_method"`
	ConfirmReceiveTime      json.Number `json:"confirm_receive_time"`
	SettlementTime          json.Number `json:"settlement_time"`
}

// SettlementPushed records what WeChat says about an order's money. Only
// a safe-mode push is believed: a plain-mode signature does not cover the
// body, so anyone could claim an order settled. Repeats change nothing.
func (s *Service) SettlementPushed(ctx context.Context, shopID int64, p wechat.Push) error {
	var ev settlementPush
	if err := p.Decode(&ev); err != nil || ev.TransactionID == "" {
		s.log.Warn("WeChat settlement push without a transaction id", "shop", shopID)
		return nil
	}
	if !p.Encrypted {
		s.log.Warn("WeChat settlement push in plain mode ignored: set the message push to safe mode (安全模式) with an EncodingAESKey",
			"shop", shopID, "transaction_id", ev.TransactionID)
		return nil
	}
	method, _ := ev.ConfirmReceiveMethod.Int64()
	res, err := s.db.Exec(ctx, `UPDATE wx_shipping_uploads SET
		estimated_settlement_at = COALESCE(?, estimated_settlement_at),
		confirm_receive_method = CASE WHEN ? > 0 THEN ? ELSE confirm_receive_method END,
		receipt_confirmed_at = COALESCE(?, receipt_confirmed_at),
		settled_at = COALESCE(?, settled_at), updated_at = ?
		WHERE shop_id = ? AND transaction_id = ?`,
		unixMillis(ev.EstimatedSettlementTime), method, method, unixMillis(ev.ConfirmReceiveTime),
		unixMillis(ev.SettlementTime), s.now().UnixMilli(), shopID, ev.TransactionID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		s.log.Warn("WeChat settlement push for a payment with no shipping report here", "shop", shopID, "transaction_id", ev.TransactionID)
	}
	return nil
}

// RemindShippingPushed is trade_manage_remind_shipping: WeChat tells the
// merchant that a paid order has gone 48 hours without a shipment report.
// It is logged for the operator's alerting; the orders screen already
// lists what is unshipped.
func (s *Service) RemindShippingPushed(ctx context.Context, shopID int64, p wechat.Push) error {
	var ev settlementPush
	_ = p.Decode(&ev)
	s.log.Warn("WeChat reminds: a paid order has had no shipping report for 48 hours",
		"shop", shopID, "transaction_id", ev.TransactionID, "merchant_trade_no", ev.MerchantTradeNo)
	return nil
}

// unixMillis turns a pushed Unix-seconds time into stored milliseconds
// (nil when absent or zero).
func unixMillis(n json.Number) any {
	sec, err := n.Int64()
	if err != nil || sec <= 0 {
		return nil
	}
	return sec * 1000
}
