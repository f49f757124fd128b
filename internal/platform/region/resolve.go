package region

import "strings"

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
	provs := match(Children(""), province)
	if len(provs) != 1 {
		return Resolved{}, &Problem{"province", "unknown province " + quote(province)}
	}
	res := Resolved{Province: provs[0]}
	cities := match(Children(res.Province.Code), city)
	if len(cities) == 0 {
		// A county-level city governed by the province (省直辖县级: 仙桃市)
		// comes as the city.
		for _, c := range Children(res.Province.Code) {
			if k := match(Children(c.Code), city); len(k) == 1 && (county == "" || len(match(k, county)) == 1) {
				res.City, res.County = c, k[0]
				return res, nil
			}
		}
		return Resolved{}, &Problem{"city", "unknown city " + quote(city) + " in " + res.Province.Name}
	}
	if county == "" {
		if len(cities) == 1 && cities[0].Leaf {
			res.City = cities[0]
			return res, nil
		}
		return Resolved{}, &Problem{"county", "required: " + cities[0].Name + " has counties"}
	}
	var counties []Region
	for _, c := range cities {
		counties = append(counties, Children(c.Code)...)
	}
	if len(counties) == 0 && len(cities) == 1 {
		// A city without counties (东莞): WeChat may name a town as the
		// county; the city is the address's region.
		res.City = cities[0]
		return res, nil
	}
	found := match(counties, county)
	if len(found) != 1 {
		return Resolved{}, &Problem{"county", "unknown county " + quote(county) + " in " + cities[0].Name}
	}
	res.County, res.City = found[0], t.byCode[found[0].Parent]
	return res, nil
}

func fromNationalCode(province, code string) (Resolved, bool) {
	chain := Chain(strings.TrimSpace(code))
	if len(chain) < 2 || !chain[len(chain)-1].Leaf || (province != "" && len(match(chain[:1], province)) != 1) {
		return Resolved{}, false
	}
	r := Resolved{Province: chain[0], City: chain[1]}
	if len(chain) == 3 {
		r.County = chain[2]
	}
	return r, true
}

// match returns the regions named name: exactly if any, else those whose
// name is the same without its suffix (省, 市, 自治区 …), else those whose
// bare name starts with the other's (延边 and 延边朝鲜族自治州).
func match(regions []Region, name string) []Region {
	if name == "" {
		return nil
	}
	var exact, same, prefix []Region
	bare := Bare(name)
	for _, r := range regions {
		rb := Bare(r.Name)
		switch {
		case r.Name == name:
			exact = append(exact, r)
		case rb == bare:
			same = append(same, r)
		case len([]rune(bare)) >= 2 && len([]rune(rb)) >= 2 && (strings.HasPrefix(rb, bare) || strings.HasPrefix(bare, rb)):
			prefix = append(prefix, r)
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
		if b, ok := strings.CutSuffix(name, s); ok && len([]rune(b)) >= 2 {
			return b
		}
	}
	return name
}

func quote(s string) string { return "\"" + s + "\"" }
