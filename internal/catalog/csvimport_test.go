package catalog_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/shop"
)

// validCSV has three products over six rows: a dress with three SKUs (one
// price written three ways), a T-shirt without specs, and a shirt with two
// sizes, off the shelf.
const validCSV = `product_key,category,title,price,stock,spec,sku_code,on_shelf,images,subtitle,description,sort
p1,女装/连衣裙,夏季新款碎花连衣裙,99,10,颜色:红;尺码:S,P1-RS,1,https://img.example.com/a.jpg|https://img.example.com/b.jpg,雪纺,"长描述, 带逗号",5
p1,女装/连衣裙,,99.9,5,颜色:红;尺码:M,P1-RM,,,,,
p1,女装/连衣裙,,99.90,0,颜色：蓝;尺码:S,P1-BS,,,,,
p2, 女装 / 上衣 ,纯棉T恤,49.5,100,,T1,true,,,,
p3,男装,男士衬衫,120,3,尺码:L,S-L,0,,,,
p3,男装,,120.00,4,尺码:XL,S-XL,,,,,
`

func (e *env) importCSV(shopID int64, data []byte) (catalog.ImportResult, error) {
	return e.cat.ImportCSV(e.ctx, shopID, bytes.NewReader(data))
}

// checkImported checks that validCSV landed in shop s as written.
func checkImported(t *testing.T, e *env, s int64, res catalog.ImportResult, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if res != (catalog.ImportResult{Products: 3, SKUs: 6, Categories: 4}) {
		t.Fatalf("result = %+v, want 3 products, 6 SKUs, 4 categories", res)
	}
	tree, _ := e.cat.CategoryTree(e.ctx, s)
	if got := treeShape(tree); got != "女装(连衣裙,上衣),男装" {
		t.Fatalf("category tree = %s", got)
	}

	ids := e.listIDs(e.cat, s, catalog.ListQuery{Staff: true})
	if len(ids) != 3 {
		t.Fatalf("listed %v, want 3 products", ids)
	}
	byTitle := map[string]catalog.Product{}
	for _, id := range ids {
		p, err := e.cat.Product(e.ctx, s, id, true)
		if err != nil {
			t.Fatal(err)
		}
		byTitle[p.Title] = p
	}

	dress := byTitle["夏季新款碎花连衣裙"]
	if !dress.OnShelf || dress.Subtitle != "雪纺" || dress.Description != "长描述, 带逗号" || dress.Sort != 5 ||
		len(dress.Images) != 2 || dress.Images[1] != "https://img.example.com/b.jpg" {
		t.Fatalf("dress = %+v", dress)
	}
	if len(dress.Specs) != 2 || dress.Specs[0].Name != "颜色" || !slices.Equal(dress.Specs[0].Values, []string{"红", "蓝"}) ||
		!slices.Equal(dress.Specs[1].Values, []string{"S", "M"}) {
		t.Fatalf("dress specs = %+v", dress.Specs)
	}
	wantSKUs := []catalog.SKU{
		{SpecValues: []string{"红", "S"}, Price: 9900, Stock: 10, Code: "P1-RS"},
		{SpecValues: []string{"红", "M"}, Price: 9990, Stock: 5, Code: "P1-RM"},
		{SpecValues: []string{"蓝", "S"}, Price: 9990, Stock: 0, Code: "P1-BS"},
	}
	if len(dress.SKUs) != len(wantSKUs) {
		t.Fatalf("dress SKUs = %+v", dress.SKUs)
	}
	for i, w := range wantSKUs {
		k := dress.SKUs[i]
		if !slices.Equal(k.SpecValues, w.SpecValues) || k.Price != w.Price || k.Stock != w.Stock || k.Code != w.Code {
			t.Fatalf("dress SKU %d = %+v, want %+v", i, k, w)
		}
	}
	if dress.PriceMin != 9900 || dress.PriceMax != 9990 {
		t.Fatalf("dress prices = %d..%d", dress.PriceMin, dress.PriceMax)
	}

	tee := byTitle["纯棉T恤"]
	if !tee.OnShelf || len(tee.Specs) != 0 || len(tee.SKUs) != 1 || tee.SKUs[0].Price != 4950 || tee.SKUs[0].Stock != 100 {
		t.Fatalf("tee = %+v", tee)
	}
	if tee.CategoryID != tree[0].Children[1].ID {
		t.Fatalf("tee category %d, want 上衣 %d", tee.CategoryID, tree[0].Children[1].ID)
	}
	shirt := byTitle["男士衬衫"]
	if shirt.OnShelf || len(shirt.SKUs) != 2 || shirt.PriceMin != 12000 || shirt.PriceMax != 12000 || shirt.SKUs[1].Code != "S-XL" {
		t.Fatalf("shirt = %+v", shirt)
	}

	// The read model knows the products at once.
	if got := e.listIDs(e.cat, s, catalog.ListQuery{Text: "连衣裙"}); !slices.Equal(got, []int64{dress.ID}) {
		t.Fatalf("buyer search 连衣裙 = %v", got)
	}
	if got := e.listIDs(e.cat, s, catalog.ListQuery{CategoryID: tree[0].ID}); !slices.Equal(got, []int64{tee.ID, dress.ID}) {
		t.Fatalf("女装 = %v", got)
	}
}

