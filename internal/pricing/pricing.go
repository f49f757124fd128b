// Package pricing is the one pricing engine of an order: list price →
// promotion price (time-limited discount, flash sale or group price) →
// coupon → shipping, with every discount allocated to order lines so that
// a partial refund can return the right amount. It is pure arithmetic on
// int64 fen, with no storage, and every rounding rule is written here:
//
//   - A promotion price is per unit; the line's promotion discount is
//     (list price − promotion price) × quantity, exact.
//   - A coupon's threshold is compared with the in-scope goods amount at
//     promotion prices.
//   - A percentage coupon (折扣) of rate r basis points (8000 = 8折, the buyer
//     pays 80%) takes floor(in-scope × (10000 − r) / 10000) fen off: rounded
//     down, so the buyer never gets more than the stated percentage; then
//     the cap applies.
//   - A fixed coupon (满减) takes min(amount, in-scope goods).
//   - The coupon discount is allocated to in-scope lines in proportion to
//     their amounts, each share rounded down, and the fen left over go one
//     each to the lines with the largest remainders (ties: the earlier
//     line). The shares add up exactly and no line gets more than its amount.
//   - Points (积分抵扣) come after the coupon: N points make one yuan, at
//     most a share (basis points) of the goods after the coupon; the fen
//     are floor(points × 100 / N) and the points charged the fewest that
//     give those fen, so a buyer never pays points for a fraction of a
//     fen. They are allocated to lines like the coupon, in proportion to
//     what each line costs after it.
//   - Shipping is the shop's flat fee unless the goods after the coupon
//     reach the shop's free-shipping threshold, plus the freight templates'
//     fee (Shipping.Freight, priced by the freight package with the
//     templates' own free-shipping rules); a free-shipping coupon removes
//     all of it. Shipping is not allocated to lines.
package pricing

import (
	"math/bits"
	"sort"
)

// Line is one order line as the engine sees it.
type Line struct {
	SPUID      int64
	CategoryID int64
	ListPrice  int64 // the SKU's price, fen
	UnitPrice  int64 // the price after a promotion price (= ListPrice without one), fen
	Quantity   int64
	Promotion  string // what set UnitPrice: "", "flash_sale", "group", "limited_time"
}

// CouponKind is what a coupon takes off.
type CouponKind string

const (
	CouponAmount   CouponKind = "amount"   // 满减: a fixed amount off above a threshold
	CouponPercent  CouponKind = "percent"  // 折扣: a percentage off, with an optional cap
	CouponShipping CouponKind = "shipping" // 包邮: no shipping fee
)

// Scope is which goods a coupon applies to.
type Scope string

const (
	ScopeAll        Scope = "all"
	ScopeCategories Scope = "categories"
	ScopeProducts   Scope = "products"
)

// Coupon is a coupon's rule, as the engine applies it.
type Coupon struct {
	Kind      CouponKind
	Amount    int64 // fen off (amount)
	RateBP    int64 // basis points the buyer pays (percent): 8000 = 8折
	Cap       int64 // most fen off (percent); 0 = no cap
	Threshold int64 // in-scope goods must reach this (fen); 0 = none
	Scope     Scope
	IDs       []int64 // category or SPU ids for a scoped coupon
}

// Shipping is the shop's shipping rule for an order: the flat fee (of the
// lines without a freight template; 0 when every line has one) and the
// freight templates' fee of the others.
type Shipping struct {
	Fee       int64 // fen
	FreeAbove int64 // goods at or above this ship Fee free; 0 = never
	Freight   int64 // fen, the templates' fee, added to Fee
}

// LineResult is one line's money after the engine.
type LineResult struct {
	Amount         int64 `json:"amount" doc:"unit price × quantity, fen"`
	PromoDiscount  int64 `json:"promo_discount" doc:"(list − unit price) × quantity, fen"`
	CouponDiscount int64 `json:"coupon_discount" doc:"this line's share of the coupon, fen"`
	PointsDiscount int64 `json:"points_discount" doc:"this line's share of the points used, fen"`
	Payable        int64 `json:"payable" doc:"amount − coupon discount − points discount, fen"`
}

// Points is a buyer's use of points at checkout: Want points (already
// no more than the buyer holds), PerYuan points make one yuan, and they
// may pay at most CapBP basis points of the goods after the coupon. The
// zero value uses none.
type Points struct {
	Want    int64
	PerYuan int64
	CapBP   int64
}

// Result is an order's money: the itemised breakdown shown to the buyer.
type Result struct {
	Lines            []LineResult `json:"lines"`
	ListAmount       int64        `json:"list_amount" doc:"goods at list prices, fen"`
	PromoDiscount    int64        `json:"promo_discount" doc:"fen"`
	GoodsAmount      int64        `json:"goods_amount" doc:"goods at promotion prices, fen"`
	CouponDiscount   int64        `json:"coupon_discount" doc:"fen taken off the goods by the coupon"`
	ShippingFee      int64        `json:"shipping_fee" doc:"fen, before a free-shipping coupon"`
	ShippingDiscount int64        `json:"shipping_discount" doc:"fen"`
	PointsUsed       int64        `json:"points_used" doc:"points this checkout spends"`
	PointsDiscount   int64        `json:"points_discount" doc:"fen the points take off the goods"`
	PointsMax        int64        `json:"points_max" doc:"the most points this checkout could take (by the shop's cap, not the buyer's balance)"`
	Total            int64        `json:"total" doc:"what the buyer pays, fen"`
	CouponApplies    bool         `json:"coupon_applies"`
}

