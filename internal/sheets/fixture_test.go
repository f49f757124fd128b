package sheets_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/sheets"
	"github.com/kaidian/kaidian/internal/shop"
)

// fx is a database with the services sheets works with, and shops made
// on it.
type fx struct {
	t      testing.TB
	ctx    context.Context
	d      *db.DB
	shops  *shop.Service
	cat    *catalog.Service
	orders *order.Service
	svc    *sheets.Service
}

// testShop is a shop with a category, a product of two SKUs and a buyer.
type testShop struct {
	id, categoryID, spuID, memberID int64
	skus                            []int64
}

var seq atomic.Int64

func newFx(t testing.TB, d *db.DB) *fx {
	t.Helper()
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fx{t: t, ctx: context.Background(), d: d, shops: shop.NewService(d, box)}
	f.cat = catalog.NewService(d, f.shops)
	if err := f.cat.Load(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.orders = order.NewService(d, f.shops)
	f.svc = sheets.NewService(d, f.cat, f.orders)
	return f
}

// shop makes a shop whose names carry marker.
func (f *fx) shop(marker string) testShop {
	f.t.Helper()
	n := seq.Add(1)
	sh, err := f.shops.Create(f.ctx, shop.CreateInput{Name: marker + "店", AppID: fmt.Sprintf("wx%016x", time.Now().UnixNano()+n),
		SubjectType: shop.Enterprise})
	if err != nil {
		f.t.Fatal(err)
	}
	name := marker + "女装"
	c, err := f.cat.CreateCategory(f.ctx, sh.ID, catalog.CategoryInput{Name: &name}, false)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.cat.CreateProduct(f.ctx, sh.ID, catalog.ProductInput{CategoryID: c.ID, Title: marker + "连衣裙", OnShelf: true,
		Specs: []catalog.SpecDim{{Name: "尺码", Values: []string{"M", "L"}}},
		SKUs:  []catalog.SKUInput{{SpecValues: []string{"M"}, Price: 9990, Stock: 10, Code: fmt.Sprintf("C%dM", n)}, {SpecValues: []string{"L"}, Price: 1, Stock: 5}}})
	if err != nil {
		f.t.Fatal(err)
	}
	ts := testShop{id: sh.ID, categoryID: c.ID, spuID: p.ID, skus: []int64{p.SKUs[0].ID, p.SKUs[1].ID}}
	ts.memberID = f.member(ts.id, marker+"买家", "13800138000")
	return ts
}

func (f *fx) member(shopID int64, nickname, phone string) int64 {
	f.t.Helper()
	var id int64
	err := f.d.QueryRow(f.ctx, `INSERT INTO members (shop_id, openid, phone, nickname, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, shopID, fmt.Sprintf("openid-%d", seq.Add(1)), phone, nickname,
		time.Now().UnixMilli(), time.Now().UnixMilli()).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// orderSpec is an order written straight to the tables.
type orderSpec struct {
	no      string
	status  order.Status
	created time.Time
	total   int64 // fen, also what was paid unless pending or cancelled
	note    string
}

// order writes an order of one line (2 × the first SKU) and returns its id.
func (f *fx) order(s testShop, o orderSpec) int64 {
	f.t.Helper()
	paid, paidAt := o.total, any(o.created.UnixMilli()+1000)
	if o.status == order.PendingPayment || o.status == order.Cancelled {
		paid, paidAt = 0, nil
	}
	addr := `{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}`
	var id int64
	err := f.d.QueryRow(f.ctx, `INSERT INTO orders (shop_id, member_id, order_no, status, goods_amount, shipping_fee, total_amount,
		paid_amount, address, buyer_note, phone, idempotency_key, pay_deadline, paid_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, '13800138000', ?, 0, ?, ?, ?) RETURNING id`,
		s.id, s.memberID, o.no, string(o.status), o.total, o.total, paid, addr, o.note, o.no, paidAt,
		o.created.UnixMilli(), o.created.UnixMilli()).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.d.Exec(f.ctx, `INSERT INTO order_lines (shop_id, order_id, spu_id, sku_id, title, spec_values, unit_price, quantity, amount)
		VALUES (?, ?, ?, ?, '连衣裙', '["M"]', ?, 2, ?)`, s.id, id, s.spuID, s.skus[0], o.total/2, o.total); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// read opens an export and returns its rows (header first), the values as
// shown, and the raw values.
func (f *fx) read(sh *sheets.Sheet, err error) (shown, raw [][]string) {
	t := f.t
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sh.Finish(&buf); err != nil {
		t.Fatal(err)
	}
	return readBytes(t, buf.Bytes())
}

func readBytes(t testing.TB, b []byte) (shown, raw [][]string) {
	t.Helper()
	wb, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	name := wb.GetSheetList()[0]
	if shown, err = wb.GetRows(name); err != nil {
		t.Fatal(err)
	}
	if raw, err = wb.GetRows(name, excelize.Options{RawCellValue: true}); err != nil {
		t.Fatal(err)
	}
	return shown, raw
}

// column returns the values of the column with the header h.
func column(t testing.TB, rows [][]string, h string) []string {
	t.Helper()
	j := -1
	for i, c := range rows[0] {
		if c == h {
			j = i
		}
	}
	if j < 0 {
		t.Fatalf("no column %q in %v", h, rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		if j < len(r) {
			out = append(out, r[j])
		} else {
			out = append(out, "")
		}
	}
	return out
}

// workbook builds an XLSX upload from rows; a cell starting with "=" is
// written as a formula.
func workbook(t testing.TB, rows [][]any) []byte {
	t.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	for i, r := range rows {
		for j, v := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if s, ok := v.(string); ok && strings.HasPrefix(s, "=") {
				if err := wb.SetCellFormula("Sheet1", cell, s[1:]); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := wb.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := wb.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
