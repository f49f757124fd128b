package sheets_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/sheets"
)

func (f *fx) count(table string, shopID int64) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(f.ctx, `SELECT COUNT(*) FROM `+table+` WHERE shop_id = ?`, shopID).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func wantErr(t *testing.T, err error, code string, fields ...string) *errs.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	e := errs.As(err)
	if e.Code != code || e.Kind == errs.Internal {
		t.Fatalf("got %v, want %s", err, code)
	}
	for _, k := range fields {
		if _, ok := e.Fields[k]; !ok {
			t.Errorf("%s does not name %q: %v", code, k, e.Fields)
		}
	}
	return e
}

var productHeader = []any{"product_key", "category", "title", "price", "stock", "spec", "sku_code", "on_shelf"}

// TestImportProducts: a good sheet creates its products through the
// catalog's import; one bad row imports nothing and names its row; an
// export of the products imports again as it is.
func TestImportProducts(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFx(t, d)
		a := f.shop("甲")
		good := workbook(t, [][]any{productHeader,
			{"p1", "女装/连衣裙", "碎花连衣裙", 99.9, 10, "颜色:红", "RED-1", 1},
			{"p1", "女装/连衣裙", "碎花连衣裙", "99.90", 5, "颜色:蓝", "", 1},
			{},
			{"p2", "男装", "衬衫", 120, 3, "", "", 0},
		})
		res, err := f.svc.ImportProducts(f.ctx, a.id, bytes.NewReader(good))
		if err != nil {
			t.Fatal(err)
		}
		if res.Products != 2 || res.SKUs != 3 {
			t.Fatalf("imported %+v, want 2 products and 3 SKUs", res)
		}
		var price int64
		if err := d.QueryRow(f.ctx, `SELECT price FROM skus WHERE shop_id = ? AND code = 'RED-1'`, a.id).Scan(&price); err != nil || price != 9990 {
			t.Fatalf("price of RED-1: %d %v, want 9990", price, err)
		}

		before := f.count("spus", a.id)
		bad := workbook(t, [][]any{productHeader,
			{"p3", "女装", "好商品", "10", 1, "", "", 1},
			{"p4", "女装", "坏商品", "ten yuan", 1, "", "", 1},
		})
		_, err = f.svc.ImportProducts(f.ctx, a.id, bytes.NewReader(bad))
		wantErr(t, err, "invalid_fields", "line 3")
		if n := f.count("spus", a.id); n != before {
			t.Fatalf("a bad row imported %d products", n-before)
		}

		if err := f.cat.Sync(f.ctx); err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"zh", "en"} {
			sh, err := f.svc.Products(f.ctx, a.id, catalog.ListQuery{}, sheets.Options{Lang: lang})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := sh.Finish(&buf); err != nil {
				t.Fatal(err)
			}
			// The codes are unique per shop: import the export into another shop.
			b := f.shop("乙" + lang)
			res, err := f.svc.ImportProducts(f.ctx, b.id, &buf)
			if err != nil {
				t.Fatalf("%s export imported again: %v", lang, err)
			}
			if res.Products != 3 || res.SKUs != 5 {
				t.Errorf("%s export imported again: %+v, want 3 products with 5 SKUs", lang, res)
			}
		}
	})
}

// TestImportShipments: a good sheet ships its orders through the order
// package's ship path; with one bad row none ships and every bad row is
// named; another shop's order numbers are unknown.
func TestImportShipments(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFx(t, d)
		a, b := f.shop("甲"), f.shop("乙")
		now := time.Now()
		for _, no := range []string{"S1", "S2", "S3"} {
			f.order(a, orderSpec{no: no, status: order.Paid, created: now, total: 100})
		}
		f.order(a, orderSpec{no: "S4", status: order.PendingPayment, created: now, total: 100})
		f.order(b, orderSpec{no: "SB", status: order.Paid, created: now, total: 100})
		header := []any{"订单号", "快递公司", "运单号"}
		ship := func(rows ...[]any) (order.BulkShipResult, error) {
			return f.svc.ImportShipments(f.ctx, a.id, order.StaffActor(1), bytes.NewReader(workbook(t, append([][]any{header}, rows...))))
		}
		_, err := ship([]any{"S1", "顺丰", "SF100001"}, []any{"S2", "SF", "x"}, []any{"S9", "顺丰", "SF100003"},
			[]any{"S4", "顺丰", "SF100004"}, []any{"SB", "顺丰", "SF100005"}, []any{"S1", "顺丰", "SF100006"})
		e := wantErr(t, err, "invalid_fields", "line 3", "line 4", "line 5", "line 6", "line 7")
		if _, named := e.Fields["line 2"]; named {
			t.Errorf("a good row is reported: %v", e.Fields)
		}
		if st := f.status(a.id, "S1"); st != order.Paid {
			t.Fatalf("S1 is %s after a refused sheet, want paid: half applied", st)
		}

		res, err := ship([]any{"S1", "顺丰", "SF100001"}, []any{"S2", "中通", 7300012345})
		if err != nil || res.Shipped != 2 {
			t.Fatalf("ship: %+v %v", res, err)
		}
		var carrier, tracking string
		if err := d.QueryRow(f.ctx, `SELECT carrier, tracking_no FROM orders WHERE shop_id = ? AND order_no = 'S2'`, a.id).
			Scan(&carrier, &tracking); err != nil || carrier != "中通" || tracking != "7300012345" {
			t.Fatalf("S2 shipped with %q %q %v", carrier, tracking, err)
		}
		if st := f.status(a.id, "S3"); st != order.Paid {
			t.Errorf("S3 (not in the sheet) is %s", st)
		}
		_, err = ship([]any{"S1", "顺丰", "SF100001"})
		wantErr(t, err, "invalid_fields", "line 2") // shipped already

		_, err = f.svc.ImportShipments(f.ctx, a.id, order.StaffActor(1), bytes.NewReader(workbook(t, [][]any{{"订单号", "运单"}, {"S3", "SF1"}})))
		if e := wantErr(t, err, "missing_columns"); !strings.Contains(e.Message, "carrier") || !strings.Contains(e.Message, "tracking_no") {
			t.Errorf("missing columns not named: %s", e.Message)
		}
	})
}

