package order

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/pricing"
)

// Promotions is what checkout needs from the promotion package; server
// passes the implementation (nil = a shop without promotions).
type Promotions interface {
	// Lookup reads, without changing anything, what the buyer asks to use:
	// a held flash-sale claim and a coupon from their wallet.
	Lookup(ctx context.Context, q db.Querier, shopID, memberID int64, in CreateInput, now time.Time) (Applied, error)
	// Take marks them used by the new order with compare-and-set updates,
	// so a coupon or claim is used once even under concurrent checkouts.
	// It reports the group a group-buying order took a seat in.
	Take(ctx context.Context, tx *db.Tx, shopID, memberID, orderID int64, in CreateInput, now time.Time) (Taken, error)
	// PromoPrices returns the running time-limited price of each SKU that
	// has one.
	PromoPrices(ctx context.Context, shopID int64, skuIDs []int64, now time.Time) (map[int64]int64, error)
	// Paid tells promotions an order was paid (a group member's seat
	// counts from then), inside the payment's transaction.
	Paid(ctx context.Context, tx *db.Tx, shopID, orderID int64, now time.Time) error
	// Cancelled gives back what a cancelled order used: its coupon and its
	// flash-sale units.
	Cancelled(ctx context.Context, tx *db.Tx, shopID, orderID int64, now time.Time) error
	// Coupons lists the buyer's coupons usable now, each priced against
	// lines, best first (for the checkout preview).
	Coupons(ctx context.Context, shopID, memberID int64, lines []pricing.Line, ship pricing.Shipping, now time.Time) ([]CouponOption, error)
}

// Taken is what Take did that the new order shows.
type Taken struct {
	GroupID int64
}

// Applied is what a checkout uses besides plain SKUs.
type Applied struct {
	Flash  *FlashLine
	Group  *GroupLine
	Coupon *pricing.Coupon
}

// GroupLine is a group-buying seat as an order line: one unit at the
// price of the deal's smallest tier (the difference to the tier the group
// reaches is refunded when it closes).
type GroupLine struct {
	SKUID int64
	Price int64
}

// FlashLine is a flash-sale claim as an order line: its units are already
// held by the sale, so checkout does not lock SKU stock for it.
type FlashLine struct {
	SaleID    int64
	SKUID     int64
	Quantity  int64
	Price     int64
	ExpiresAt time.Time
}

// CouponOption is one of the buyer's coupons with what it would save.
type CouponOption struct {
	ID        int64  `json:"member_coupon_id" doc:"the wallet entry: send it as member_coupon_id"`
	Name      string `json:"name"`
	Saving    int64  `json:"saving" doc:"fen off this checkout"`
	Applies   bool   `json:"applies" doc:"false when its threshold or scope is not met"`
	ValidTo   string `json:"valid_until"`
	Suggested bool   `json:"suggested" doc:"the best coupon for this checkout"`
}

// SetPromotions plugs the promotion engine into checkout.
func (s *Service) SetPromotions(p Promotions) { s.promos = p }
