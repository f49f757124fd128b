package region

import (
	"strings"
	"unicode/utf8"
)

// Resolved is an address's region as the table has it; County is zero for
// a city without counties.
type Resolved struct {
	Province, City, County Region
}

// Codes returns the non-empty codes, province first.
func (r Resolved) Codes() []string {
	out := []string{r.Province.Code, r.City.Code}
	if r.County.Code != "" {
		out = append(out, r.County.Code)
	}
	return out
}

// FromCodes resolves checked codes (see Check) to their regions.
func FromCodes(province, city, county string) (Resolved, *Problem) {
	if p := Check(province, city, county); p != nil {
		return Resolved{}, p
	}
	t := load()
	return Resolved{Province: t.byCode[province], City: t.byCode[city], County: t.byCode[county]}, nil
}

// Resolve finds the regions of an address given by names, as
// wx.chooseAddress gives them (provinceName, cityName, countyName,
// nationalCode). Names are matched tolerantly: 浙江 and 浙江省, 杭州 and
// 杭州市, 内蒙古 and 内蒙古自治区 are the same; an exact name wins over a
// tolerant one. nationalCode, the county's GB/T 2260 code, is used first
// when it names a county whose province has the given name. The Problem
// names the field that could not be resolved.
func Resolve(province, city, county, nationalCode string) (Resolved, *Problem) {
	province, city, county = strings.TrimSpace(province), strings.TrimSpace(city), strings.TrimSpace(county)
	if r, ok := fromNationalCode(province, nationalCode); ok {
		return r, nil
	}
	t := load()
	if r, ok := t.exact(province, city, county); ok {
		return r, nil
	}
	provs := t.match(t.children[""], province)
	if len(provs) != 1 {
		return Resolved{}, &Problem{"province", "unknown province " + quote(province)}
	}
	res := Resolved{Province: t.byCode[provs[0]]}
	cityCodes := t.children[res.Province.Code]
	cities := t.match(cityCodes, city)
	if len(cities) == 0 {
		// A county-level city governed by the province (省直辖县级: 仙桃市)
		// comes as the city.
		for _, c := range cityCodes {
			if k := t.match(t.children[c], city); len(k) == 1 && (county == "" || len(t.match(k, county)) == 1) {
				res.City, res.County = t.byCode[c], t.byCode[k[0]]
				return res, nil
			}
		}
		return Resolved{}, &Problem{"city", "unknown city " + quote(city) + " in " + res.Province.Name}
	}
	first := t.byCode[cities[0]]
	if county == "" {
		if len(cities) == 1 && first.Leaf {
			res.City = first
			return res, nil
		}
		return Resolved{}, &Problem{"county", "required: " + first.Name + " has counties"}
	}
	var counties []string
	for _, c := range cities {
		counties = append(counties, t.children[c]...)
	}
	if len(counties) == 0 && len(cities) == 1 {
		// A city without counties (东莞): WeChat may name a town as the
		// county; the city is the address's region.
		res.City = first
		return res, nil
	}
	found := t.match(counties, county)
	if len(found) != 1 {
		return Resolved{}, &Problem{"county", "unknown county " + quote(county) + " in " + first.Name}
	}
	res.County = t.byCode[found[0]]
	res.City = t.byCode[res.County.Parent]
	return res, nil
}

// exact resolves names that are exactly the table's (the common case: a
// map lookup per level).
func (t *table) exact(province, city, county string) (Resolved, bool) {
	p := t.byName["/"+province]
	c := t.byName[p+"/"+city]
	if p == "" || c == "" {
		return Resolved{}, false
	}
	res := Resolved{Province: t.byCode[p], City: t.byCode[c]}
	if county == "" {
		return res, res.City.Leaf
	}
	k := t.byName[c+"/"+county]
	res.County = t.byCode[k]
	return res, k != ""
}

func fromNationalCode(province, code string) (Resolved, bool) {
	chain := Chain(strings.TrimSpace(code))
	if len(chain) < 2 || !chain[len(chain)-1].Leaf || (province != "" && len(load().match([]string{chain[0].Code}, province)) != 1) {
		return Resolved{}, false
	}
	r := Resolved{Province: chain[0], City: chain[1]}
	if len(chain) == 3 {
		r.County = chain[2]
	}
	return r, true
}

// match returns the codes of the regions named name: exactly if any, else
// those whose name is the same without its suffix (省, 市, 自治区 …), else
// those whose bare name starts with the other's (延边 and 延边朝鲜族自治州).
func (t *table) match(codes []string, name string) []string {
	if name == "" {
		return nil
	}
	var exact, same, prefix []string
	bare := Bare(name)
	long := utf8.RuneCountInString(bare) >= 2
	for _, c := range codes {
		rb := t.bare[c]
		switch {
		case t.byCode[c].Name == name:
			exact = append(exact, c)
		case rb == bare:
			same = append(same, c)
		case long && utf8.RuneCountInString(rb) >= 2 && (strings.HasPrefix(rb, bare) || strings.HasPrefix(bare, rb)):
			prefix = append(prefix, c)
		}
	}
	switch {
	case len(exact) > 0:
		return exact
	case len(same) > 0:
		return same
	}
	return prefix
}

// suffixes are the endings of division names, longest first.
var suffixes = []string{"特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "地区",
	"省", "市", "区", "县", "盟", "旗"}

// Bare is a division's name without its administrative suffix, kept at
// two characters at least (东区 stays 东区).
func Bare(name string) string {
	name = strings.TrimSpace(name)
	for _, s := range suffixes {
		if b, ok := strings.CutSuffix(name, s); ok && utf8.RuneCountInString(b) >= 2 {
			return b
		}
	}
	return name
}

func quote(s string) string { return "\"" + s + "\"" }