func TestImportCSV(t *testing.T) {
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(validCSV))
	if err != nil {
		t.Fatal(err)
	}
	if utf8.Valid(gb) || bytes.Equal(gb, []byte(validCSV)) {
		t.Fatal("GB18030 encoding produced UTF-8; the test would prove nothing")
	}
	files := []struct {
		name string
		data []byte
	}{
		{"utf-8", []byte(validCSV)},
		{"utf-8 with BOM", append([]byte("\xef\xbb\xbf"), validCSV...)},
		{"crlf", []byte(strings.ReplaceAll(validCSV, "\n", "\r\n"))},
		{"gb18030", gb},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
				e := newEnv(t, d)
				s := e.shop(shop.Enterprise)
				res, err := e.importCSV(s, f.data)
				checkImported(t, e, s, res, err)
			})
		})
	}
}

func TestImportCSVReusesCategories(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		women := e.category(s, 0, "女装")
		res, err := e.importCSV(s, []byte("product_key,category,title,price,stock\nk,女装/连衣裙,裙子,1,1\n"))
		if err != nil || res.Categories != 1 {
			t.Fatalf("import: %+v, %v", res, err)
		}
		// The same path again creates nothing.
		res, err = e.importCSV(s, []byte("product_key,category,title,price,stock\nk,女装/连衣裙,裙子二,1,1\n"))
		if err != nil || res != (catalog.ImportResult{Products: 1, SKUs: 1}) {
			t.Fatalf("second import: %+v, %v", res, err)
		}
		tree, _ := e.cat.CategoryTree(e.ctx, s)
		if got := treeShape(tree); got != "女装(连衣裙)" || tree[0].ID != women {
			t.Fatalf("tree = %s", got)
		}
		before := e.count("spus")
		_, err = e.importCSV(s, []byte("product_key,category,title,price,stock,sku_code\na,女装,甲,1,1,X1\nb,女装,乙,1,1,X1\n"))
		wantErr(t, err, errs.Invalid, "sku_code_taken")
		if n := e.count("spus"); n != before {
			t.Fatalf("refused import stored %d products", n-before)
		}
	})
}

func TestImportCSVAllOrNothing(t *testing.T) {
	const header = "product_key,category,title,price,stock,spec,on_shelf\n"
	good := "a,女装/连衣裙,裙子,99,1,颜色:红,1\n" + // line 2
		"a,女装/连衣裙,,99,1,颜色:蓝,1\n" + // line 3
		"b,男装,衬衫,10,1,,0\n" // line 4
	cases := []struct {
		name  string
		shop  shop.SubjectType
		csv   string
		kind  errs.Kind
		code  string
		field string // must be named; the only one unless also is set
		also  bool   // other lines may be named too
	}{
		{"bad price on line 5", shop.Enterprise, header + good + "c,男装,裤子,abc,1,,0\n",
			errs.Invalid, "invalid_fields", "line 5", false},
		{"three decimals", shop.Enterprise, header + good + "c,男装,裤子,1.234,1,,0\n",
			errs.Invalid, "invalid_fields", "line 5", false},
		// Also reported against the product's first line (skus[1].stock).
		{"negative stock on line 3", shop.Enterprise, header + "a,女装/连衣裙,裙子,99,1,颜色:红,1\na,女装/连衣裙,,99,-2,颜色:蓝,1\nb,男装,衬衫,10,1,,0\n",
			errs.Invalid, "invalid_fields", "line 3", true},
		{"spec names change within a product", shop.Enterprise, header + good + "b,男装,,10,1,颜色:白,0\n",
			errs.Invalid, "invalid_fields", "line 5", true},
		{"spec names reordered", shop.Enterprise, header +
			"a,女装,裙子,1,1,颜色:红;尺码:S,0\na,女装,,1,1,尺码:M;颜色:红,0\n",
			errs.Invalid, "invalid_fields", "line 3", true},
		{"spec without a value", shop.Enterprise, header + good + "c,男装,裤子,1,1,颜色,0\n",
			errs.Invalid, "invalid_fields", "line 5", false},
		{"product invalid as a whole", shop.Enterprise, header + good + "c,男装,,1,1,,0\n",
			errs.Invalid, "invalid_fields", "line 5", false},
		{"duplicate spec combination", shop.Enterprise, header + good + "a,女装/连衣裙,,99,1,颜色:红,1\n",
			errs.Invalid, "invalid_fields", "line 2", false},
		{"category too deep, after good products", shop.Enterprise, header + good + "c,a/b/c/d,裤子,1,1,,0\n",
			errs.Invalid, "category_too_deep", "line 5", false},
		{"personal shop puts on the shelf", shop.Personal, header + "b,男装,衬衫,10,1,,0\n" + "a,女装,裙子,99,1,,1\n",
			errs.Forbidden, "subject_cannot_sell", "line 3", false},
		{"missing column", shop.Enterprise, "product_key,category,title,stock\na,女装,裙子,1\n",
			errs.Invalid, "invalid_fields", "header", false},
		{"header only", shop.Enterprise, header, errs.Invalid, "empty_csv", "", false},
		{"malformed quotes", shop.Enterprise, header + "a,\"女装,裙子,1,1,,0\n", errs.Invalid, "malformed_csv", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
				e := newEnv(t, d)
				s := e.shop(tc.shop)
				_, err := e.importCSV(s, []byte(tc.csv))
				var fields []string
				if tc.field != "" {
					fields = append(fields, tc.field)
				}
				got := wantErr(t, err, tc.kind, tc.code, fields...)
				if tc.field != "" && !tc.also && len(got.Fields) != 1 {
					t.Fatalf("fields = %v, want only %q", got.Fields, tc.field)
				}
				for _, table := range []string{"spus", "skus", "categories"} {
					if n := e.count(table); n != 0 {
						t.Fatalf("failed import left %d %s rows", n, table)
					}
				}
				if ids := e.listIDs(e.cat, s, catalog.ListQuery{Staff: true}); len(ids) != 0 {
					t.Fatalf("failed import left %v in the read model", ids)
				}
			})
		})
	}
}

