package order

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/pricing"
)

// BuyerOrder is an order as its buyer sees it. It is its own type, not
// the staff Order with fields blanked: a field added to Order for staff
// (a note, the event log, who changed what) never reaches a buyer unless
// it is added here on purpose.
type BuyerOrder struct {
	ID             int64           `json:"id"`
	OrderNo        string          `json:"order_no"`
	Status         Status          `json:"status"`
	GoodsAmount    int64           `json:"goods_amount" doc:"fen"`
	ShippingFee    int64           `json:"shipping_fee" doc:"fen"`
	DiscountAmount int64           `json:"discount_amount" doc:"fen: the coupon's, on goods and shipping"`
	PointsUsed     int64           `json:"points_used" doc:"points I spent on this order"`
	PointsDiscount int64           `json:"points_discount" doc:"fen my points took off"`
	TotalAmount    int64           `json:"total_amount" doc:"fen: what the buyer pays"`
	PaidAmount     int64           `json:"paid_amount" doc:"fen"`
	RefundedAmount int64           `json:"refunded_amount" doc:"fen"`
	TaxAmount      int64           `json:"tax_amount" doc:"fen of VAT included in the goods"`
	Invoice        *Invoice        `json:"invoice"`
	Address        Address         `json:"address"`
	BuyerNote      string          `json:"buyer_note"`
	PayDeadline    time.Time       `json:"pay_deadline"`
	Carrier        string          `json:"carrier"`
	TrackingNo     string          `json:"tracking_no"`
	Parcels        []Parcel        `json:"parcels" doc:"my order's packages once shipped (one when not split); the order itself only when read alone"`
	PaidAt         *time.Time      `json:"paid_at"`
	ShippedAt      *time.Time      `json:"shipped_at"`
	CompletedAt    *time.Time      `json:"completed_at"`
	CancelledAt    *time.Time      `json:"cancelled_at"`
	CreatedAt      time.Time       `json:"created_at"`
	MemberCouponID int64           `json:"member_coupon_id,omitempty" doc:"the coupon of my wallet this order used"`
	GroupID        int64           `json:"group_id,omitempty" doc:"the group-buying group this order is a seat in"`
	Breakdown      *pricing.Result `json:"breakdown,omitempty" doc:"the itemised price at checkout"`
	Lines          []BuyerLine     `json:"lines"`
}

// BuyerLine is an order line as the buyer sees it.
type BuyerLine struct {
	ID            int64    `json:"id"`
	SPUID         int64    `json:"spu_id"`
	SKUID         int64    `json:"sku_id"`
	Title         string   `json:"title"`
	SpecValues    []string `json:"spec_values"`
	Image         string   `json:"image"`
	UnitPrice     int64    `json:"unit_price" doc:"fen"`
	Quantity      int64    `json:"quantity"`
	Amount        int64    `json:"amount" doc:"fen"`
	TaxRate       int64    `json:"tax_rate" doc:"basis points: 1300 = 13%"`
	TaxAmount     int64    `json:"tax_amount" doc:"fen"`
	OriginalPrice int64    `json:"original_price,omitempty" doc:"list price when a promotion price set unit_price, fen"`
	Discount      int64    `json:"discount" doc:"this line's share of the coupon and of my points, fen"`
	FlashSaleID   int64    `json:"flash_sale_id,omitempty"`
	Refunded      int64    `json:"refunded" doc:"this line's share of the order's refunded_amount, fen"`
}

// BuyerPage is a page of the buyer's orders, newest first; the API answers
// it as httpx.Page.
type BuyerPage struct {
	Items []BuyerOrder
	Next  int64 // the After of the next page; 0 when there is none
}

// ForBuyer is the buyer's view of o.
func (o Order) ForBuyer() BuyerOrder {
	b := BuyerOrder{ID: o.ID, OrderNo: o.OrderNo, Status: o.Status, GoodsAmount: o.GoodsAmount, ShippingFee: o.ShippingFee,
		DiscountAmount: o.DiscountAmount, PointsUsed: o.PointsUsed, PointsDiscount: o.PointsDiscount, TotalAmount: o.TotalAmount, PaidAmount: o.PaidAmount, RefundedAmount: o.RefundedAmount,
		TaxAmount: o.TaxAmount, Invoice: o.Invoice, Address: o.Address, BuyerNote: o.BuyerNote, PayDeadline: o.PayDeadline,
		Carrier: o.Carrier, TrackingNo: o.TrackingNo, Parcels: o.Parcels, PaidAt: o.PaidAt, ShippedAt: o.ShippedAt, CompletedAt: o.CompletedAt,
		CancelledAt: o.CancelledAt, CreatedAt: o.CreatedAt, MemberCouponID: o.MemberCouponID, GroupID: o.GroupID,
		Breakdown: o.Breakdown, Lines: make([]BuyerLine, len(o.Lines))}
	for i, l := range o.Lines {
		b.Lines[i] = BuyerLine{ID: l.ID, SPUID: l.SPUID, SKUID: l.SKUID, Title: l.Title, SpecValues: l.SpecValues, Image: l.Image,
			UnitPrice: l.UnitPrice, Quantity: l.Quantity, Amount: l.Amount, TaxRate: l.TaxRate, TaxAmount: l.TaxAmount,
			OriginalPrice: l.OriginalPrice, Discount: l.Discount, FlashSaleID: l.FlashSaleID, Refunded: l.Refunded}
	}
	return b
}

// BuyerOrder returns one of the buyer's orders, as the buyer sees it.
func (s *Service) BuyerOrder(ctx context.Context, shopID, id, memberID int64) (BuyerOrder, error) {
	if memberID == 0 {
		return BuyerOrder{}, errOrderNotFound
	}
	o, err := s.Get(ctx, shopID, id, memberID)
	return o.ForBuyer(), err
}

// BuyerOrders lists the buyer's orders matching f, as the buyer sees them.
func (s *Service) BuyerOrders(ctx context.Context, shopID, memberID int64, f Filter) (BuyerPage, error) {
	if memberID == 0 {
		return BuyerPage{Items: []BuyerOrder{}}, nil
	}
	f.MemberID = memberID
	page, err := s.List(ctx, shopID, f)
	if err != nil {
		return BuyerPage{}, err
	}
	out := BuyerPage{Items: make([]BuyerOrder, len(page.Items)), Next: page.Next}
	for i, o := range page.Items {
		out.Items[i] = o.ForBuyer()
	}
	return out, nil
}
