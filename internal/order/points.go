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

// pointsRule is the points part of a checkout's price.
func (s *Service) pointsRule(ctx context.Context, q db.Querier, shopID, memberID, want int64) (pricing.Points, error) {
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

// pointsOffer prices the buyer's points for a preview (nil when the shop
// takes none).
func (s *Service) pointsOffer(ctx context.Context, shopID, memberID int64, rule pricing.Points, res pricing.Result, want int64) (*PointsOffer, error) {
	if s.points == nil || rule.PerYuan <= 0 {
		return nil, nil
	}
	balance, err := s.points.Balance(ctx, shopID, memberID)
	if err != nil {
		return nil, err
	}
	usable := min(balance, res.PointsMax)
	worth := usable * 100 / rule.PerYuan
	return &PointsOffer{Balance: balance, Usable: (worth*rule.PerYuan + 99) / 100, PerYuan: rule.PerYuan, Worth: worth, Requested: want}, nil
}

// previewPoints is the preview's points offer, by the same rule as the
// charge.
func (s *Service) previewPoints(ctx context.Context, shopID, memberID, want int64, res pricing.Result) (*PointsOffer, error) {
	if s.points == nil {
		return nil, nil
	}
	rule, err := s.points.Rule(ctx, s.db, shopID, memberID, want)
	if err != nil {
		return nil, err
	}
	return s.pointsOffer(ctx, shopID, memberID, rule, res, want)
}
