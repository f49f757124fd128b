package moderation

import (
	"context"
	"strconv"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Purchases tells moderation whether a buyer bought a product: a review
// is only from a buyer of what it reviews. server passes the order
// service.
type Purchases interface {
	Bought(ctx context.Context, shopID, memberID, productID int64) (bool, error)
}

// SetPurchases sets who answers whether a reviewer bought the product.
func (s *Service) SetPurchases(p Purchases) { s.purchases = p }

// checkReviewer refuses a review that is not about a product or whose
// author has no paid order of it (one that was fully refunded or
// cancelled does not count).
func (s *Service) checkReviewer(ctx context.Context, shopID, memberID int64, target string) error {
	rest, ok := strings.CutPrefix(target, "product:")
	id, err := strconv.ParseInt(rest, 10, 64)
	if !ok || err != nil || id <= 0 {
		return errs.Field("target", "invalid_review_target", "a review is about a product: product:<id>")
	}
	if s.purchases == nil {
		return errs.E(errs.Conflict, "reviews_unavailable", "this server takes no reviews")
	}
	bought, err := s.purchases.Bought(ctx, shopID, memberID, id)
	if err != nil {
		return errs.Wrap("review", err)
	}
	if !bought {
		return errs.E(errs.Forbidden, "not_a_buyer", "only buyers of this product can review it")
	}
	return nil
}
