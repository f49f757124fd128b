package aftersale

import (
	"strings"
	"time"
)

// BuyerAftersale is an after-sales request as its buyer sees it: no member
// id and no staff account in the log (a step says only who moved it: the
// buyer, the shop or the system).
type BuyerAftersale struct {
	ID           int64       `json:"id"`
	OrderID      int64       `json:"order_id"`
	Amount       int64       `json:"amount" doc:"fen"`
	Reason       string      `json:"reason"`
	Photos       []string    `json:"photos"`
	Status       string      `json:"status" enum:"requested,approved,rejected,cancelled" doc:"requested, approved, rejected or cancelled"`
	RejectReason string      `json:"reject_reason,omitempty"`
	RefundID     int64       `json:"refund_id,omitempty" doc:"the refund an approval sent"`
	CreatedAt    time.Time   `json:"created_at"`
	Steps        []BuyerStep `json:"steps" doc:"the request's history, oldest first"`
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
	photos := r.Photos
	if photos == nil {
		photos = []string{}
	}
	return BuyerAftersale{ID: r.ID, OrderID: r.OrderID, Amount: r.Amount, Reason: r.Reason, Photos: photos, Status: r.Status,
		RejectReason: r.RejectReason, RefundID: r.RefundID, CreatedAt: r.CreatedAt, Steps: steps}
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
