// Package recs recommends products: item-item co-occurrence learned from
// paid orders ("bought together": the same order; "also bought": the same
// buyer, different orders), decayed by age and normalised by cosine, with
// popularity fallbacks (in the product's category, then shop-wide), and the
// buyer's recently viewed products. A periodic job (once per cluster)
// builds each shop's model and stores it; every process loads the stored
// model into memory and answers from there.
package recs

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Line is one product of one paid order, as the model learns from it.
type Line struct {
	OrderID, MemberID, SPU int64
	At                     int64 // when the order was paid, Unix ms
}

// Params tune a build.
type Params struct {
	HalfLife time.Duration // a purchase this old counts half
	Keep     int           // neighbours kept per product (more than served: some are filtered at read time)
	Now      int64         // Unix ms the ages are measured from
}

// Sizing limits that keep a build linear in the number of lines.
const (
	maxBasket    = 30  // an order's distinct products paired (the rest count for popularity only)
	maxUserItems = 50  // a buyer's most recent distinct products paired across orders
	repeatShare  = 0.2 // a product is repeat-purchase when this share of its buyers bought it in 2+ orders
	repeatMin    = 2   // … and at least this many did
)

// Neighbor is a scored product.
type Neighbor struct {
	ID    int64
	Score float32
}

// Model is a shop's recommendations: top neighbours per product and the
// popularity lists, all by product id.
type Model struct {
	BuiltAt    int64
	Lines      int64
	Together   map[int64][]Neighbor // same order
	AlsoBought map[int64][]Neighbor // same buyer, another order
	Popular    []Neighbor           // shop-wide, decayed orders
	ByCategory map[int64][]Neighbor // popular per category
	Repeat     map[int64]bool       // products people buy again (not excluded as "already bought")
}

