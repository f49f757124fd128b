// Package catalog holds a shop's categories (a tree), products (SPUs) with
// spec dimensions such as 颜色 × 尺码, and their SKUs with price and stock.
// Browsing and search are served from an in-memory read model that every
// server process keeps in step with the database.
package catalog

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/richtext"
)

// Limits on what a product may hold.
const (
	MaxSpecDims    = 3
	MaxSpecValues  = 30
	MaxSKUs        = 600
	MaxImages      = 20
	MaxPriceFen    = 100_000_000 // 1,000,000 yuan
	MaxStock       = 10_000_000
	MaxTitleRunes  = 100
	MaxDescription = 20_000
	MaxWeightGrams = 1_000_000 // one tonne a piece
)

// Kind is what a product is; it sets the VAT rate on its order lines.
type Kind string

const (
	KindGoods   Kind = "goods"
	KindService Kind = "service"
	KindDigital Kind = "digital" // paid content
)

// EnumValues lists the kinds for the API document.
func (Kind) EnumValues() []string {
	return []string{string(KindGoods), string(KindService), string(KindDigital)}
}

// TaxRate is the VAT rate of a kind in basis points: 1300 = 13%.
func (k Kind) TaxRate() int64 {
	if k == KindService || k == KindDigital {
		return 600
	}
	return 1300
}

// Category is a node of a shop's category tree.
type Category struct {
	ID             int64      `json:"id"`
	ParentID       int64      `json:"parent_id" doc:"0 for a top-level category"`
	Name           string     `json:"name"`
	Sort           int64      `json:"sort" doc:"higher first"`
	NeedsBrandAuth bool       `json:"needs_brand_auth" doc:"WeChat requires a brand authorization for this category (set by operators)"`
	Children       []Category `json:"children,omitempty"`
}

// SpecDim is one spec dimension of a product, e.g. 颜色: 红, 蓝.
type SpecDim struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// SKU is one sellable variant: one value of every spec dimension.
type SKU struct {
	ID          int64    `json:"id"`
	SpecValues  []string `json:"spec_values" doc:"one value per spec dimension, in order"`
	Price       int64    `json:"price" doc:"fen"`
	Stock       int64    `json:"stock"`
	Code        string   `json:"code"`
	WeightGrams int64    `json:"weight_grams" doc:"grams of one piece, for freight templates charged by weight"`
}

