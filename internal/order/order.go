// Package order is the buying path: carts, orders with an explicit state
// machine and an event log, and stock that is locked when an order is
// created, deducted when it is paid and released when it is cancelled, each
// movement a compare-and-set recorded in a stock ledger.
package order

import (
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/mask"
	"github.com/kaidian/kaidian/internal/pricing"
)

// Status is where an order is in its life.
type Status string

const (
	PendingPayment Status = "pending_payment"
	Paid           Status = "paid"
	Shipped        Status = "shipped"
	Completed      Status = "completed"
	Cancelled      Status = "cancelled"
	// Refunded is closed: everything paid went back to the buyer (refunds
	// confirmed by WeChat). It cannot be shipped, received or reviewed.
	Refunded Status = "refunded"
)

// EnumValues lists the statuses for the API document.
func (Status) EnumValues() []string {
	return []string{string(PendingPayment), string(Paid), string(Shipped), string(Completed), string(Cancelled), string(Refunded)}
}

// transitions is the state machine: the statuses each status may move to.
var transitions = map[Status][]Status{
	PendingPayment: {Paid, Cancelled},
	Paid:           {Shipped, Refunded},
	Shipped:        {Completed, Refunded},
	Completed:      {Refunded},
}

// CanMove reports whether the state machine allows from → to.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// ValidStatus reports whether s is a status.
func ValidStatus(s Status) bool {
	_, ok := transitions[s]
	return ok || s == Cancelled || s == Refunded
}

func illegal(from, to Status) error {
	return errs.E(errs.Conflict, "illegal_transition", "an order that is "+string(from)+" cannot become "+string(to))
}

// Address is the shipping address, kept on the order as it was at checkout,
// with its GB/T 2260 region codes (from the address book, as sent, or
// matched from the names; empty when the names matched no region).
type Address struct {
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	Province     string `json:"province"`
	City         string `json:"city"`
	District     string `json:"district"`
	Detail       string `json:"detail"`
	ProvinceCode string `json:"province_code,omitempty" doc:"GB/T 2260; optional on input (matched from the names when absent)"`
	CityCode     string `json:"city_code,omitempty"`
	DistrictCode string `json:"district_code,omitempty" doc:"the county; empty for a city without counties"`
	PostalCode   string `json:"postal_code,omitempty"`
}

func (a Address) validate(v *errs.Validator) {
	v.Check(runes(a.Name) >= 1 && runes(a.Name) <= 30, "address.name", "must be 1 to 30 characters")
	v.Check(validPhone(a.Phone), "address.phone", "must be a phone number")
	v.Check(runes(a.Province) >= 1 && runes(a.Province) <= 20, "address.province", "must be 1 to 20 characters")
	v.Check(runes(a.City) >= 1 && runes(a.City) <= 20, "address.city", "must be 1 to 20 characters")
	v.Check(runes(a.District) <= 20, "address.district", "must be at most 20 characters")
	v.Check(runes(a.Detail) >= 1 && runes(a.Detail) <= 120, "address.detail", "must be 1 to 120 characters")
	v.Check(len(a.ProvinceCode) <= 6 && len(a.CityCode) <= 6 && len(a.DistrictCode) <= 6, "address.province_code", "region codes have 6 digits")
	v.Check(len(a.PostalCode) <= 6, "address.postal_code", "must be at most 6 digits")
}

func runes(s string) int { return len([]rune(s)) }

func validPhone(p string) bool {
	if len(p) < 5 || len(p) > 20 {
		return false
	}
	for i, c := range p {
		if !(c >= '0' && c <= '9') && !(i == 0 && c == '+') && c != '-' {
			return false
		}
	}
	return true
}

