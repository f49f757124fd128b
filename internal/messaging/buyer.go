package messaging

import "time"

// BuyerMessage is an inbox message as its buyer sees it.
type BuyerMessage struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind" enum:"order_paid,order_shipped,order_refunded,membership_expiring,level_falling,points_expiring"`
	OrderID   int64     `json:"order_id,omitempty" doc:"the order an order kind is about (absent for notices, which name what to open in page)"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Page      string    `json:"page" doc:"the mini-program page to open"`
	Read      bool      `json:"read"`
	CreatedAt time.Time `json:"created_at"`
}

// Unread is the count of unread inbox messages.
type Unread struct {
	Unread int `json:"unread"`
}

// BuyerSubscriptions is the buyer's standing with the shop's templates.
type BuyerSubscriptions struct {
	Subscriptions []Subscription `json:"subscriptions"`
}

// NextTemplates is which templates to pass to wx.requestSubscribeMessage.
type NextTemplates struct {
	TemplateIDs   []string       `json:"template_ids" doc:"at most 3; empty when there is nothing to ask"`
	Subscriptions []Subscription `json:"subscriptions"`
}