// Build learns a model from lines; cats gives each live product's category
// (products missing from it, deleted ones, are left out of every list).
//
// Scores are cosine similarities of decayed occurrence vectors:
// C(i,j) / sqrt(N(i)·N(j)), where N counts orders (bought together) or
// buyers (also bought) with the product, each weighted 2^(-age/half-life).
// Raw co-counts would recommend the best sellers next to everything; lift
// (C·T / N(i)·N(j)) over-rewards rare products seen together once; cosine
// sits between the two and stays in [0,1].
func Build(lines []Line, cats map[int64]int64, p Params) *Model {
	b := newBuilder(cats, p)
	slices.SortFunc(lines, func(a, c Line) int {
		if a.MemberID != c.MemberID {
			return cmpInt(a.MemberID, c.MemberID)
		}
		if a.At != c.At {
			return cmpInt(a.At, c.At)
		}
		return cmpInt(a.OrderID, c.OrderID)
	})
	for start := 0; start < len(lines); {
		end := start
		for end < len(lines) && lines[end].MemberID == lines[start].MemberID {
			end++
		}
		b.member(lines[start:end])
		start = end
	}
	m := b.finish()
	m.Lines = int64(len(lines))
	return m
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// builder accumulates on dense product indexes.
type builder struct {
	p      Params
	ids    []int64         // index → product id
	index  map[int64]int32 // product id → index
	cats   map[int64]int64
	pop    []float64 // decayed orders per product
	nOrder []float64 // decayed orders containing the product (bought together's N)
	nUser  []float64 // decayed buyers of the product (also bought's N)
	buyers []int32   // distinct buyers
	repeat []int32   // buyers who bought it in 2+ orders
	pairT  map[uint64]float64
	pairA  map[uint64]float64
	lambda float64 // decay per ms
}

func newBuilder(cats map[int64]int64, p Params) *builder {
	b := &builder{p: p, cats: cats, index: make(map[int64]int32, len(cats)),
		pairT: map[uint64]float64{}, pairA: map[uint64]float64{}}
	if p.HalfLife > 0 {
		b.lambda = math.Ln2 / float64(p.HalfLife.Milliseconds())
	}
	ids := make([]int64, 0, len(cats))
	for id := range cats {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		b.index[id] = int32(i)
	}
	b.ids = ids
	n := len(ids)
	b.pop, b.nOrder, b.nUser = make([]float64, n), make([]float64, n), make([]float64, n)
	b.buyers, b.repeat = make([]int32, n), make([]int32, n)
	return b
}

// weight is the decay of a purchase made at at.
func (b *builder) weight(at int64) float64 {
	age := b.p.Now - at
	if age <= 0 || b.lambda == 0 {
		return 1
	}
	return math.Exp(-b.lambda * float64(age))
}

func pairKey(i, j int32) uint64 {
	if i > j {
		i, j = j, i
	}
	return uint64(uint32(i))<<32 | uint64(uint32(j))
}

// userItem is one product of one buyer's history.
type userItem struct {
	idx    int32
	w      float64 // the newest purchase's weight
	orders int
	order  int64 // the order, when bought in one only
}

// member adds one buyer's lines (sorted by time, then order).
func (b *builder) member(lines []Line) {
	var items []userItem
	pos := map[int32]int{}
	var basket []int32
	for start := 0; start < len(lines); {
		end := start
		for end < len(lines) && lines[end].OrderID == lines[start].OrderID {
			end++
		}
		basket = basket[:0]
		w := b.weight(lines[start].At)
		for _, l := range lines[start:end] {
			idx, ok := b.index[l.SPU]
			if !ok || slices.Contains(basket, idx) {
				continue
			}
			basket = append(basket, idx)
			if k, seen := pos[idx]; seen {
				it := &items[k]
				it.w = math.Max(it.w, w)
				it.orders++
			} else {
				pos[idx] = len(items)
				items = append(items, userItem{idx: idx, w: w, orders: 1, order: l.OrderID})
			}
		}
		b.order(basket, w)
		start = end
	}
	b.user(items)
}

// order counts one basket for popularity and bought-together.
func (b *builder) order(basket []int32, w float64) {
	for _, i := range basket {
		b.pop[i] += w
		b.nOrder[i] += w
	}
	if len(basket) > maxBasket {
		basket = basket[:maxBasket]
	}
	for x := 0; x < len(basket); x++ {
		for y := x + 1; y < len(basket); y++ {
			b.pairT[pairKey(basket[x], basket[y])] += w
		}
	}
}

// user counts one buyer's products for also-bought: two products pair
// unless both were bought only once, in the same order.
func (b *builder) user(items []userItem) {
	for _, it := range items {
		b.nUser[it.idx] += it.w
		b.buyers[it.idx]++
		if it.orders > 1 {
			b.repeat[it.idx]++
		}
	}
	if len(items) > maxUserItems { // keep the newest
		sort.SliceStable(items, func(x, y int) bool { return items[x].w > items[y].w })
		items = items[:maxUserItems]
	}
	for x := 0; x < len(items); x++ {
		for y := x + 1; y < len(items); y++ {
			a, c := items[x], items[y]
			if a.orders == 1 && c.orders == 1 && a.order == c.order {
				continue
			}
			b.pairA[pairKey(a.idx, c.idx)] += math.Sqrt(a.w * c.w)
		}
	}
}

func (b *builder) finish() *Model {
	m := &Model{BuiltAt: b.p.Now, Repeat: map[int64]bool{}}
	m.Together = b.topK(b.pairT, b.nOrder)
	m.AlsoBought = b.topK(b.pairA, b.nUser)
	m.Popular, m.ByCategory = b.popular()
	for i, n := range b.buyers {
		if b.repeat[i] >= repeatMin && float64(b.repeat[i]) >= repeatShare*float64(n) {
			m.Repeat[b.ids[i]] = true
		}
	}
	return m
}

// topK scores every pair by cosine and keeps each product's best.
func (b *builder) topK(pairs map[uint64]float64, n []float64) map[int64][]Neighbor {
	heaps := make([]topHeap, len(b.ids))
	for k, c := range pairs {
		i, j := int32(k>>32), int32(uint32(k))
		s := float32(c / math.Sqrt(n[i]*n[j]))
		heaps[i].push(Neighbor{ID: b.ids[j], Score: s}, b.p.Keep)
		heaps[j].push(Neighbor{ID: b.ids[i], Score: s}, b.p.Keep)
	}
	out := make(map[int64][]Neighbor)
	for i, h := range heaps {
		if len(h) > 0 {
			out[b.ids[i]] = h.sorted()
		}
	}
	return out
}

// popular ranks products by decayed orders, shop-wide and per category.
func (b *builder) popular() ([]Neighbor, map[int64][]Neighbor) {
	var all topHeap
	byCat := map[int64]*topHeap{}
	for i, w := range b.pop {
		if w == 0 {
			continue
		}
		nb := Neighbor{ID: b.ids[i], Score: float32(w)}
		all.push(nb, b.p.Keep)
		cat := b.cats[b.ids[i]]
		h := byCat[cat]
		if h == nil {
			h = &topHeap{}
			byCat[cat] = h
		}
		h.push(nb, b.p.Keep)
	}
	out := make(map[int64][]Neighbor, len(byCat))
	for c, h := range byCat {
		out[c] = h.sorted()
	}
	return all.sorted(), out
}

// better orders neighbours: higher score, then lower id (deterministic).
func better(a, b Neighbor) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.ID < b.ID
}

// topHeap is a bounded min-heap (the worst kept neighbour at the root).
type topHeap []Neighbor

func (h *topHeap) push(n Neighbor, limit int) {
	s := *h
	if len(s) < limit {
		s = append(s, n)
		for c := len(s) - 1; c > 0; { // sift up
			p := (c - 1) / 2
			if !better(s[p], s[c]) {
				break
			}
			s[p], s[c] = s[c], s[p]
			c = p
		}
		*h = s
		return
	}
	if limit == 0 || !better(n, s[0]) {
		return
	}
	s[0] = n
	for p := 0; ; { // sift down
		l, r, w := 2*p+1, 2*p+2, p
		if l < len(s) && better(s[w], s[l]) {
			w = l
		}
		if r < len(s) && better(s[w], s[r]) {
			w = r
		}
		if w == p {
			break
		}
		s[p], s[w] = s[w], s[p]
		p = w
	}
}

func (h topHeap) sorted() []Neighbor {
	out := append([]Neighbor(nil), h...)
	sort.Slice(out, func(x, y int) bool { return better(out[x], out[y]) })
	return out
}