var yuanCases = []struct {
	in   string
	want int64
	ok   bool
}{
	{"99", 9900, true},
	{"99.9", 9990, true},
	{"99.90", 9990, true},
	{"0.01", 1, true},
	{"0", 0, true},
	{"007.5", 750, true},
	{"12.", 1200, true},
	{" 12.5 ", 1250, true},
	{"1000000", catalog.MaxPriceFen, true},
	{"1.234", 0, false},
	{"-1", 0, false},
	{"+1", 0, false},
	{"1.-5", 0, false},
	{"1.+5", 0, false},
	{"1e3", 0, false},
	{"", 0, false},
	{"   ", 0, false},
	{".5", 0, false},
	{"abc", 0, false},
	{"1,000", 0, false},
	{"1 000", 0, false},
	{"¥12", 0, false},
	{"1000001", 0, false},
	{"99999999999999999999", 0, false},
}

// TestParseYuan checks ParseYuan itself, then that an import stores exactly
// those fen and reports every bad price with its line.
func TestParseYuan(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		for _, tc := range yuanCases {
			got, err := catalog.ParseYuan(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseYuan(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		}

		e := newEnv(t, d)
		s := e.shop(shop.Enterprise)
		var good, bad strings.Builder
		good.WriteString("product_key,category,title,price,stock\n")
		bad.WriteString("product_key,category,title,price,stock\n")
		want := map[string]int64{}
		var badLines []string
		for i, tc := range yuanCases {
			row := fmt.Sprintf("k%d,价格,商品%d,\"%s\",1\n", i, i, tc.in)
			if tc.ok {
				good.WriteString(row)
				want[fmt.Sprintf("商品%d", i)] = tc.want
			} else {
				bad.WriteString(row)
				badLines = append(badLines, fmt.Sprintf("line %d", len(badLines)+2))
			}
		}
		_, err := e.importCSV(s, []byte(bad.String()))
		if got := wantErr(t, err, errs.Invalid, "invalid_fields", badLines...); len(got.Fields) != len(badLines) {
			t.Fatalf("fields = %v, want %v", got.Fields, badLines)
		}
		res, err := e.importCSV(s, []byte(good.String()))
		if err != nil || res.Products != len(want) {
			t.Fatalf("import good prices: %+v, %v", res, err)
		}
		for _, id := range e.listIDs(e.cat, s, catalog.ListQuery{Staff: true}) {
			p, err := e.cat.Product(e.ctx, s, id, true)
			if err != nil {
				t.Fatal(err)
			}
			if w, ok := want[p.Title]; !ok || p.SKUs[0].Price != w || p.PriceMin != w {
				t.Errorf("%s stored %d fen, want %d", p.Title, p.SKUs[0].Price, w)
			}
			delete(want, p.Title)
		}
		if len(want) != 0 {
			t.Fatalf("not imported: %v", want)
		}
	})
}
