package recs

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
)

// GenSpec describes a generated purchase history with planted co-purchase
// structure: products come in bundles of complements (a teapot, its cups,
// its tea …); each buyer cares about a few bundles and mostly buys within
// them, sometimes a best seller instead.
type GenSpec struct {
	Users, Products, Lines int
	BundleSize             int     // products per bundle (default 5)
	Categories             int     // default Products/50
	Noise                  float64 // share of orders that are one best seller (Zipf), default 0.2
	Seed                   uint64
	Now                    int64 // Unix ms of the newest purchase
}

// Generate returns the lines and each product's category.
func Generate(g GenSpec) ([]Line, map[int64]int64) {
	if g.BundleSize <= 0 {
		g.BundleSize = 5
	}
	if g.Categories <= 0 {
		g.Categories = max(1, g.Products/50)
	}
	if g.Noise == 0 {
		g.Noise = 0.2
	}
	rng := rand.New(rand.NewPCG(g.Seed, 7))
	bundles := max(1, g.Products/g.BundleSize)
	cats := make(map[int64]int64, g.Products)
	for p := 0; p < g.Products; p++ {
		cats[int64(p+1)] = int64(1 + (p/g.BundleSize)%g.Categories)
	}
	bundlePick := rand.NewZipf(rng, 1.1, 4, uint64(bundles-1))
	bestSeller := rand.NewZipf(rng, 1.2, 2, uint64(g.Products-1))
	perUser := float64(g.Lines) / float64(g.Users)
	lines := make([]Line, 0, g.Lines+g.Users)
	year := int64(365 * 24 * time.Hour / time.Millisecond)
	var orderID int64
	for u := 1; u <= g.Users && len(lines) < g.Lines; u++ {
		interests := []int{int(bundlePick.Uint64()), int(bundlePick.Uint64()), rng.IntN(bundles)}
		want := 1 + int(rng.ExpFloat64()*(perUser-1)) // lines of this buyer
		at := g.Now - rng.Int64N(year)
		for got := 0; got < want && len(lines) < g.Lines; {
			orderID++
			at += rng.Int64N(max(1, (g.Now-at)/2)) // later and later, never past now
			if rng.Float64() < g.Noise {
				lines = append(lines, Line{OrderID: orderID, MemberID: int64(u), SPU: int64(1 + bestSeller.Uint64()), At: at})
				got++
				continue
			}
			b := interests[rng.IntN(len(interests))]
			n := 1 + rng.IntN(3)
			for _, k := range rng.Perm(g.BundleSize)[:n] {
				lines = append(lines, Line{OrderID: orderID, MemberID: int64(u), SPU: int64(b*g.BundleSize + k + 1), At: at})
			}
			got += n
		}
	}
	return lines, cats
}

// EvalResult compares the co-occurrence model with the popularity
// baseline on the same held-out purchases.
type EvalResult struct {
	Users, Lines, Products int // history
	Evaluated              int // buyers with a held-out purchase (2+ orders)
	HitRate, BaselineHit   float64
	Coverage, BaselineCov  float64 // share of products recommended to anyone
	Build                  time.Duration
}

// Evaluate holds out each buyer's last order (one of its products, at
// random), learns from everything else, and asks both models for 10
// products for each buyer (seeded by their earlier purchases, already
// bought ones excluded unless repeat-purchase). At most sample buyers are
// asked (0 = all).
func Evaluate(lines []Line, cats map[int64]int64, halfLife time.Duration, sample int, seed uint64) EvalResult {
	train, held := holdOut(lines, seed)
	now := int64(0)
	for _, l := range lines {
		now = max(now, l.At)
	}
	start := time.Now()
	m := Build(train, cats, Params{HalfLife: halfLife, Keep: 40, Now: now})
	res := EvalResult{Lines: len(lines), Products: len(cats), Build: time.Since(start)}
	history := map[int64][]Line{}
	for _, l := range train {
		history[l.MemberID] = append(history[l.MemberID], l)
	}
	res.Users = len(history)
	members := make([]int64, 0, len(held))
	for mID := range held {
		members = append(members, mID)
	}
	slices.Sort(members)
	rng := rand.New(rand.NewPCG(seed, 11))
	rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	if sample > 0 && len(members) > sample {
		members = members[:sample]
	}
	covered, baseCovered := map[int64]bool{}, map[int64]bool{}
	var hits, baseHits int
	lambda := math.Ln2 / float64(halfLife.Milliseconds())
	for _, mID := range members {
		seeds, bought := seedsOf(history[mID], now, lambda, cats)
		exclude := func(id int64) bool { return bought[id] && !m.Repeat[id] }
		top := first(ForMember(m, seeds, exclude), 10)
		base := first(newRankingWith(exclude, m.Popular), 10)
		hits += hit(top, held[mID], covered)
		baseHits += hit(base, held[mID], baseCovered)
	}
	res.Evaluated = len(members)
	if n := float64(len(members)); n > 0 {
		res.HitRate, res.BaselineHit = float64(hits)/n, float64(baseHits)/n
	}
	if p := float64(len(cats)); p > 0 {
		res.Coverage, res.BaselineCov = float64(len(covered))/p, float64(len(baseCovered))/p
	}
	return res
}

