package sheets_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/sheets"
)

var china = time.FixedZone("CST", 8*3600)

// TestOrderExport: the rows are the shop's orders matching the filters
// (the same orders the order list finds), newest first, money exact to the
// fen, times in China time, phones masked unless unmasked, text that could
// run as a formula defused; another shop's orders never appear.
func TestOrderExport(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFx(t, d)
		a, b := f.shop("甲"), f.shop("乙")
		day := time.Date(2026, 11, 20, 23, 30, 0, 0, china) // 15:30 UTC
		f.order(a, orderSpec{no: "A1", status: order.Paid, created: day, total: 1999, note: "=HYPERLINK(\"http://evil\")"})
		f.order(a, orderSpec{no: "A2", status: order.Shipped, created: day.Add(time.Hour), total: 1, note: "+1 -2"})
		f.order(a, orderSpec{no: "A3", status: order.Paid, created: day.AddDate(0, 0, 2), total: 123456789, note: "@SUM(A1)"})
		f.order(a, orderSpec{no: "A4", status: order.Cancelled, created: day.AddDate(0, 0, 3), total: 9990, note: "\tTAB"})
		f.order(b, orderSpec{no: "B1", status: order.Paid, created: day, total: 500})

		shown, raw := f.read(f.svc.Orders(f.ctx, a.id, sheets.OrderFilter{}, sheets.Options{}))
		if got := column(t, shown, "订单号"); !slices.Equal(got, []string{"A4", "A3", "A2", "A1"}) {
			t.Fatalf("order numbers %v, want A4 A3 A2 A1 (newest first, shop A only)", got)
		}
		if got := column(t, raw, "应付金额"); !slices.Equal(got, []string{"99.9", "1234567.89", "0.01", "19.99"}) {
			t.Errorf("raw totals %v: not the exact yuan", got)
		}
		if got := column(t, shown, "应付金额"); !slices.Equal(got, []string{"99.90", "1234567.89", "0.01", "19.99"}) {
			t.Errorf("shown totals %v: not 2 decimals", got)
		}
		if got := column(t, shown, "下单时间")[3]; got != "2026-11-20 23:30:00" {
			t.Errorf("created at %q, want China time 2026-11-20 23:30:00", got)
		}
		if got := column(t, shown, "状态"); !slices.Equal(got, []string{"已取消", "待发货", "已发货", "待发货"}) {
			t.Errorf("statuses %v", got)
		}
		if got := column(t, shown, "手机号")[0]; got != "138****8000" {
			t.Errorf("phone %q shown to a role that may not see it", got)
		}
		if got := column(t, shown, "商品")[0]; got != "连衣裙 (M) ×2" {
			t.Errorf("goods %q", got)
		}
		notes := column(t, shown, "买家留言")
		want := []string{"'\tTAB", "'@SUM(A1)", "'+1 -2", "'=HYPERLINK(\"http://evil\")"}
		if !slices.Equal(notes, want) {
			t.Errorf("notes %q, want %q: text that a spreadsheet could run is not defused", notes, want)
		}

		shown, _ = f.read(f.svc.Orders(f.ctx, a.id, sheets.OrderFilter{}, sheets.Options{Unmask: true, Lang: "en"}))
		if got := column(t, shown, "phone")[0]; got != "13800138000" {
			t.Errorf("unmasked phone %q", got)
		}
		if got := column(t, shown, "status")[0]; got != "cancelled" {
			t.Errorf("English status %q", got)
		}

		// The filters find what the order list finds.
		for _, flt := range []order.Filter{
			{Status: order.Paid},
			{From: time.Date(2026, 11, 21, 0, 0, 0, 0, china)},
			{From: time.Date(2026, 11, 20, 0, 0, 0, 0, china), To: time.Date(2026, 11, 21, 0, 0, 0, 0, china)},
			{OrderNo: "A3"},
			{Status: order.Shipped, To: time.Date(2026, 11, 22, 0, 0, 0, 0, china)},
		} {
			list, err := f.orders.List(f.ctx, a.id, order.Filter{Status: flt.Status, OrderNo: flt.OrderNo, From: flt.From, To: flt.To, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, o := range list.Items {
				want = append(want, o.OrderNo)
			}
			shown, _ := f.read(f.svc.Orders(f.ctx, a.id, sheets.OrderFilter{Status: flt.Status, OrderNo: flt.OrderNo,
				Created: sheets.Range{From: flt.From, To: flt.To}}, sheets.Options{}))
			if got := column(t, shown, "订单号"); !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("filter %+v: export %v, list %v", flt, got, want)
			}
		}

		shown, _ = f.read(f.svc.Orders(f.ctx, b.id, sheets.OrderFilter{}, sheets.Options{}))
		if got := column(t, shown, "订单号"); !slices.Equal(got, []string{"B1"}) {
			t.Errorf("shop B's export: %v", got)
		}
	})
}

// TestExportPages: an export reads in pages and loses or repeats no row
// at page boundaries.
func TestExportPages(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFx(t, d)
		a := f.shop("甲")
		f.svc.PageSize = 3
		for i := range 10 {
			f.order(a, orderSpec{no: fmt.Sprintf("P%02d", i), status: order.Paid, created: time.Now(), total: int64(100 + i)})
		}
		shown, _ := f.read(f.svc.Orders(f.ctx, a.id, sheets.OrderFilter{}, sheets.Options{}))
		got := column(t, shown, "订单号")
		if len(got) != 10 || got[0] != "P09" || got[9] != "P00" {
			t.Fatalf("paged export: %v", got)
		}
		for i := 1; i < len(got); i++ {
			if got[i] >= got[i-1] {
				t.Fatalf("not newest first, or repeated: %v", got)
			}
		}
	})
}

