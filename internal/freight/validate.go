package freight

import (
	"fmt"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/region"
)

// Limits on a template.
const (
	MaxRules      = 100
	MaxFree       = 50
	MaxRegions    = 400        // codes in one list
	MaxFee        = 10_000_000 // fen: 100,000 yuan
	MaxUnits      = 1_000_000_000
	MaxNameRunes  = 50
	MaxThreshold  = 10_000_000_000 // fen
	MaxPieceCount = 1_000_000
)

// Input is a template as staff send it.
type Input struct {
	Name       string   `json:"name"`
	Basis      Basis    `json:"basis" doc:"piece (default) or weight (grams; SKUs' weight_grams)"`
	Default    Rule     `json:"default" doc:"the price everywhere no region rule covers"`
	Rules      []Rule   `json:"rules" doc:"region rules; each lists province or city codes, no code in two rules"`
	Free       []Free   `json:"free" doc:"free-shipping conditions"`
	NoDelivery []string `json:"no_delivery" doc:"province, city or county codes not delivered to"`
}

// validate checks in, reporting the first problem with a stable code:
// invalid_fields (name, basis, sizes), rule_without_regions,
// invalid_region (unknown code, or a county in a rule), duplicate_region,
// negative_fee, zero_units.
func (in *Input) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Basis == "" {
		in.Basis = ByPiece
	}
	var v errs.Validator
	v.Check(len([]rune(in.Name)) >= 1 && len([]rune(in.Name)) <= MaxNameRunes, "name", "must be 1 to 50 characters")
	v.Check(in.Basis == ByPiece || in.Basis == ByWeight, "basis", "must be piece or weight")
	v.Check(len(in.Default.Regions) == 0, "default.regions", "the default rule covers every region not in a rule: give it no regions")
	v.Check(len(in.Rules) <= MaxRules, "rules", "at most 100 rules")
	v.Check(len(in.Free) <= MaxFree, "free", "at most 50 free-shipping conditions")
	v.Check(len(in.NoDelivery) <= MaxRegions, "no_delivery", "at most 400 regions")
	if err := v.Err(); err != nil {
		return err
	}
	if err := in.Default.check("default"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, r := range in.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		if len(r.Regions) == 0 {
			return errs.Field(field+".regions", "rule_without_regions", "a region rule must list at least one province or city")
		}
		if err := checkRegions(field+".regions", r.Regions, region.City, seen); err != nil {
			return err
		}
		if err := r.check(field); err != nil {
			return err
		}
	}
	for i, f := range in.Free {
		field := fmt.Sprintf("free[%d]", i)
		if err := checkRegions(field+".regions", f.Regions, region.City, map[string]bool{}); err != nil {
			return err
		}
		v.Check(f.MinAmount >= 0 && f.MinAmount <= MaxThreshold, field+".min_amount", "must be 0 to 10,000,000,000 fen")
		v.Check(f.MinPieces >= 0 && f.MinPieces <= MaxPieceCount, field+".min_pieces", "must be 0 to 1,000,000")
		v.Check(f.MinAmount > 0 || f.MinPieces > 0, field, "give min_amount, min_pieces or both")
	}
	if err := v.Err(); err != nil {
		return err
	}
	return checkRegions("no_delivery", in.NoDelivery, region.County, map[string]bool{})
}

func (r Rule) check(field string) error {
	if r.FirstFee < 0 || r.ExtraFee < 0 {
		return errs.Field(field, "negative_fee", "fees must be 0 or more fen")
	}
	if r.FirstUnits <= 0 || r.ExtraUnits <= 0 {
		return errs.Field(field, "zero_units", "first_units and extra_units must be at least 1")
	}
	var v errs.Validator
	v.Check(r.FirstFee <= MaxFee && r.ExtraFee <= MaxFee, field, "fees must be at most 10,000,000 fen")
	v.Check(r.FirstUnits <= MaxUnits && r.ExtraUnits <= MaxUnits, field, "units must be at most 1,000,000,000")
	return v.Err()
}

// checkRegions checks that every code is a region of at most level deep,
// and not in seen (which it fills).
func checkRegions(field string, codes []string, deepest region.Level, seen map[string]bool) error {
	if len(codes) > MaxRegions {
		return errs.Field(field, "invalid_fields", "at most 400 regions")
	}
	for _, c := range codes {
		r, ok := region.Lookup(c)
		if !ok || r.Level > deepest {
			what := "a province or city code"
			if deepest == region.County {
				what = "a province, city or county code"
			}
			return errs.Field(field, "invalid_region", fmt.Sprintf("%.12q is not %s", c, what))
		}
		if seen[c] {
			return errs.Field(field, "duplicate_region", fmt.Sprintf("%s (%s) is listed twice", c, r.Name))
		}
		seen[c] = true
	}
	return nil
}