// holdOut splits off each buyer's last order with 2+ orders: one of its
// products is the held-out purchase; the whole order leaves the training set.
func holdOut(lines []Line, seed uint64) (train []Line, held map[int64]int64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	last := map[int64]Line{} // per buyer, a line of the newest order
	orders := map[int64]map[int64]bool{}
	for _, l := range lines {
		if orders[l.MemberID] == nil {
			orders[l.MemberID] = map[int64]bool{}
		}
		orders[l.MemberID][l.OrderID] = true
		if cur, ok := last[l.MemberID]; !ok || l.At > cur.At || l.At == cur.At && l.OrderID > cur.OrderID {
			last[l.MemberID] = l
		}
	}
	held = map[int64]int64{}
	heldOrder := map[int64]bool{}
	candidates := map[int64][]int64{}
	for _, l := range lines {
		if len(orders[l.MemberID]) >= 2 && last[l.MemberID].OrderID == l.OrderID {
			heldOrder[l.OrderID] = true
			candidates[l.MemberID] = append(candidates[l.MemberID], l.SPU)
		}
	}
	for mID, c := range candidates {
		held[mID] = c[rng.IntN(len(c))]
	}
	train = make([]Line, 0, len(lines))
	for _, l := range lines {
		if !heldOrder[l.OrderID] {
			train = append(train, l)
		}
	}
	return train, held
}

// seedsOf weighs a buyer's purchases as the service does (newest first,
// decayed, at most maxSeeds).
func seedsOf(history []Line, now int64, lambda float64, cats map[int64]int64) ([]Seed, map[int64]bool) {
	sort.SliceStable(history, func(i, j int) bool { return history[i].At > history[j].At })
	bought := map[int64]bool{}
	var seeds []Seed
	for _, l := range history {
		if bought[l.SPU] {
			continue
		}
		bought[l.SPU] = true
		if len(seeds) < maxSeeds {
			seeds = append(seeds, Seed{ID: l.SPU, Weight: math.Exp(-lambda * float64(now-l.At)), Category: cats[l.SPU]})
		}
	}
	return seeds, bought
}

func newRankingWith(exclude func(int64) bool, list []Neighbor) []Pick {
	r := newRanking(exclude)
	r.add(list, SourcePopular)
	return r.out
}

func first(p []Pick, n int) []Pick { return p[:min(n, len(p))] }

func hit(top []Pick, want int64, covered map[int64]bool) int {
	h := 0
	for _, p := range top {
		covered[p.ID] = true
		if p.ID == want {
			h = 1
		}
	}
	return h
}

// ReadLatency measures answers of the product route's work in memory: the
// ranking and the catalog lookup (summaries decoded from JSON, as the
// catalog's read model keeps them) for n random products, and returns the
// 50th, 99th percentiles and the worst.
func ReadLatency(m *Model, cats map[int64]int64, n, k int, seed uint64) (p50, p99, worst time.Duration) {
	cat := newMemCatalog(cats)
	s := &Service{cat: cat, models: map[int64]*Model{1: m}}
	rng := rand.New(rand.NewPCG(seed, 5))
	ids := make([]int64, 0, len(cats))
	for id := range cats {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) == 0 || n <= 0 {
		return 0, 0, 0
	}
	took := make([]time.Duration, n)
	for i := range took {
		id := ids[rng.IntN(len(ids))]
		start := time.Now()
		p := s.cat.Summaries(1, []int64{id})
		_ = s.materialize(1, ForProduct(s.Model(1), id, p[0].CategoryID, nil), k)
		took[i] = time.Since(start)
	}
	slices.Sort(took)
	return took[n/2], took[n*99/100], took[n-1]
}

// memCatalog keeps summaries JSON-encoded, as catalog's read model does.
type memCatalog struct {
	mu    sync.RWMutex
	items map[int64][]byte
}

func newMemCatalog(cats map[int64]int64) *memCatalog {
	c := &memCatalog{items: make(map[int64][]byte, len(cats))}
	for id, cat := range cats {
		enc, _ := json.Marshal(catalog.Summary{ID: id, CategoryID: cat, Title: "商品", Image: "https://img.example.com/a.jpg",
			PriceMin: 9900, PriceMax: 19900, OnShelf: true})
		c.items[id] = enc
	}
	return c
}

func (c *memCatalog) Summaries(_ int64, ids []int64) []catalog.Summary {
	c.mu.RLock()
	encs := make([][]byte, 0, len(ids))
	for _, id := range ids {
		if e, ok := c.items[id]; ok {
			encs = append(encs, e)
		}
	}
	c.mu.RUnlock()
	out := make([]catalog.Summary, 0, len(encs))
	for _, e := range encs {
		var s catalog.Summary
		if json.Unmarshal(e, &s) == nil {
			out = append(out, s)
		}
	}
	return out
}