// Line is one SKU of an order, as it was bought.
type Line struct {
	ID         int64    `json:"id"`
	SPUID      int64    `json:"spu_id"`
	SKUID      int64    `json:"sku_id"`
	Title      string   `json:"title"`
	SpecValues []string `json:"spec_values"`
	Image      string   `json:"image"`
	UnitPrice  int64    `json:"unit_price" doc:"fen"`
	Quantity   int64    `json:"quantity"`
	Amount     int64    `json:"amount" doc:"fen"`
	TaxRate    int64    `json:"tax_rate" doc:"basis points: 1300 = 13%"`
	TaxAmount  int64    `json:"tax_amount" doc:"fen of VAT included in what the line costs after its discount"`

	OriginalPrice int64 `json:"original_price,omitempty" doc:"list price when a promotion price set unit_price, fen"`
	Discount      int64 `json:"discount" doc:"this line's share of the coupon and of the points, fen (a refund of the line returns amount − discount)"`
	Refunded      int64 `json:"refunded" doc:"this line's share of the order's refunded_amount, fen, allocated in proportion to amount − discount like discounts (what goes beyond the goods is the shipping fee's)"`
	FlashSaleID   int64 `json:"flash_sale_id,omitempty"`
	categoryID    int64 // for coupon scopes; not stored on the line
	// The product's freight template (0 = the flat fee) with its version
	// (updated_at) and the SKU's weight, for freight; not stored.
	freightTemplateID, freightVersion, weightGrams int64
}

// Event is one transition in an order's log.
type Event struct {
	Actor     string    `json:"actor" doc:"member:ID, staff:ID or system"`
	From      Status    `json:"from,omitempty" doc:"absent on the event that created the order"`
	To        Status    `json:"to"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// Order is an order with its lines (and, for staff, its events).
type Order struct {
	ID             int64           `json:"id"`
	OrderNo        string          `json:"order_no"`
	MemberID       int64           `json:"member_id"`
	Status         Status          `json:"status"`
	GoodsAmount    int64           `json:"goods_amount" doc:"fen"`
	ShippingFee    int64           `json:"shipping_fee" doc:"fen"`
	DiscountAmount int64           `json:"discount_amount" doc:"fen: the coupon's, on goods and shipping"`
	PointsUsed     int64           `json:"points_used" doc:"points spent on this order"`
	PointsDiscount int64           `json:"points_discount" doc:"fen the points took off"`
	TotalAmount    int64           `json:"total_amount" doc:"fen: what the buyer pays (goods + shipping − discount_amount − points_discount)"`
	PaidAmount     int64           `json:"paid_amount" doc:"fen"`
	RefundedAmount int64           `json:"refunded_amount" doc:"fen"`
	TaxAmount      int64           `json:"tax_amount" doc:"fen of VAT included in the goods (prices include VAT; rounded half up per line)"`
	Invoice        *Invoice        `json:"invoice"`
	Address        Address         `json:"address"`
	BuyerNote      string          `json:"buyer_note"`
	StaffNote      string          `json:"staff_note,omitempty"`
	PayDeadline    time.Time       `json:"pay_deadline"`
	Carrier        string          `json:"carrier"`
	TrackingNo     string          `json:"tracking_no"`
	Parcels        []Parcel        `json:"parcels" doc:"an express order's packages once shipped (one when not split); the order itself only when read alone"`
	PaidAt         *time.Time      `json:"paid_at"`
	ShippedAt      *time.Time      `json:"shipped_at"`
	CompletedAt    *time.Time      `json:"completed_at"`
	CancelledAt    *time.Time      `json:"cancelled_at"`
	CreatedAt      time.Time       `json:"created_at"`
	MemberCouponID int64           `json:"member_coupon_id,omitempty" doc:"the buyer's coupon (wallet entry) this order used"`
	GroupID        int64           `json:"group_id,omitempty" doc:"the group-buying group this order is a seat in"`
	Breakdown      *pricing.Result `json:"breakdown,omitempty" doc:"the pricing engine's itemised result at checkout"`
	Lines          []Line          `json:"lines"`
	Events         []Event         `json:"events,omitempty"`

	ship pricing.Shipping // the shipping rule the checkout was priced with (preview's coupons)
}

// Actor names who makes a change, for the event log.
type Actor string

// System is the actor of jobs (auto-cancel, payment notifications).
const System Actor = "system"

// MemberActor and StaffActor name people.
func MemberActor(id int64) Actor { return Actor("member:" + itoa(id)) }

// StaffActor names a staff account.
func StaffActor(id int64) Actor { return Actor("staff:" + itoa(id)) }

// Masked is the address as staff see it unless they reveal it: the
// receiver's name and phone hidden but for their first character and last
// four digits (issue 18); where it goes stays readable for shipping.
func (a Address) Masked() Address {
	a.Name, a.Phone = mask.Name(a.Name), mask.Phone(a.Phone)
	return a
}
