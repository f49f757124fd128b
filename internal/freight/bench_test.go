package freight

import (
	"testing"

	"github.com/kaidian/kaidian/internal/platform/region"
)

// realistic is a template as shops write them: a region rule for each of
// the remote provinces, one for the whole of 江浙沪 by city, free shipping
// above an amount, a few regions not delivered to.
func realistic() *Template {
	t := &Template{ID: 1, Basis: ByPiece, Default: Rule{FirstUnits: 1, FirstFee: 1000, ExtraUnits: 1, ExtraFee: 500},
		Free: []Free{{MinAmount: 9900}, {Regions: []string{"310000"}, MinPieces: 2}}, NoDelivery: []string{"540000", "810000", "820000"}}
	for _, p := range []string{"650000", "150000", "630000", "640000", "620000"} {
		t.Rules = append(t.Rules, Rule{Regions: []string{p}, FirstUnits: 1, FirstFee: 2500, ExtraUnits: 1, ExtraFee: 1500})
	}
	var near []string
	for _, p := range []string{"330000", "320000"} {
		for _, c := range region.Children(p) {
			near = append(near, c.Code)
		}
	}
	t.Rules = append(t.Rules, Rule{Regions: near, FirstUnits: 1, FirstFee: 600, ExtraUnits: 1, ExtraFee: 300})
	return t
}

// BenchmarkQuoteLines prices a three-line order under two templates to a
// county (the work freight adds to order creation, beyond loading the
// templates).
func BenchmarkQuoteLines(b *testing.B) {
	templates := map[int64]*Template{1: realistic(), 2: {ID: 2, Basis: ByWeight, Default: Rule{FirstUnits: 1000, FirstFee: 1200, ExtraUnits: 500, ExtraFee: 300}}}
	lines := []Line{{TemplateID: 1, Item: Item{Quantity: 2, Amount: 5000}}, {TemplateID: 2, Item: Item{Quantity: 1, WeightGrams: 1500, Amount: 3000}},
		{TemplateID: 1, Item: Item{Quantity: 1, Amount: 2000}}}
	chain := []string{"440000", "440300", "440305"} // 深圳南山: the default rule, after looking at every rule
	for b.Loop() {
		if q := QuoteLines(templates, chain, lines); q.Fee == 0 {
			b.Fatal(q)
		}
	}
}
