package region

import (
	"testing"
)

func TestLookupChainChildren(t *testing.T) {
	if n := Count(); n < 3000 {
		t.Fatalf("only %d regions", n)
	}
	if p := Children(""); len(p) < 31 || p[0].Code != "110000" || p[0].Name != "北京市" || p[0].Level != Province {
		t.Fatalf("provinces: %d, first %+v", len(p), p[0])
	}
	r, ok := Lookup("330106")
	if !ok || r.Name != "西湖区" || r.Parent != "330100" || r.Level != County || !r.Leaf {
		t.Fatalf("330106: %+v %v", r, ok)
	}
	chain := Chain("330106")
	if len(chain) != 3 || chain[0].Name != "浙江省" || chain[1].Name != "杭州市" || chain[2].Code != "330106" {
		t.Fatalf("chain: %+v", chain)
	}
	if Chain("999999") != nil || Children("999999") != nil {
		t.Fatal("an unknown code has a chain or children")
	}
	if _, ok := Lookup(""); ok {
		t.Fatal("the empty code is a region")
	}
	hz := Children("330100")
	found := false
	for _, c := range hz {
		found = found || c.Code == "330106"
		if c.Parent != "330100" || c.Level != County {
			t.Fatalf("a child of 杭州: %+v", c)
		}
	}
	if !found {
		t.Fatalf("西湖区 is not among 杭州's children: %+v", hz)
	}
	if !Within("330106", "330000") || !Within("330106", "330106") || Within("330106", "110000") {
		t.Fatal("Within")
	}
}

// TestMunicipalities: 北京, 上海, 天津 and 重庆 have their city level named
// after them, with their districts below.
func TestMunicipalities(t *testing.T) {
	for _, c := range []struct{ province, city, county, name string }{
		{"110000", "110100", "110105", "北京市"},
		{"310000", "310100", "310115", "上海市"},
		{"120000", "120100", "120101", "天津市"},
		{"500000", "500100", "500101", "重庆市"},
	} {
		city, ok := Lookup(c.city)
		if !ok || city.Name != c.name || city.Parent != c.province {
			t.Errorf("%s: %+v", c.city, city)
		}
		if p := Check(c.province, c.city, c.county); p != nil {
			t.Errorf("%s/%s/%s: %v", c.province, c.city, c.county, p)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		province, city, county string
		field                  string // "" = valid
	}{
		{"330000", "330100", "330106", ""},
		{"440000", "441900", "", ""}, // 东莞: no counties
		{"330000", "330100", "", "county"},
		{"330000", "330100", "330203", "county"}, // 宁波's
		{"330000", "110100", "110105", "city"},
		{"330100", "330100", "330106", "province"},
		{"990000", "330100", "330106", "province"},
		{"330000", "330106", "330106", "city"},
		{"330000", "330100", "330100", "county"},
		{"", "", "", "province"},
	} {
		p := Check(c.province, c.city, c.county)
		if (p == nil) != (c.field == "") || (p != nil && p.Field != c.field) {
			t.Errorf("Check(%s, %s, %s) = %v, want %q", c.province, c.city, c.county, p, c.field)
		}
	}
}

func TestResolve(t *testing.T) {
	for _, c := range []struct {
		province, city, county, national string
		want                             string // the county (or leaf city) code
		field                            string // the field at fault
	}{
		{"浙江省", "杭州市", "西湖区", "", "330106", ""},
		{"浙江", "杭州", "西湖", "", "330106", ""},
		{"浙江省", "杭州市", "西湖区", "330106", "330106", ""},
		{"", "", "", "330106", "330106", ""},
		{"浙江省", "杭州市", "西湖区", "110105", "330106", ""}, // a national code of another province: the names win
		{"北京市", "北京市", "朝阳区", "", "110105", ""},
		{"北京", "北京", "朝阳", "", "110105", ""},
		{"上海市", "上海市", "浦东新区", "", "310115", ""},
		{"重庆市", "重庆市", "城口县", "", "500229", ""},
		{"内蒙古", "呼和浩特市", "新城区", "", "150102", ""},
		{"新疆维吾尔自治区", "乌鲁木齐市", "天山区", "", "650102", ""},
		{"广东省", "东莞市", "", "", "441900", ""},
		{"湖北省", "仙桃市", "", "", "429004", ""},
		{"火星", "杭州市", "西湖区", "", "", "province"},
		{"浙江省", "火星市", "西湖区", "", "", "city"},
		{"浙江省", "杭州市", "火星区", "", "", "county"},
		{"浙江省", "杭州市", "", "", "", "county"},
	} {
		r, p := Resolve(c.province, c.city, c.county, c.national)
		if c.field != "" {
			if p == nil || p.Field != c.field {
				t.Errorf("Resolve(%s %s %s): %+v %v, want a problem with %s", c.province, c.city, c.county, r, p, c.field)
			}
			continue
		}
		got := r.County.Code
		if got == "" {
			got = r.City.Code
		}
		if p != nil || got != c.want || Check(r.Province.Code, r.City.Code, r.County.Code) != nil {
			t.Errorf("Resolve(%s %s %s %s) = %+v %v, want %s", c.province, c.city, c.county, c.national, r, p, c.want)
		}
	}
}

func TestBare(t *testing.T) {
	for in, want := range map[string]string{"浙江省": "浙江", "杭州市": "杭州", "内蒙古自治区": "内蒙古", "广西壮族自治区": "广西",
		"香港特别行政区": "香港", "西湖区": "西湖", "东区": "东区", "城口县": "城口", "锡林郭勒盟": "锡林郭勒"} {
		if got := Bare(in); got != want {
			t.Errorf("Bare(%s) = %s, want %s", in, got, want)
		}
	}
}

func BenchmarkChain(b *testing.B) {
	load()
	for b.Loop() {
		Chain("330106")
	}
}

// BenchmarkResolve matches an address's names to codes, as checkout does
// for an inline address without codes.
func BenchmarkResolve(b *testing.B) {
	load()
	for b.Loop() {
		if _, p := Resolve("浙江省", "杭州市", "西湖区", ""); p != nil {
			b.Fatal(p)
		}
	}
}
