package aftersale

import (
	"strings"
	"time"
)

// Line is one order line of a request, with the quantity asked about and
// its share of what was paid. It shows nothing of other buyers or staff,
// so buyers and staff see the same.
type Line struct {
	OrderLineID int64    `json:"order_line_id"`
	SKUID       int64    `json:"sku_id"`
	Title       string   `json:"title"`
	SpecValues  []string `json:"spec_values"`
	Quantity    int64    `json:"quantity"`
	Amount      int64    `json:"amount" doc:"fen: these units' pro-rata share of what was paid for the line (its amount less its coupon share)"`
}

// BuyerAftersale is an after-sales request as its buyer sees it: no member
// id and no staff account in the log (a step says only who moved it: the
// buyer, the shop or the system).
type BuyerAftersale struct {
	ID                 int64       `json:"id"`
	OrderID            int64       `json:"order_id"`
	Type               string      `json:"type" enum:"refund_only,return_refund,exchange" doc:"refund_only, return_refund or exchange"`
	Lines              []Line      `json:"lines" doc:"the order lines asked about; empty: a refund on the whole order"`
	Amount             int64       `json:"amount" doc:"fen to refund (0 for an exchange)"`
	ReasonCode         string      `json:"reason_code" enum:"quality,damaged,wrong_item,not_as_described,size,missing_parts,not_received,changed_mind,other"`
	Reason             string      `json:"reason"`
	Photos             []string    `json:"photos"`
	Status             string      `json:"status" enum:"requested,approved,rejected,cancelled,buyer_shipped,received,refunded,exchange_shipped,completed,closed" doc:"requested, approved (a return: ship the goods back), rejected, cancelled, buyer_shipped, received, refunded, exchange_shipped (the replacement is on its way), completed or closed (not shipped back in time)"`
	RejectReason       string      `json:"reject_reason,omitempty"`
	RefundID           int64       `json:"refund_id,omitempty" doc:"the refund an approval or a received return sent"`
	ReturnCarrier      string      `json:"return_carrier"`
	ReturnTrackingNo   string      `json:"return_tracking_no"`
	ExchangeCarrier    string      `json:"exchange_carrier"`
	ExchangeTrackingNo string      `json:"exchange_tracking_no"`
	DueAt              *time.Time  `json:"due_at" doc:"when the current step's time limit runs out (UTC); null when it has none"`
	DueAction          string      `json:"due_action,omitempty" enum:"approve,close,receive,complete" doc:"what happens by itself at due_at: approve (the shop did not answer), close (not shipped back), receive (the shop did not confirm receipt: refunded), complete (the replacement counts as received)"`
	CreatedAt          time.Time   `json:"created_at"`
	Steps              []BuyerStep `json:"steps" doc:"the request's history, oldest first"`
}

// BuyerStep is one step of a request's history as its buyer sees it.
type BuyerStep struct {
	By   string    `json:"by" enum:"me,shop,system" doc:"me (the buyer), shop (its staff) or system"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Note string    `json:"note" doc:"the buyer's reason, the shop's reason for a rejection, or what happened"`
	At   time.Time `json:"at"`
}

// Buyer is r as its buyer sees it.
func (r Request) Buyer() BuyerAftersale {
	steps := make([]BuyerStep, len(r.Events))
	for i, e := range r.Events {
		steps[i] = BuyerStep{By: buyerActor(e.Actor), From: e.From, To: e.To, Note: e.Note, At: e.CreatedAt}
	}
	photos, lines := r.Photos, r.Lines
	if photos == nil {
		photos = []string{}
	}
	if lines == nil {
		lines = []Line{}
	}
	return BuyerAftersale{ID: r.ID, OrderID: r.OrderID, Type: r.Type, Lines: lines, Amount: r.Amount, ReasonCode: r.ReasonCode,
		Reason: r.Reason, Photos: photos, Status: r.Status, RejectReason: r.RejectReason, RefundID: r.RefundID,
		ReturnCarrier: r.ReturnCarrier, ReturnTrackingNo: r.ReturnTrackingNo, ExchangeCarrier: r.ExchangeCarrier,
		ExchangeTrackingNo: r.ExchangeTrackingNo, DueAt: r.DueAt, DueAction: r.DueAction, CreatedAt: r.CreatedAt, Steps: steps}
}

// buyerActor hides who exactly acted: only the buyer can be a member here
// (requests are read by their own buyer).
func buyerActor(actor string) string {
	switch {
	case strings.HasPrefix(actor, "member:"):
		return "me"
	case strings.HasPrefix(actor, "staff:"):
		return "shop"
	}
	return "system"
}

// buyerRequests maps requests for their buyer.
func buyerRequests(rows []Request) []BuyerAftersale {
	out := make([]BuyerAftersale, len(rows))
	for i, r := range rows {
		out[i] = r.Buyer()
	}
	return out
}
