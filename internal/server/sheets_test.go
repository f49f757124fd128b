package server_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/xuri/excelize/v2"

	"github.com/kaidian/kaidian/internal/sheets"
)

// The document's validator reads an XLSX answer as the file it is.
func init() { openapi3filter.RegisterBodyDecoder(sheets.MIME, openapi3filter.FileBodyDecoder) }

// xlsxRows reads the first sheet of an XLSX answer.
func xlsxRows(t *testing.T, r response) [][]string {
	t.Helper()
	if r.status != 200 || r.header.Get("Content-Type") != sheets.MIME {
		t.Fatalf("export: %d %s %.300s", r.status, r.header.Get("Content-Type"), r.body)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	rows, err := wb.GetRows(wb.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func xlsxBody(t *testing.T, rows [][]any) []byte {
	t.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	for i, r := range rows {
		for j, v := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			err := wb.SetCellValue("Sheet1", cell, v)
			if s, ok := v.(string); ok && strings.HasPrefix(s, "=") {
				err = wb.SetCellFormula("Sheet1", cell, s[1:])
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := wb.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSpreadsheetRoutes: the exports answer a download of the caller's
// shop only, phone numbers masked for customer service; the shipping
// import ships through the API; bad uploads are 4xx; every answer matches
// /openapi.json.
func TestSpreadsheetRoutes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish([]string{"GET /admin/api/v1/exports/orders.xlsx", "POST /admin/api/v1/imports/shipments.xlsx",
			"POST /admin/api/v1/imports/products.xlsx", "GET /admin/api/v1/exports/products.xlsx"})
		if _, err := e.srv.Orders.MarkPaid(context.Background(), a.id, a.orderID, 9900, "tx-sheets"); err != nil {
			t.Fatal(err)
		}
		var no string
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT order_no FROM orders WHERE id = ?`, a.orderID).Scan(&no); err != nil {
			t.Fatal(err)
		}

		r := e.do(a.owner, "GET", "/admin/api/v1/exports/orders.xlsx?status=paid", nil)
		rows := xlsxRows(t, r)
		if len(rows) != 2 || rows[1][0] != no || !strings.Contains(strings.Join(rows[1], "|"), "13800138000") {
			t.Fatalf("owner's export: %v", rows)
		}
		if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''%E8%AE%A2%E5%8D%95-") || !strings.Contains(cd, `filename="orders-`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		e.must(a.owner, 201, "POST", "/admin/api/v1/staff", map[string]any{"username": "service_sheets", "password": "role-pass-1", "role": "service"})
		service := e.staffLogin("service_sheets", "role-pass-1")
		rows = xlsxRows(t, e.do(service, "GET", "/admin/api/v1/exports/orders.xlsx?lang=en", nil))
		if joined := fmt.Sprint(rows); strings.Contains(joined, "13800138000") || !strings.Contains(joined, "138****8000") || rows[0][0] != "order_no" {
			t.Errorf("customer service's export shows a whole phone number, or no English header: %v", rows)
		}
		rows = xlsxRows(t, e.do(b.owner, "GET", "/admin/api/v1/exports/orders.xlsx", nil))
		if strings.Contains(fmt.Sprint(rows), no) || strings.Contains(fmt.Sprint(rows), "甲") {
			t.Errorf("shop B's export shows shop A's orders: %v", rows)
		}
		for _, path := range []string{"refunds", "members", "products", "commissions"} {
			rows = xlsxRows(t, e.do(b.owner, "GET", "/admin/api/v1/exports/"+path+".xlsx", nil))
			if strings.Contains(fmt.Sprint(rows), "甲") {
				t.Errorf("shop B's %s export shows shop A's data: %v", path, rows)
			}
		}
		for _, bad := range []string{"orders.xlsx?status=lost", "orders.xlsx?from=yesterday", "orders.xlsx?lang=fr",
			"refunds.xlsx?status=x", "commissions.xlsx?promoter_id=-1", "products.xlsx?shelf=up", "orders.xlsx?from=2026-12-02&to=2026-12-01"} {
			if r := e.do(a.owner, "GET", "/admin/api/v1/exports/"+bad, nil); r.status != 400 || r.code() != "invalid_query" {
				t.Errorf("%s: %d %s, want 400 invalid_query", bad, r.status, r.body)
			}
		}
		if r := e.do(a.member, "GET", "/admin/api/v1/exports/orders.xlsx", nil); r.status != 401 {
			t.Errorf("a buyer exported orders: %d", r.status)
		}

		upload := func(who caller, path string, body []byte) response {
			return e.send(who, "POST", "/admin/api/v1/imports/"+path, bytes.NewReader(body), sheets.MIME)
		}
		ship := xlsxBody(t, [][]any{{"order_no", "carrier", "tracking_no"}, {no, "顺丰", "SF7788990011"}})
		if r := upload(b.owner, "shipments.xlsx", ship); r.status != 400 || r.code() != "invalid_fields" {
			t.Errorf("shop B shipped shop A's order: %d %s", r.status, r.body)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "paid" {
			t.Fatalf("A's order is %s after B's sheet", st)
		}
		if r := upload(a.owner, "shipments.xlsx", ship); r.status != 200 || !strings.Contains(string(r.body), `"shipped":1`) {
			t.Fatalf("ship by sheet: %d %s", r.status, r.body)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "shipped" {
			t.Fatalf("the order is %s after the sheet", st)
		}
		if r := upload(service, "products.xlsx", ship); r.status != 403 {
			t.Errorf("customer service imported products: %d", r.status)
		}
		products := xlsxBody(t, [][]any{{"product_key", "category", "title", "price", "stock"}, {"k1", "甲分类", "甲新品", "19.9", 3}})
		if r := upload(a.owner, "products.xlsx", products); r.status != 200 || !strings.Contains(string(r.body), `"products":1`) {
			t.Errorf("product import: %d %s", r.status, r.body)
		}
		xlsxRows(t, e.do(a.owner, "GET", "/admin/api/v1/exports/products.xlsx?shelf=off", nil))
		for name, body := range map[string][]byte{"text": []byte("order_no\nA1"), "empty": nil, "a formula": xlsxBody(t, [][]any{{"order_no", "carrier", "tracking_no"}, {"=A1", "顺丰", "SF1"}})} {
			if r := upload(a.owner, "shipments.xlsx", body); r.status != 400 {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
	})
}
