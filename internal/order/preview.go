package order

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/pricing"
)

// PreviewInput is a checkout to price without placing it.
type PreviewInput struct {
	Items        []Item `json:"items,omitempty" doc:"buy now; leave empty to price the cart's selected lines"`
	FromCart     bool   `json:"from_cart"`
	FlashClaimID int64  `json:"flash_claim_id,omitempty"`
	GroupDealID  int64  `json:"group_deal_id,omitempty"`
	GroupID      int64  `json:"group_id,omitempty"`
	CouponID     int64  `json:"coupon_id,omitempty" doc:"price with this coupon; omit to get the suggested one applied"`
}

// Preview is the itemised price of a checkout and the buyer's coupons.
type Preview struct {
	Lines     []Line         `json:"lines"`
	Breakdown pricing.Result `json:"breakdown"`
	CouponID  int64          `json:"coupon_id" doc:"the coupon priced in (the one asked for, or the suggested one; 0 = none)"`
	Coupons   []CouponOption `json:"coupons" doc:"the buyer's usable coupons, best first"`
}

// Preview prices a checkout exactly as Create would, without changing
// anything, and suggests the best coupon (applied when none is named).
func (s *Service) Preview(ctx context.Context, shopID, memberID int64, p PreviewInput) (Preview, error) {
	in := CreateInput{Items: p.Items, FromCart: p.FromCart, FlashClaimID: p.FlashClaimID, CouponID: p.CouponID,
		GroupDealID: p.GroupDealID, GroupID: p.GroupID}
	if err := in.validateItems(); err != nil {
		return Preview{}, err
	}
	sh, err := s.shops.Enabled(ctx, shopID)
	if err != nil {
		return Preview{}, err
	}
	now := s.now()
	applied, err := s.lookupPromotions(ctx, s.db, shopID, memberID, in, now)
	if err != nil {
		return Preview{}, err
	}
	items := in.Items
	if in.FromCart {
		if items, err = selectedCart(ctx, s.db, shopID, memberID); err != nil {
			return Preview{}, err
		}
	}
	lines, err := s.priceWithPromotions(ctx, s.db, shopID, items, applied, now)
	if err != nil {
		return Preview{}, errs.Wrap("preview", err)
	}
	out := Preview{CouponID: in.CouponID, Coupons: []CouponOption{}}
	if s.promos != nil {
		if out.Coupons, err = s.promos.Coupons(ctx, shopID, memberID, pricingLines(lines), shipping(sh), now); err != nil {
			return Preview{}, errs.Wrap("preview coupons", err)
		}
	}
	if in.CouponID == 0 && len(out.Coupons) > 0 && out.Coupons[0].Suggested {
		in.CouponID = out.Coupons[0].ID
		if applied, err = s.lookupPromotions(ctx, s.db, shopID, memberID, in, now); err != nil {
			return Preview{}, err
		}
		out.CouponID = in.CouponID
	}
	o := newOrder(sh, memberID, in, lines, applied, now)
	out.Lines, out.Breakdown = o.Lines, *o.Breakdown
	return out, nil
}