func (f *fx) status(shopID int64, no string) order.Status {
	f.t.Helper()
	var st order.Status
	if err := f.d.QueryRow(f.ctx, `SELECT status FROM orders WHERE shop_id = ? AND order_no = ?`, shopID, no).Scan(&st); err != nil {
		f.t.Fatal(err)
	}
	return st
}

// withSheet returns the workbook wb with its first sheet's XML replaced.
func withSheet(t *testing.T, wb []byte, sheet func(w io.Writer)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(wb), int64(len(wb)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			sheet(w)
			continue
		}
		rc, _ := f.Open()
		_, _ = io.Copy(w, rc)
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

const sheetStart = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
const sheetEnd = `</sheetData></worksheet>`

// TestBadUploads: what is not a clean XLSX of values is refused with a
// 4xx code (the row named where there is one) before anything is applied.
func TestBadUploads(t *testing.T) {
	base := workbook(t, [][]any{{"a"}})
	million := withSheet(t, base, func(w io.Writer) {
		io.WriteString(w, sheetStart)
		row := []byte(`<row><c t="inlineStr"><is><t>x</t></is></c></row>`)
		for range 1_000_000 {
			w.Write(row)
		}
		io.WriteString(w, sheetEnd)
	})
	bomb := withSheet(t, base, func(w io.Writer) {
		io.WriteString(w, sheetStart)
		spaces := bytes.Repeat([]byte(" "), 1<<20)
		for range 100 { // 100 MiB of nothing
			w.Write(spaces)
		}
		io.WriteString(w, sheetEnd)
	})
	broken := withSheet(t, base, func(w io.Writer) {
		io.WriteString(w, sheetStart+`<row r="1"><c r="A1" t="inlineStr"><is><t>order_no</t></is></c></row><row r="2"><c r="A2"><v>1</v></c></ro`)
	})
	tooMany := make([][]any, sheets.MaxRows+2)
	for i := range tooMany {
		tooMany[i] = []any{fmt.Sprint(i)}
	}
	cases := []struct {
		name string
		body []byte
		code string
		kind errs.Kind
	}{
		{"empty body", nil, "not_xlsx", errs.Invalid},
		{"text", []byte("order_no,carrier\nA1,SF"), "not_xlsx", errs.Invalid},
		{"a zip that is no workbook", zipOf(t, "a.txt", "hello"), "malformed_xlsx", errs.Invalid},
		{"a truncated zip", base[:len(base)/2], "not_xlsx", errs.Invalid},
		{"broken XML", broken, "malformed_xlsx", errs.Invalid},
		{"a zip bomb", bomb, "xlsx_too_large", errs.TooLarge},
		{"a million rows", million, "too_many_rows", errs.TooLarge},
		{"one row over the cap", workbook(t, tooMany), "too_many_rows", errs.TooLarge},
		{"no rows", workbook(t, nil), "empty_sheet", errs.Invalid},
		{"only a header", workbook(t, [][]any{{"order_no", "carrier", "tracking_no"}}), "empty_sheet", errs.Invalid},
		{"a formula", workbook(t, [][]any{{"order_no", "carrier", "tracking_no"}, {"A1", "SF", "SF1234"}, {"A2", "SF", "=1+1"}}), "formula_in_cell", errs.Invalid},
		{"over the size cap", append(append([]byte{}, base...), make([]byte, sheets.MaxUploadBytes)...), "body_too_large", errs.TooLarge},
	}
	for _, c := range cases {
		start := time.Now()
		_, err := sheets.ReadTable(bytes.NewReader(c.body))
		e := wantErrT(t, c.name, err, c.code)
		if e != nil && e.Kind != c.kind {
			t.Errorf("%s: kind %v, want %v", c.name, e.Kind, c.kind)
		}
		if c.code == "formula_in_cell" && e != nil {
			if _, ok := e.Fields["line 3"]; !ok || len(e.Fields) != 1 {
				t.Errorf("the formula's row is not named alone: %v", e.Fields)
			}
		}
		if took := time.Since(start); c.name == "a million rows" && took > 5*time.Second {
			t.Errorf("a million rows took %v to refuse: not stopped early", took)
		}
	}
}

func wantErrT(t *testing.T, name string, err error, code string) *errs.Error {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want %s", name, code)
		return nil
	}
	e := errs.As(err)
	if e.Code != code {
		t.Errorf("%s: %v, want %s", name, err, code)
	}
	return e
}

func zipOf(t *testing.T, name, content string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create(name)
	io.WriteString(w, content)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
