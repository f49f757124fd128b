package recs

import "sort"

// Where a recommendation came from, as buyers are told.
const (
	SourceTogether   = "bought_together"
	SourceAlsoBought = "also_bought"
	SourceForYou     = "for_you"
	SourceCategory   = "popular_in_category"
	SourcePopular    = "popular"
)

// Pick is a candidate with its source, best first in a ranking.
type Pick struct {
	ID     int64
	Source string
}

// Seed is a product a buyer bought or viewed, weighted by how much it
// should count (recent purchases most).
type Seed struct {
	ID       int64
	Weight   float64
	Category int64
}

// ranking collects candidates once each, in order.
type ranking struct {
	seen    map[int64]bool
	out     []Pick
	exclude func(int64) bool
}

func newRanking(exclude func(int64) bool, skip ...int64) *ranking {
	r := &ranking{seen: map[int64]bool{}, exclude: exclude}
	for _, id := range skip {
		r.seen[id] = true
	}
	return r
}

func (r *ranking) add(list []Neighbor, source string) {
	for _, n := range list {
		if r.seen[n.ID] || (r.exclude != nil && r.exclude(n.ID)) {
			continue
		}
		r.seen[n.ID] = true
		r.out = append(r.out, Pick{ID: n.ID, Source: source})
	}
}

// ForProduct ranks the candidates shown next to product (of category):
// bought together, then also bought, then popular in the category, then
// popular in the shop. The product itself and what exclude refuses are
// never among them. The caller keeps the first K it can show.
func ForProduct(m *Model, product, category int64, exclude func(int64) bool) []Pick {
	r := newRanking(exclude, product)
	if m != nil {
		r.add(m.Together[product], SourceTogether)
		r.add(m.AlsoBought[product], SourceAlsoBought)
		r.add(m.ByCategory[category], SourceCategory)
		r.add(m.Popular, SourcePopular)
	}
	return r.out
}

// ForMember ranks candidates for a buyer from seeds: each candidate scores
// the sum over seeds of the seed's weight times its similarity to the seed
// (bought together plus also bought). Then the first seed's category's
// popular products, then the shop's. exclude decides about the seeds
// themselves (what was bought lately, unless bought again and again).
func ForMember(m *Model, seeds []Seed, exclude func(int64) bool) []Pick {
	r := newRanking(exclude)
	if m == nil {
		return nil
	}
	r.add(scoreSeeds(m, seeds), SourceForYou)
	if len(seeds) > 0 {
		r.add(m.ByCategory[seeds[0].Category], SourceCategory)
	}
	r.add(m.Popular, SourcePopular)
	return r.out
}

// scoreSeeds sums the seeds' neighbours' scores.
func scoreSeeds(m *Model, seeds []Seed) []Neighbor {
	score := map[int64]float64{}
	for _, s := range seeds {
		for _, n := range m.Together[s.ID] {
			score[n.ID] += s.Weight * float64(n.Score)
		}
		for _, n := range m.AlsoBought[s.ID] {
			score[n.ID] += s.Weight * float64(n.Score)
		}
	}
	out := make([]Neighbor, 0, len(score))
	for id, sc := range score {
		out = append(out, Neighbor{ID: id, Score: float32(sc)})
	}
	sort.Slice(out, func(i, j int) bool { return better(out[i], out[j]) })
	return out
}
