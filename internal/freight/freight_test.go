package freight

import (
	"testing"
)

// Regions used below (GB/T 2260).
const (
	zhejiang = "330000"
	hangzhou = "330100"
	xihu     = "330106"
	ningbo   = "330200"
	xinjiang = "650000"
	urumqi   = "650100"
	tibet    = "540000"
)

var hangzhouXihu = []string{zhejiang, hangzhou, xihu}

func pieceTemplate() *Template {
	return &Template{ID: 1, Basis: ByPiece,
		Default: Rule{FirstUnits: 1, FirstFee: 1000, ExtraUnits: 1, ExtraFee: 500},
		Rules: []Rule{
			{Regions: []string{zhejiang}, FirstUnits: 2, FirstFee: 600, ExtraUnits: 2, ExtraFee: 300},
			{Regions: []string{hangzhou}, FirstUnits: 1, FirstFee: 0, ExtraUnits: 1, ExtraFee: 100},
			{Regions: []string{xinjiang}, FirstUnits: 1, FirstFee: 2500, ExtraUnits: 1, ExtraFee: 1500},
		},
		NoDelivery: []string{tibet},
	}
}

func TestPriceTable(t *testing.T) {
	weight := &Template{ID: 2, Basis: ByWeight,
		Default: Rule{FirstUnits: 1000, FirstFee: 1200, ExtraUnits: 500, ExtraFee: 300}}
	freeAbove := pieceTemplate()
	freeAbove.Free = []Free{{MinAmount: 20000}, {Regions: []string{ningbo}, MinPieces: 3}}
	freeBoth := pieceTemplate()
	freeBoth.Free = []Free{{MinAmount: 10000, MinPieces: 2}}
	cases := []struct {
		name  string
		t     *Template
		chain []string
		items []Item
		fee   int64
		ok    bool
	}{
		{"piece default, one", pieceTemplate(), []string{"110000", "110100", "110105"}, []Item{{Quantity: 1}}, 1000, true},
		{"piece default, extra pieces", pieceTemplate(), []string{"110000", "110100"}, []Item{{Quantity: 2}, {Quantity: 2}}, 1000 + 3*500, true},
		{"province rule over the default", pieceTemplate(), []string{zhejiang, ningbo}, []Item{{Quantity: 3}}, 600 + 300, true},
		{"extra units round up", pieceTemplate(), []string{zhejiang, ningbo}, []Item{{Quantity: 5}}, 600 + 2*300, true},
		{"city rule over its province", pieceTemplate(), hangzhouXihu, []Item{{Quantity: 3}}, 0 + 2*100, true},
		{"remote region", pieceTemplate(), []string{xinjiang, urumqi}, []Item{{Quantity: 2}}, 2500 + 1500, true},
		{"not delivered", pieceTemplate(), []string{tibet, "540100"}, []Item{{Quantity: 1}}, 0, false},
		{"unknown address: the default", pieceTemplate(), nil, []Item{{Quantity: 2}}, 1500, true},
		{"weight within the first kilo", weight, hangzhouXihu, []Item{{Quantity: 2, WeightGrams: 500}}, 1200, true},
		{"weight: a started half kilo counts", weight, hangzhouXihu, []Item{{Quantity: 1, WeightGrams: 1001}}, 1500, true},
		{"weight over lines", weight, hangzhouXihu, []Item{{Quantity: 2, WeightGrams: 700}, {Quantity: 1, WeightGrams: 600}}, 1200 + 2*300, true},
		{"weightless pieces pay the first fee", weight, hangzhouXihu, []Item{{Quantity: 3}}, 1200, true},
		{"free above an amount", freeAbove, []string{"110000", "110100"}, []Item{{Quantity: 1, Amount: 15000}, {Quantity: 1, Amount: 5000}}, 0, true},
		{"below the amount", freeAbove, []string{"110000", "110100"}, []Item{{Quantity: 1, Amount: 19999}}, 1000, true},
		{"free by count in its region", freeAbove, []string{zhejiang, ningbo, "330203"}, []Item{{Quantity: 3, Amount: 300}}, 0, true},
		{"count outside its region", freeAbove, hangzhouXihu, []Item{{Quantity: 3, Amount: 300}}, 200, true},
		{"amount and count: both needed", freeBoth, []string{"110000", "110100"}, []Item{{Quantity: 1, Amount: 50000}}, 1000, true},
		{"amount and count: both met", freeBoth, []string{"110000", "110100"}, []Item{{Quantity: 2, Amount: 10000}}, 0, true},
		{"not delivered beats free shipping", freeAbove, []string{tibet}, []Item{{Quantity: 9, Amount: 90000}}, 0, false},
	}
	for _, c := range cases {
		fee, ok := c.t.Price(c.chain, c.items)
		if fee != c.fee || ok != c.ok {
			t.Errorf("%s: fee %d ok %v, want %d %v", c.name, fee, ok, c.fee, c.ok)
		}
	}
}

