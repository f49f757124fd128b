package recs

import (
	"context"
	"math"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

var errProductNotFound = errs.E(errs.NotFound, "product_not_found", "no such product")

// How a buyer's own history seeds their recommendations.
const (
	seedPurchaseDays = 180 // purchases this recent seed "for you"
	maxSeeds         = 20  // of each kind: purchases, views
	viewWeight       = 0.5 // a view counts this much of a purchase made now
)

// ForProduct answers the recommendations shown with a product on the
// shelf. memberID (0 for a visitor) excludes what that buyer bought lately.
func (s *Service) ForProduct(ctx context.Context, shopID, memberID, productID int64) (Recommendations, error) {
	p := s.cat.Summaries(shopID, []int64{productID})
	if len(p) == 0 || !p[0].OnShelf {
		return Recommendations{}, errProductNotFound
	}
	st, err := s.Settings(ctx, shopID)
	if err != nil || !st.Enabled {
		return Recommendations{Items: []Recommendation{}}, err
	}
	m := s.Model(shopID)
	exclude, err := s.excluder(ctx, shopID, memberID, st, m)
	if err != nil {
		return Recommendations{}, err
	}
	return s.materialize(shopID, ForProduct(m, productID, p[0].CategoryID, exclude), int(st.TopK)), nil
}

// ForMember answers a buyer's own recommendations, seeded by what they
// bought and viewed.
func (s *Service) ForMember(ctx context.Context, shopID, memberID int64) (Recommendations, error) {
	st, err := s.Settings(ctx, shopID)
	if err != nil || !st.Enabled {
		return Recommendations{Items: []Recommendation{}}, err
	}
	m := s.Model(shopID)
	now := s.now().UnixMilli()
	bought, err := s.purchases(ctx, shopID, memberID, now-max(seedPurchaseDays, st.ExcludeBoughtDays)*day)
	if err != nil {
		return Recommendations{}, err
	}
	views, err := s.viewedBy(ctx, shopID, memberID)
	if err != nil {
		return Recommendations{}, err
	}
	seeds := s.seeds(shopID, bought, views, st, now)
	boughtLately := excludeFrom(bought, now-st.ExcludeBoughtDays*day, m)
	seen := make(map[int64]bool, len(views))
	for _, v := range views {
		seen[v.spu] = true
	}
	// Viewed products are not recommended back: the buyer has them in
	// their recently viewed list.
	exclude := func(id int64) bool { return seen[id] || boughtLately(id) }
	return s.materialize(shopID, ForMember(m, seeds, exclude), int(st.TopK)), nil
}

const day = int64(24 * time.Hour / time.Millisecond)

// seeds weighs the buyer's purchases by their age and views by half,
// newest first, with their categories.
func (s *Service) seeds(shopID int64, bought, views []viewed, st Settings, now int64) []Seed {
	lambda := math.Ln2 / float64(st.HalfLifeDays*day)
	weight := map[int64]float64{}
	var order []int64
	add := func(list []viewed, scale float64) {
		for i, v := range list {
			if i == maxSeeds {
				break
			}
			w := scale * math.Exp(-lambda*float64(max(now-v.at, 0)))
			if _, ok := weight[v.spu]; !ok {
				order = append(order, v.spu)
			}
			weight[v.spu] += w
		}
	}
	add(bought, 1)
	add(views, viewWeight)
	sums := s.cat.Summaries(shopID, order)
	cat := make(map[int64]int64, len(sums))
	for _, p := range sums {
		cat[p.ID] = p.CategoryID
	}
	seeds := make([]Seed, 0, len(order))
	for _, id := range order {
		seeds = append(seeds, Seed{ID: id, Weight: weight[id], Category: cat[id]})
	}
	return seeds
}

// excluder returns what not to recommend to memberID: what they bought
// within the shop's window, unless people buy it again and again.
func (s *Service) excluder(ctx context.Context, shopID, memberID int64, st Settings, m *Model) (func(int64) bool, error) {
	if memberID == 0 || st.ExcludeBoughtDays == 0 {
		return nil, nil
	}
	since := s.now().UnixMilli() - st.ExcludeBoughtDays*day
	bought, err := s.purchases(ctx, shopID, memberID, since)
	if err != nil {
		return nil, err
	}
	return excludeFrom(bought, since, m), nil
}

func excludeFrom(bought []viewed, since int64, m *Model) func(int64) bool {
	recent := map[int64]bool{}
	for _, b := range bought {
		if b.at >= since && (m == nil || !m.Repeat[b.spu]) {
			recent[b.spu] = true
		}
	}
	return func(id int64) bool { return recent[id] }
}

// purchases returns the products memberID paid for since, newest first.
func (s *Service) purchases(ctx context.Context, shopID, memberID, since int64) ([]viewed, error) {
	list, err := db.All(ctx, s.db, func(r db.Scanner) (viewed, error) {
		var v viewed
		return v, r.Scan(&v.spu, &v.at)
	}, `SELECT l.spu_id, MAX(COALESCE(o.paid_at, o.created_at)) AS at
		FROM orders o JOIN order_lines l ON l.order_id = o.id
		WHERE o.shop_id = ? AND o.member_id = ? AND o.status IN `+paidStatuses+` AND COALESCE(o.paid_at, o.created_at) >= ?
		GROUP BY l.spu_id ORDER BY at DESC LIMIT 100`, shopID, memberID, since)
	return list, errs.Wrap("recs purchases", err)
}

// materialize turns picks into products on the shelf, keeping the first k.
func (s *Service) materialize(shopID int64, picks []Pick, k int) Recommendations {
	out := Recommendations{Items: make([]Recommendation, 0, k)}
	for start := 0; start < len(picks) && len(out.Items) < k; start += 2 * k {
		chunk := picks[start:min(start+2*k, len(picks))]
		ids := make([]int64, len(chunk))
		for i, p := range chunk {
			ids[i] = p.ID
		}
		found := map[int64]catalog.Summary{}
		for _, p := range s.cat.Summaries(shopID, ids) {
			found[p.ID] = p
		}
		for _, p := range chunk {
			if sum, ok := found[p.ID]; ok && sum.OnShelf && len(out.Items) < k {
				out.Items = append(out.Items, Recommendation{Source: p.Source, Product: sum})
			}
		}
	}
	return out
}

// RecentlyViewed answers the buyer's recently viewed products still on
// the shelf, newest first.
func (s *Service) RecentlyViewed(ctx context.Context, shopID, memberID int64) (RecentlyViewed, error) {
	views, err := s.viewedBy(ctx, shopID, memberID)
	if err != nil {
		return RecentlyViewed{}, err
	}
	ids := make([]int64, len(views))
	for i, v := range views {
		ids[i] = v.spu
	}
	out := RecentlyViewed{Items: []catalog.Summary{}}
	for _, p := range s.cat.Summaries(shopID, ids) {
		if p.OnShelf {
			out.Items = append(out.Items, p)
		}
	}
	return out, nil
}