// Product is an SPU with its SKUs.
type Product struct {
	ID          int64  `json:"id"`
	CategoryID  int64  `json:"category_id"`
	Title       string `json:"title"`
	Subtitle    string `json:"subtitle"`
	Description string `json:"description" doc:"sanitized HTML (staff write rich text; see description_nodes)"`
	// DescriptionNodes is the description as <rich-text> nodes, in buyers'
	// product detail only.
	DescriptionNodes  []richtext.Node `json:"description_nodes,omitempty" doc:"buyers' product detail only: the description as nodes for the mini program's <rich-text>"`
	Images            []string        `json:"images"`
	Specs             []SpecDim       `json:"specs"`
	OnShelf           bool            `json:"on_shelf"`
	Sort              int64           `json:"sort"`
	PriceMin          int64           `json:"price_min" doc:"fen"`
	PriceMax          int64           `json:"price_max" doc:"fen"`
	Kind              Kind            `json:"kind"`
	FreightTemplateID int64           `json:"freight_template_id" doc:"the freight template it ships under; 0 = the shop's flat shipping fee"`
	SKUs              []SKU           `json:"skus"`
	Deleted           bool            `json:"deleted,omitempty"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
}

// Summary is a product in a list.
type Summary struct {
	ID         int64  `json:"id"`
	CategoryID int64  `json:"category_id"`
	Title      string `json:"title"`
	Subtitle   string `json:"subtitle"`
	Image      string `json:"image"`
	PriceMin   int64  `json:"price_min" doc:"fen"`
	PriceMax   int64  `json:"price_max" doc:"fen"`
	OnShelf    bool   `json:"on_shelf"`
}

// Page is a page of products; the API answers it as httpx.Page.
type Page struct {
	Items []Summary
	Next  int64 // the After of the next page; 0 when there is none
}

// SKUInput is a SKU as staff send it. ID names an existing SKU to keep;
// 0 adds a new one.
type SKUInput struct {
	ID          int64    `json:"id,omitempty"`
	SpecValues  []string `json:"spec_values"`
	Price       int64    `json:"price" doc:"fen, 0 to 100,000,000"`
	Stock       int64    `json:"stock" doc:"0 to 10,000,000"`
	StockSeen   *int64   `json:"stock_seen,omitempty" doc:"for an existing SKU: the stock the editor loaded; the save fails with stock_changed if a sale moved it, and an unchanged stock leaves sales made meanwhile intact"`
	Code        string   `json:"code"`
	WeightGrams int64    `json:"weight_grams" doc:"grams of one piece, 0 to 1,000,000 (for freight by weight)"`
}

// ProductInput is a whole product as staff send it (create or replace).
type ProductInput struct {
	CategoryID        int64      `json:"category_id"`
	Title             string     `json:"title"`
	Subtitle          string     `json:"subtitle"`
	Description       string     `json:"description" doc:"rich text as HTML (p, br, headings, strong/b, em/i, u, s, lists, blockquote, tables, img with an http(s) or /media/ src, a few inline styles); stored sanitized: scripts, event handlers, links and other tags are removed, their text kept. Plain text keeps its line breaks"`
	Images            []string   `json:"images"`
	Specs             []SpecDim  `json:"specs"`
	SKUs              []SKUInput `json:"skus"`
	OnShelf           bool       `json:"on_shelf"`
	Sort              int64      `json:"sort"`
	Kind              Kind       `json:"kind" doc:"goods (default, 13% VAT), service or digital (6% VAT)"`
	FreightTemplateID int64      `json:"freight_template_id" doc:"a freight template of the shop; 0 or absent = the shop's flat shipping fee"`

	reviewHold bool // the text waits for review: stored off the shelf
}

func (in *ProductInput) normalize() {
	in.Title = strings.TrimSpace(in.Title)
	in.Subtitle = strings.TrimSpace(in.Subtitle)
	for i := range in.Specs {
		in.Specs[i].Name = strings.TrimSpace(in.Specs[i].Name)
		for j := range in.Specs[i].Values {
			in.Specs[i].Values[j] = strings.TrimSpace(in.Specs[i].Values[j])
		}
	}
	for i := range in.SKUs {
		in.SKUs[i].Code = strings.TrimSpace(in.SKUs[i].Code)
		for j := range in.SKUs[i].SpecValues {
			in.SKUs[i].SpecValues[j] = strings.TrimSpace(in.SKUs[i].SpecValues[j])
		}
	}
}

// validate checks everything that does not need the database.
func (in *ProductInput) validate() error {
	in.normalize()
	var v errs.Validator
	v.Check(in.CategoryID > 0, "category_id", "must name a category")
	v.Check(runes(in.Title) >= 1 && runes(in.Title) <= MaxTitleRunes, "title", "must be 1 to 100 characters")
	v.Check(runes(in.Subtitle) <= 200, "subtitle", "must be at most 200 characters")
	v.Check(len(in.Description) <= MaxDescription, "description", "must be at most 20,000 bytes")
	in.Description = richtext.Sanitize(in.Description)
	v.Check(in.Sort >= -1_000_000 && in.Sort <= 1_000_000, "sort", "must be between -1,000,000 and 1,000,000")
	if in.Kind == "" {
		in.Kind = KindGoods
	}
	v.Check(in.Kind == KindGoods || in.Kind == KindService || in.Kind == KindDigital, "kind", "must be goods, service or digital")
	v.Check(in.FreightTemplateID >= 0, "freight_template_id", "must be a freight template id or 0")
	validateImages(&v, in.Images)
	validateSpecs(&v, in.Specs)
	validateSKUs(&v, in.Specs, in.SKUs)
	return v.Err()
}

func runes(s string) int { return len([]rune(s)) }

func validateImages(v *errs.Validator, images []string) {
	v.Check(len(images) <= MaxImages, "images", "at most 20 images")
	for i, img := range images {
		u, err := url.Parse(img)
		ok := err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(img) <= 1024
		v.Check(ok, fmt.Sprintf("images[%d]", i), "must be an http(s) URL of at most 1024 characters")
	}
}

func validateSpecs(v *errs.Validator, specs []SpecDim) {
	v.Check(len(specs) <= MaxSpecDims, "specs", "at most 3 spec dimensions")
	names := map[string]bool{}
	for i, d := range specs {
		field := fmt.Sprintf("specs[%d]", i)
		v.Check(runes(d.Name) >= 1 && runes(d.Name) <= 20 && !names[d.Name], field+".name", "must be 1 to 20 characters and unique")
		names[d.Name] = true
		v.Check(len(d.Values) >= 1 && len(d.Values) <= MaxSpecValues, field+".values", "must hold 1 to 30 values")
		seen := map[string]bool{}
		for _, val := range d.Values {
			v.Check(runes(val) >= 1 && runes(val) <= 30 && !seen[val], field+".values", "values must be 1 to 30 characters and unique")
			seen[val] = true
		}
	}
}

func validateSKUs(v *errs.Validator, specs []SpecDim, skus []SKUInput) {
	v.Check(len(skus) >= 1 && len(skus) <= MaxSKUs, "skus", "must hold 1 to 600 SKUs")
	combos, codes, ids := map[string]bool{}, map[string]bool{}, map[int64]bool{}
	for i, s := range skus {
		field := fmt.Sprintf("skus[%d]", i)
		v.Check(s.Price >= 0 && s.Price <= MaxPriceFen, field+".price", "must be 0 to 100,000,000 fen")
		v.Check(s.Stock >= 0 && s.Stock <= MaxStock, field+".stock", "must be 0 to 10,000,000")
		v.Check(s.WeightGrams >= 0 && s.WeightGrams <= MaxWeightGrams, field+".weight_grams", "must be 0 to 1,000,000 grams")
		v.Check(len(s.Code) <= 64 && (s.Code == "" || !codes[s.Code]), field+".code", "must be at most 64 characters and unique")
		codes[s.Code] = s.Code != ""
		v.Check(s.ID >= 0 && (s.ID == 0 || !ids[s.ID]), field+".id", "must be an existing SKU id, once")
		ids[s.ID] = true
		v.Check(matchesSpecs(specs, s.SpecValues), field+".spec_values", "must give one value of each spec dimension, in order")
		key := strings.Join(s.SpecValues, "\x00")
		v.Check(!combos[key], field+".spec_values", "two SKUs have the same spec values")
		combos[key] = true
	}
}

func matchesSpecs(specs []SpecDim, values []string) bool {
	if len(values) != len(specs) {
		return false
	}
	for i, d := range specs {
		found := false
		for _, val := range d.Values {
			found = found || val == values[i]
		}
		if !found {
			return false
		}
	}
	return true
}

func priceRange(skus []SKUInput) (lo, hi int64) {
	for i, s := range skus {
		if i == 0 || s.Price < lo {
			lo = s.Price
		}
		if s.Price > hi {
			hi = s.Price
		}
	}
	return lo, hi
}