// Price runs the engine. coupon may be nil. A coupon that does not apply
// (threshold not reached, nothing in scope) is reported by CouponApplies
// = false and takes nothing off.
func Price(lines []Line, coupon *Coupon, ship Shipping) Result {
	return PriceWithPoints(lines, coupon, ship, Points{})
}

// PriceWithPoints is Price with the buyer's points (see Points).
func PriceWithPoints(lines []Line, coupon *Coupon, ship Shipping, points Points) Result {
	r := Result{Lines: make([]LineResult, len(lines))}
	for i, l := range lines {
		lr := &r.Lines[i]
		lr.Amount = l.UnitPrice * l.Quantity
		lr.PromoDiscount = (l.ListPrice - l.UnitPrice) * l.Quantity
		r.ListAmount += l.ListPrice * l.Quantity
		r.PromoDiscount += lr.PromoDiscount
		r.GoodsAmount += lr.Amount
	}
	if coupon != nil && coupon.Kind != CouponShipping {
		applyGoodsCoupon(&r, lines, *coupon)
	}
	for i := range r.Lines {
		r.Lines[i].Payable = r.Lines[i].Amount - r.Lines[i].CouponDiscount
	}
	goodsPayable := r.GoodsAmount - r.CouponDiscount
	applyPoints(&r, goodsPayable, points)
	r.ShippingFee = ship.Fee
	if ship.FreeAbove > 0 && goodsPayable >= ship.FreeAbove {
		r.ShippingFee = 0
	}
	r.ShippingFee += ship.Freight
	if coupon != nil && coupon.Kind == CouponShipping && r.ShippingFee > 0 && goodsPayable >= coupon.Threshold {
		r.ShippingDiscount, r.CouponApplies = r.ShippingFee, true
	}
	r.Total = goodsPayable - r.PointsDiscount + r.ShippingFee - r.ShippingDiscount
	return r
}

// Max is the most points that may pay for goodsPayable fen (the goods
// after the coupon) under the cap.
func (p Points) Max(goodsPayable int64) int64 {
	if p.PerYuan <= 0 || p.CapBP <= 0 || goodsPayable <= 0 {
		return 0
	}
	capFen, _ := mulDiv(goodsPayable, min(p.CapBP, 10000), 10000)
	most, _ := mulDiv(capFen, p.PerYuan, 100)
	return most
}

// applyPoints takes the points off the goods after the coupon. Free
// shipping thresholds still look at the goods before points, so paying
// with points never costs the buyer free shipping.
func applyPoints(r *Result, goodsPayable int64, p Points) {
	if p.PerYuan <= 0 || p.CapBP <= 0 || goodsPayable <= 0 {
		return
	}
	r.PointsMax = p.Max(goodsPayable)
	use := min(max(p.Want, 0), r.PointsMax)
	fen, _ := mulDiv(use, 100, p.PerYuan)
	if fen <= 0 {
		return
	}
	r.PointsDiscount = fen
	r.PointsUsed = (fen*p.PerYuan + 99) / 100 // the fewest points worth these fen
	weights := make([]int64, len(r.Lines))
	for i := range r.Lines {
		weights[i] = r.Lines[i].Payable
	}
	for i, share := range Allocate(fen, weights) {
		r.Lines[i].PointsDiscount = share
		r.Lines[i].Payable -= share
	}
}

func applyGoodsCoupon(r *Result, lines []Line, c Coupon) {
	var inScope []int
	var base int64
	for i, l := range lines {
		if c.covers(l) && r.Lines[i].Amount > 0 {
			inScope = append(inScope, i)
			base += r.Lines[i].Amount
		}
	}
	if base == 0 || base < c.Threshold {
		return
	}
	off := c.discountOn(base)
	if off <= 0 {
		return
	}
	amounts := make([]int64, len(inScope))
	for k, i := range inScope {
		amounts[k] = r.Lines[i].Amount
	}
	for k, share := range Allocate(off, amounts) {
		r.Lines[inScope[k]].CouponDiscount = share
	}
	r.CouponDiscount, r.CouponApplies = off, true
}

func (c Coupon) covers(l Line) bool {
	switch c.Scope {
	case ScopeCategories:
		return contains(c.IDs, l.CategoryID)
	case ScopeProducts:
		return contains(c.IDs, l.SPUID)
	default:
		return true
	}
}

func (c Coupon) discountOn(base int64) int64 {
	switch c.Kind {
	case CouponAmount:
		return min(c.Amount, base)
	case CouponPercent:
		off := base * (10000 - c.RateBP) / 10000
		if c.Cap > 0 {
			off = min(off, c.Cap)
		}
		return off
	}
	return 0
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Allocate splits total over weights in proportion, each share rounded
// down, then one fen each to the largest remainders (ties: lower index).
// The shares add up to total; with total ≤ sum(weights) no share exceeds
// its weight. Weights must be non-negative with a positive sum.
func Allocate(total int64, weights []int64) []int64 {
	var sum int64
	for _, w := range weights {
		sum += w
	}
	shares := make([]int64, len(weights))
	if sum <= 0 || total <= 0 {
		return shares
	}
	rem := make([]int64, len(weights))
	var given int64
	for i, w := range weights {
		shares[i], rem[i] = mulDiv(total, w, sum)
		given += shares[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]] > rem[order[b]] })
	for k := 0; given < total; k++ {
		shares[order[k%len(order)]]++
		given++
	}
	return shares
}

// mulDiv returns a×b/c and its remainder in 128-bit arithmetic, so large
// amounts cannot overflow (a ≤ c and b ≤ c keep the quotient in range).
func mulDiv(a, b, c int64) (q, r int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	uq, ur := bits.Div64(hi, lo, uint64(c))
	return int64(uq), int64(ur)
}