// TestMoneyIsExact: every amount is written as the exact decimal of its
// fen, well past any real price.
func TestMoneyIsExact(t *testing.T) {
	check := func(fen int64) {
		got := strconv.FormatFloat(float64(fen)/100, 'f', -1, 64)
		want := strconv.FormatInt(fen/100, 10)
		if c := fen % 100; c != 0 {
			want += strings.TrimRight(fmt.Sprintf(".%02d", c), "0")
		}
		if got != want {
			t.Fatalf("%d fen written as %s, want %s", fen, got, want)
		}
	}
	for fen := int64(0); fen < 300_000; fen++ {
		check(fen)
	}
	for _, fen := range []int64{99999999999, 123456789012345, 999999999999999} {
		check(fen)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+86": "'+86", "-5": "'-5", "@x": "'@x", "\tx": "'\tx",
		"\rx": "'\rx", "": "", "连衣裙": "连衣裙", "a=b": "a=b", "'=x": "'=x"} {
		if got := sheets.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOtherExports: refunds, members, commissions and products, each with
// a filter, exact money and only the shop's own rows.
func TestOtherExports(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newFx(t, d)
		a, b := f.shop("甲"), f.shop("乙")
		now := time.Now()
		oa := f.order(a, orderSpec{no: "A1", status: order.Paid, created: now, total: 5000})
		ob := f.order(b, orderSpec{no: "B1", status: order.Paid, created: now, total: 5000})
		for i, r := range []struct {
			shop   testShop
			order  int64
			amount int64
			status string
		}{{a, oa, 1234, "succeeded"}, {a, oa, 5, "failed"}, {b, ob, 700, "succeeded"}} {
			if _, err := d.Exec(f.ctx, `INSERT INTO refunds (shop_id, order_id, out_refund_no, amount, total, reason, status, requested_by,
				created_at, updated_at) VALUES (?, ?, ?, ?, 5000, '尺码不合适', ?, 'staff:1', ?, ?)`,
				r.shop.id, r.order, fmt.Sprintf("R%d", i), r.amount, r.status, now.UnixMilli()+int64(i), now.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
		shown, raw := f.read(f.svc.Refunds(f.ctx, a.id, sheets.RefundFilter{Status: "succeeded"}, sheets.Options{}))
		if got := column(t, shown, "退款单号"); !slices.Equal(got, []string{"R0"}) {
			t.Errorf("refunds %v, want R0", got)
		}
		if got := column(t, raw, "退款金额"); !slices.Equal(got, []string{"12.34"}) {
			t.Errorf("refund amount %v", got)
		}

		shown, raw = f.read(f.svc.Members(f.ctx, a.id, sheets.Range{}, sheets.Options{}))
		if got := column(t, shown, "昵称"); !slices.Equal(got, []string{"甲买家"}) {
			t.Errorf("members %v", got)
		}
		if got := column(t, raw, "累计实付"); !slices.Equal(got, []string{"50"}) {
			t.Errorf("member paid %v", got)
		}
		if got := column(t, shown, "手机号")[0]; got != "138****8000" {
			t.Errorf("member phone %q", got)
		}

		var promoter int64
		if err := d.QueryRow(f.ctx, `INSERT INTO promoters (shop_id, member_id, created_at) VALUES (?, ?, 0) RETURNING id`,
			a.id, a.memberID).Scan(&promoter); err != nil {
			t.Fatal(err)
		}
		for lvl, st := range map[int]string{1: "frozen", 2: "settled"} {
			if _, err := d.Exec(f.ctx, `INSERT INTO commissions (shop_id, order_id, promoter_id, level, rate_bp, base_amount, amount, status, created_at)
				VALUES (?, ?, ?, ?, 1000, 5000, ?, ?, ?)`, a.id, oa, promoter, lvl, 500/lvl, st, now.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
		shown, raw = f.read(f.svc.Commissions(f.ctx, a.id, sheets.CommissionFilter{Status: "settled"}, sheets.Options{}))
		if got := column(t, raw, "佣金"); !slices.Equal(got, []string{"2.5"}) {
			t.Errorf("settled commissions %v", got)
		}
		if got := column(t, shown, "推广员"); !slices.Equal(got, []string{"甲买家"}) {
			t.Errorf("promoter %v", got)
		}
		shown, _ = f.read(f.svc.Commissions(f.ctx, b.id, sheets.CommissionFilter{}, sheets.Options{}))
		if len(shown) != 1 {
			t.Errorf("shop B sees commissions: %v", shown)
		}

		if err := f.cat.Sync(f.ctx); err != nil {
			t.Fatal(err)
		}
		shown, raw = f.read(f.svc.Products(f.ctx, a.id, catalog.ListQuery{}, sheets.Options{}))
		if got := column(t, shown, "规格"); !slices.Equal(got, []string{"尺码:M", "尺码:L"}) {
			t.Errorf("product SKUs %v", got)
		}
		if got := column(t, raw, "价格"); !slices.Equal(got, []string{"99.9", "0.01"}) {
			t.Errorf("prices %v", got)
		}
		if got := column(t, shown, "商品名称"); got[0] != "甲连衣裙" {
			t.Errorf("titles %v", got)
		}
		shown, _ = f.read(f.svc.Products(f.ctx, a.id, catalog.ListQuery{OffShelf: true}, sheets.Options{}))
		if len(shown) != 1 {
			t.Errorf("off-shelf filter: %v", shown)
		}
	})
}
