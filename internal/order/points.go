package order

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/pricing"
)

// maxPoints bounds the points one checkout may name (far above any
// balance; it keeps the arithmetic in range).
const maxPoints = 1_000_000_000_000

// Points is what checkout needs from the points ledger; server passes the
// implementation (nil = a server without points).
type Points interface {
	// Rule is how the buyer's points price this checkout: want (refused
	// when more than the buyer holds or when the shop has points off),
	// the shop's rate and cap. With want = 0 it may still give the rate,
	// so that a preview can show what could be used.
	Rule(ctx context.Context, q db.Querier, shopID, memberID, want int64) (pricing.Points, error)
	// Spend takes the points of a new order inside its transaction (a
	// compare-and-set on the balance: two checkouts never spend the same
	// points).
	Spend(ctx context.Context, tx *db.Tx, shopID, memberID, orderID, points, fen int64) error
	// Balance is the points the buyer holds (the preview shows it).
	Balance(ctx context.Context, shopID, memberID int64) (int64, error)
}

// SetPoints plugs the points ledger into checkout.
func (s *Service) SetPoints(p Points) { s.points = p }

// pointsRule is the points part of a checkout's price: none asked, none
// priced (and no query on the order path).
func (s *Service) pointsRule(ctx context.Context, q db.Querier, shopID, memberID, want int64) (pricing.Points, error) {
	if want == 0 {
		return pricing.Points{}, nil
	}
	if s.points == nil {
		if want > 0 {
			return pricing.Points{}, errs.Field("points", "points_unavailable", "this shop does not take points")
		}
		return pricing.Points{}, nil
	}
	return s.points.Rule(ctx, q, shopID, memberID, want)
}

// PointsOffer is what the buyer's points could do for a checkout.
type PointsOffer struct {
	Balance   int64 `json:"balance" doc:"points I hold"`
	Usable    int64 `json:"usable" doc:"the most points this checkout takes: my balance within the shop's cap (send it as points)"`
	PerYuan   int64 `json:"per_yuan" doc:"points that make one yuan"`
	Worth     int64 `json:"worth" doc:"fen that usable points take off"`
	Requested int64 `json:"requested" doc:"the points of the request, as priced in the breakdown"`
}

// previewPoints is the preview's points offer, by the same rule as the
// charge: the buyer's balance and the most the checkout's goods after the
// coupon take (nil when the shop takes no points).
func (s *Service) previewPoints(ctx context.Context, shopID, memberID, want int64, res pricing.Result) (*PointsOffer, error) {
	if s.points == nil {
		return nil, nil
	}
	rule, err := s.points.Rule(ctx, s.db, shopID, memberID, want)
	if err != nil || rule.PerYuan <= 0 {
		return nil, err
	}
	balance, err := s.points.Balance(ctx, shopID, memberID)
	if err != nil {
		return nil, err
	}
	usable := min(balance, rule.Max(res.GoodsAmount-res.CouponDiscount))
	worth := usable * 100 / rule.PerYuan
	return &PointsOffer{Balance: balance, Usable: (worth*rule.PerYuan + 99) / 100, PerYuan: rule.PerYuan, Worth: worth, Requested: want}, nil
}

// Levels is what checkout needs from member levels; server passes the
// implementation (nil = no levels).
type Levels interface {
	// Benefits is the buyer's level's checkout benefits (zero without one).
	Benefits(ctx context.Context, q db.Querier, shopID, memberID int64) (LevelBenefits, error)
}

// LevelBenefits is what a buyer's level does at checkout.
type LevelBenefits struct {
	Level        string
	DiscountBP   int64 // what they pay for goods without a promotion price (9500 = 95折); 0 or 10000 = none
	FreeShipping bool
}

// SetLevels plugs member levels into checkout.
func (s *Service) SetLevels(l Levels) { s.levels = l }

// levelBenefits is the buyer's level's benefits for a checkout.
func (s *Service) levelBenefits(ctx context.Context, q db.Querier, shopID, memberID int64) (LevelBenefits, error) {
	if s.levels == nil {
		return LevelBenefits{}, nil
	}
	return s.levels.Benefits(ctx, q, shopID, memberID)
}

// memberPrice is a unit price after a level's discount, rounded down (the
// buyer never pays more than the stated share).
func memberPrice(unit, bp int64) int64 {
	if bp <= 0 || bp >= 10000 {
		return unit
	}
	return unit * bp / 10000
}
