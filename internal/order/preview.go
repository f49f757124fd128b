package order

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/pricing"
)

// PreviewInput is a checkout to price without placing it: the body of
// POST /api/v1/orders without the address and note.
type PreviewInput struct {
	Items          []Item   `json:"items,omitempty" doc:"buy now; leave empty to price the cart's selected lines"`
	FromCart       bool     `json:"from_cart"`
	FlashClaimID   int64    `json:"flash_claim_id,omitempty"`
	GroupDealID    int64    `json:"group_deal_id,omitempty"`
	GroupID        int64    `json:"group_id,omitempty"`
	MemberCouponID int64    `json:"member_coupon_id,omitempty" doc:"price with this coupon from my wallet; omitted = no coupon (see suggested_coupon)"`
	AddressID      int64    `json:"address_id,omitempty" doc:"price the freight to this address of my address book"`
	Address        *Address `json:"address,omitempty" doc:"or to this address; with neither, freight templates price with their default rules"`
	Points         int64    `json:"points,omitempty" doc:"price with this many of my points (see points.usable)"`
}

// Preview is the itemised price of a checkout, the buyer's coupons, and
// the best of them as a suggestion. Total is what POST /api/v1/orders
// charges for the same body: the suggestion is never applied on its own.
type Preview struct {
	Lines           []BuyerLine      `json:"lines"`
	Breakdown       pricing.Result   `json:"breakdown"`
	Total           int64            `json:"total" doc:"fen: what placing this checkout (with the coupon named, or none) charges"`
	MemberCouponID  int64            `json:"member_coupon_id" doc:"the coupon priced in: the one named in the request (0 = none)"`
	SuggestedCoupon *SuggestedCoupon `json:"suggested_coupon" doc:"the best coupon of my wallet for this checkout, when it beats the one named; send its member_coupon_id to get its price"`
	Coupons         []CouponOption   `json:"coupons" doc:"my usable coupons, best first"`
	Points          *PointsOffer     `json:"points" doc:"what my points can do for this checkout (null when the shop takes no points)"`
}

// SuggestedCoupon is the coupon preview recommends, with the price the
// checkout would have with it.
type SuggestedCoupon struct {
	MemberCouponID int64          `json:"member_coupon_id"`
	Name           string         `json:"name"`
	Saving         int64          `json:"saving" doc:"fen off compared with no coupon"`
	Total          int64          `json:"total" doc:"fen: what the checkout would charge with this coupon"`
	Breakdown      pricing.Result `json:"breakdown"`
}

func (p PreviewInput) checkout() CreateInput {
	in := CreateInput{Items: p.Items, FromCart: p.FromCart, FlashClaimID: p.FlashClaimID,
		MemberCouponID: p.MemberCouponID, GroupDealID: p.GroupDealID, GroupID: p.GroupID, AddressID: p.AddressID, Points: p.Points}
	if p.Address != nil {
		in.Address = *p.Address
	}
	return in
}

// validateAddress checks the preview's address, if it names one, as order
// creation does.
func (p PreviewInput) validateAddress() error {
	var v errs.Validator
	v.Check(p.AddressID >= 0, "address_id", "must be the id of an address in your address book")
	v.Check(p.AddressID == 0 || p.Address == nil, "address", "give address or address_id, not both")
	if p.Address != nil {
		p.Address.validate(&v)
	}
	return v.Err()
}

// Preview prices a checkout with the same function order creation uses
// (quote), changing nothing, and suggests the buyer's best coupon with
// its own price.
func (s *Service) Preview(ctx context.Context, shopID, memberID int64, p PreviewInput) (Preview, error) {
	in := p.checkout()
	if err := in.validateItems(); err != nil {
		return Preview{}, err
	}
	if err := p.validateAddress(); err != nil {
		return Preview{}, err
	}
	if err := s.resolveAddress(ctx, shopID, memberID, in.AddressID, &in.Address); err != nil {
		return Preview{}, err
	}
	sh, err := s.shops.Enabled(ctx, shopID)
	if err != nil {
		return Preview{}, err
	}
	now := ms(s.now().UnixMilli())
	items := in.Items
	if in.FromCart {
		if items, err = selectedCart(ctx, s.db, shopID, memberID); err != nil {
			return Preview{}, err
		}
	}
	o, err := s.quote(ctx, s.db, sh, memberID, in, items, now)
	if err != nil {
		return Preview{}, errs.Wrap("preview", err)
	}
	out := Preview{Lines: o.ForBuyer().Lines, Breakdown: *o.Breakdown, Total: o.TotalAmount, MemberCouponID: in.MemberCouponID,
		Coupons: []CouponOption{}}
	if out.Points, err = s.previewPoints(ctx, sh.ID, memberID, in.Points, *o.Breakdown); err != nil {
		return Preview{}, errs.Wrap("preview points", err)
	}
	if s.promos == nil || in.GroupDealID != 0 || in.GroupID != 0 { // coupons do not apply to group buying
		return out, nil
	}
	if out.Coupons, err = s.promos.Coupons(ctx, shopID, memberID, pricingLines(o.Lines), o.ship, now); err != nil {
		return Preview{}, errs.Wrap("preview coupons", err)
	}
	if len(out.Coupons) == 0 || !out.Coupons[0].Suggested || out.Coupons[0].ID == in.MemberCouponID {
		return out, nil
	}
	best := out.Coupons[0]
	in.MemberCouponID = best.ID
	with, err := s.quote(ctx, s.db, sh, memberID, in, items, now)
	if err != nil {
		return Preview{}, errs.Wrap("preview suggested coupon", err)
	}
	if with.TotalAmount < o.TotalAmount {
		out.SuggestedCoupon = &SuggestedCoupon{MemberCouponID: best.ID, Name: best.Name, Saving: best.Saving,
			Total: with.TotalAmount, Breakdown: *with.Breakdown}
	}
	return out, nil
}