// TestQuoteLinesSumsPerTemplate: each template prices its own lines (so
// their pieces add up within a template, not across), lines without a
// template ask for the flat fee, and undelivered lines are named.
func TestQuoteLinesSumsPerTemplate(t *testing.T) {
	a := pieceTemplate()
	b := &Template{ID: 7, Basis: ByPiece, Default: Rule{FirstUnits: 1, FirstFee: 800, ExtraUnits: 1, ExtraFee: 200},
		NoDelivery: []string{xinjiang}}
	templates := map[int64]*Template{1: a, 7: b}
	lines := []Line{{TemplateID: 1, Item: Item{Quantity: 1}}, {TemplateID: 7, Item: Item{Quantity: 2}}, {TemplateID: 1, Item: Item{Quantity: 1}}}
	q := QuoteLines(templates, []string{"110000", "110100"}, lines)
	if q.Fee != (1000+500)+(800+200) || q.Flat || len(q.Undelivered) != 0 {
		t.Fatalf("two templates: %+v", q)
	}
	q = QuoteLines(templates, []string{"110000", "110100"}, append(lines, Line{Item: Item{Quantity: 1}}, Line{TemplateID: 99, Item: Item{Quantity: 1}}))
	if q.Fee != 2500 || !q.Flat {
		t.Fatalf("with lines at the flat fee (no template, a deleted one): %+v", q)
	}
	q = QuoteLines(templates, []string{xinjiang, urumqi}, lines)
	if len(q.Undelivered) != 1 || q.Undelivered[0] != 1 {
		t.Fatalf("template 7 does not deliver to Xinjiang: %+v", q)
	}
}

func TestValidateCodes(t *testing.T) {
	ok := func() Input {
		return Input{Name: "默认", Default: Rule{FirstUnits: 1, FirstFee: 1000, ExtraUnits: 1, ExtraFee: 500},
			Rules: []Rule{{Regions: []string{zhejiang, "310000"}, FirstUnits: 1, FirstFee: 500, ExtraUnits: 1, ExtraFee: 200}},
			Free:  []Free{{MinAmount: 9900}}, NoDelivery: []string{tibet, "650102"}}
	}
	if in := ok(); in.validate() != nil || in.Basis != ByPiece {
		t.Fatalf("a valid template: %v", in.validate())
	}
	for _, c := range []struct {
		name string
		edit func(*Input)
		code string
	}{
		{"rule without regions", func(in *Input) { in.Rules[0].Regions = nil }, "rule_without_regions"},
		{"unknown region", func(in *Input) { in.Rules[0].Regions = []string{"999999"} }, "invalid_region"},
		{"a county in a rule", func(in *Input) { in.Rules[0].Regions = []string{xihu} }, "invalid_region"},
		{"garbage region", func(in *Input) { in.NoDelivery = []string{"'; DROP"} }, "invalid_region"},
		{"free in an unknown region", func(in *Input) { in.Free[0].Regions = []string{"12"} }, "invalid_region"},
		{"a region in two rules", func(in *Input) {
			in.Rules = append(in.Rules, Rule{Regions: []string{zhejiang}, FirstUnits: 1, ExtraUnits: 1})
		}, "duplicate_region"},
		{"negative first fee", func(in *Input) { in.Default.FirstFee = -1 }, "negative_fee"},
		{"negative extra fee in a rule", func(in *Input) { in.Rules[0].ExtraFee = -5 }, "negative_fee"},
		{"zero first units", func(in *Input) { in.Default.FirstUnits = 0 }, "zero_units"},
		{"zero extra units in a rule", func(in *Input) { in.Rules[0].ExtraUnits = 0 }, "zero_units"},
		{"no name", func(in *Input) { in.Name = " " }, "invalid_fields"},
		{"unknown basis", func(in *Input) { in.Basis = "volume" }, "invalid_fields"},
		{"regions on the default", func(in *Input) { in.Default.Regions = []string{zhejiang} }, "invalid_fields"},
		{"free without a condition", func(in *Input) { in.Free[0].MinAmount = 0 }, "invalid_fields"},
		{"huge fee", func(in *Input) { in.Default.FirstFee = 1 << 60 }, "invalid_fields"},
	} {
		in := ok()
		c.edit(&in)
		err := in.validate()
		if err == nil || !isCode(err, c.code) {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
}
