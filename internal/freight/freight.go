// Package freight is the shop's freight templates (运费模板) and the pure
// function that prices a shipment with them.
//
// A template charges by piece or by weight (grams): its default rule (the
// first N units cost a fee, each M more units another fee, rounded up to
// whole steps) applies everywhere except where a region rule (a list of
// province or city codes) overrides it; the most specific region wins (a
// city's rule over its province's). Free-shipping conditions (goods at or
// above an amount and/or a number of pieces, everywhere or in some regions)
// make the template's lines ship free, and a list of regions (province,
// city or county) is not delivered to at all.
//
// An order whose lines point at several templates is charged, per
// template, that template's fee on its own lines (units, amount and pieces
// added up over those lines), and the order's freight is the sum; lines
// without a template share the shop's flat shipping fee (see order).
package freight

import (
	"sort"
	"time"
)

// Basis is what a template counts.
type Basis string

const (
	ByPiece  Basis = "piece"  // units are pieces
	ByWeight Basis = "weight" // units are grams
)

// EnumValues lists the bases for the API document.
func (Basis) EnumValues() []string { return []string{string(ByPiece), string(ByWeight)} }

// Rule is a price: the first FirstUnits units cost FirstFee, each further
// ExtraUnits units (or part of them) ExtraFee. Regions is empty for the
// default rule and lists province or city codes for a region rule.
type Rule struct {
	Regions    []string `json:"regions,omitempty" doc:"GB/T 2260 province or city codes (a region rule); absent on the default rule"`
	FirstUnits int64    `json:"first_units" doc:"pieces or grams covered by first_fee, at least 1"`
	FirstFee   int64    `json:"first_fee" doc:"fen"`
	ExtraUnits int64    `json:"extra_units" doc:"pieces or grams per extra step, at least 1"`
	ExtraFee   int64    `json:"extra_fee" doc:"fen per extra step (a part of a step counts as a whole one)"`
}

// Free is a free-shipping condition: the template's lines ship free when
// their goods reach MinAmount fen (if set) and MinPieces pieces (if set),
// to an address in Regions (empty: everywhere).
type Free struct {
	Regions   []string `json:"regions,omitempty" doc:"province or city codes; absent = everywhere"`
	MinAmount int64    `json:"min_amount" doc:"fen of goods at promotion prices (before coupons), 0 = no amount condition"`
	MinPieces int64    `json:"min_pieces" doc:"pieces, 0 = no count condition"`
}

// Template is a freight template.
type Template struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Basis      Basis     `json:"basis"`
	Default    Rule      `json:"default"`
	Rules      []Rule    `json:"rules" doc:"region rules overriding the default; the most specific region of the address wins"`
	Free       []Free    `json:"free" doc:"free-shipping conditions; any one met ships the template's lines free"`
	NoDelivery []string  `json:"no_delivery" doc:"province, city or county codes not delivered to"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`

	shopID int64 // of a cached template
}

// Item is what a template prices of one order line.
type Item struct {
	Quantity    int64 // pieces
	WeightGrams int64 // of one piece
	Amount      int64 // fen, the line's goods at promotion prices
}

// Price is the fee of shipping items under t to the address whose region
// chain (codes, province first; nil when unknown) is given. ok is false
// when the address is in a region t does not deliver to.
func (t *Template) Price(chain []string, items []Item) (fee int64, ok bool) {
	for _, code := range chain {
		if contains(t.NoDelivery, code) {
			return 0, false
		}
	}
	var units, pieces, amount int64
	for _, it := range items {
		pieces += it.Quantity
		amount += it.Amount
		if t.Basis == ByWeight {
			units += it.Quantity * it.WeightGrams
		} else {
			units += it.Quantity
		}
	}
	if pieces == 0 {
		return 0, true
	}
	for _, f := range t.Free {
		if (len(f.Regions) == 0 || inAny(chain, f.Regions)) && (f.MinAmount > 0 || f.MinPieces > 0) &&
			amount >= f.MinAmount && pieces >= f.MinPieces {
			return 0, true
		}
	}
	return t.rule(chain).fee(units), true
}

// rule is the rule for the region chain: the rule naming the most specific
// code of the chain, else the default.
func (t *Template) rule(chain []string) *Rule {
	for i := len(chain) - 1; i >= 0; i-- {
		for k := range t.Rules {
			if contains(t.Rules[k].Regions, chain[i]) {
				return &t.Rules[k]
			}
		}
	}
	return &t.Default
}

// fee is the rule's price of units: a shipment costs at least the first
// fee (a weightless piece still ships), each started extra step more.
func (r *Rule) fee(units int64) int64 {
	fee := r.FirstFee
	if units > r.FirstUnits && r.ExtraUnits > 0 {
		steps := (units - r.FirstUnits + r.ExtraUnits - 1) / r.ExtraUnits
		fee += steps * r.ExtraFee
	}
	return fee
}

func inAny(chain, regions []string) bool {
	for _, c := range chain {
		if contains(regions, c) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Line is an order line as Quote sees it: the template its product points
// at (0 = none) and what it ships.
type Line struct {
	TemplateID int64
	Item
}

// Quote is what an order's freight comes to.
type Quote struct {
	Fee int64 // fen, the templates' fees added up
	// Flat reports that some lines have no template (the shop's flat fee
	// applies to them).
	Flat bool
	// Undelivered are the indexes of the lines whose template does not
	// deliver to the address.
	Undelivered []int
}

// QuoteLines prices an order's lines: each template on its own lines, the
// fees added up. A line whose template is missing from templates (deleted
// since) counts as a line without a template.
func QuoteLines(templates map[int64]*Template, chain []string, lines []Line) Quote {
	var q Quote
	groups := map[int64][]Item{}
	var order []int64
	for _, l := range lines {
		if _, ok := templates[l.TemplateID]; !ok {
			q.Flat = true
			continue
		}
		if _, seen := groups[l.TemplateID]; !seen {
			order = append(order, l.TemplateID)
		}
		groups[l.TemplateID] = append(groups[l.TemplateID], l.Item)
	}
	for _, id := range order {
		fee, ok := templates[id].Price(chain, groups[id])
		if !ok {
			for i, l := range lines {
				if l.TemplateID == id {
					q.Undelivered = append(q.Undelivered, i)
				}
			}
			continue
		}
		q.Fee += fee
	}
	sort.Ints(q.Undelivered)
	return q
}
