package order_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/shop"
)

// env is a shop with one product of two SKUs on a fresh database.
type env struct {
	t      *testing.T
	ctx    context.Context
	db     *db.DB
	shops  *shop.Service
	orders *order.Service
	jobs   *jobs.Queue
	shopID int64
	skus   []int64 // prices 10000 and 2500 fen
}

var address = order.Address{Name: "张三", Phone: "13800138000", Province: "浙江省", City: "杭州市", District: "西湖区", Detail: "文三路 1 号"}

func newEnv(t *testing.T, d *db.DB, subject shop.SubjectType, stock int64) *env {
	t.Helper()
	ctx := context.Background()
	box, _ := secretbox.New(make([]byte, 32))
	shops := shop.NewService(d, box)
	sh, err := shops.Create(ctx, shop.CreateInput{Name: "店", AppID: fmt.Sprintf("wx%016x", time.Now().UnixNano()), SubjectType: shop.Enterprise})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.NewService(d, shops)
	c, err := cat.CreateCategory(ctx, sh.ID, catalog.CategoryInput{Name: ptr("女装")}, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.CreateProduct(ctx, sh.ID, catalog.ProductInput{CategoryID: c.ID, Title: "夏季连衣裙", OnShelf: true,
		Specs: []catalog.SpecDim{{Name: "尺码", Values: []string{"M", "L"}}},
		SKUs:  []catalog.SKUInput{{SpecValues: []string{"M"}, Price: 10000, Stock: stock}, {SpecValues: []string{"L"}, Price: 2500, Stock: stock}}})
	if err != nil {
		t.Fatal(err)
	}
	if subject != shop.Enterprise {
		if _, err := shops.Update(ctx, sh.ID, shop.UpdateInput{SubjectType: &subject}); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, ctx: ctx, db: d, shops: shops, shopID: sh.ID, skus: []int64{p.SKUs[0].ID, p.SKUs[1].ID}}
	e.restart()
	return e
}

// restart builds new services on the same database, as a restarted server would.
func (e *env) restart() {
	e.orders = order.NewService(e.db, e.shops)
	e.jobs = jobs.New(e.db, slog.New(slog.DiscardHandler))
	e.orders.RegisterJobs(e.jobs)
}

func ptr[T any](v T) *T { return &v }

var memberSeq atomic.Int64

// member inserts a buyer of the shop.
func (e *env) member() int64 {
	e.t.Helper()
	var id int64
	err := e.db.QueryRow(e.ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
		e.shopID, fmt.Sprintf("o-%d", memberSeq.Add(1))).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) buy(memberID int64, key string, items ...order.Item) (order.Order, error) {
	return e.orders.Create(e.ctx, e.shopID, memberID, key, order.CreateInput{Items: items, Address: address})
}

// stock returns a SKU's sellable and locked units.
func (e *env) stock(skuID int64) (stock, locked int64) {
	e.t.Helper()
	if err := e.db.QueryRow(e.ctx, `SELECT stock, locked FROM skus WHERE id = ?`, skuID).Scan(&stock, &locked); err != nil {
		e.t.Fatal(err)
	}
	return
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

// TestNoOversellUnderConcurrency fires 500 concurrent orders by 500 buyers
// at a SKU with 100 in stock: exactly 100 succeed and stock ends at 0.
func TestNoOversellUnderConcurrency(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 100)
		buyers := make([]int64, 500)
		for i := range buyers {
			buyers[i] = e.member()
		}
		var ok, soldOut atomic.Int32
		var wg sync.WaitGroup
		for i, m := range buyers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.buy(m, fmt.Sprintf("flash-%04d", i), order.Item{SKUID: e.skus[0], Quantity: 1})
				switch {
				case err == nil:
					ok.Add(1)
				case errs.Is(err, "out_of_stock"):
					soldOut.Add(1)
				default:
					t.Errorf("order %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		stock, locked := e.stock(e.skus[0])
		var orders, ledger int64
		d.QueryRow(e.ctx, `SELECT COUNT(*) FROM orders WHERE shop_id = ?`, e.shopID).Scan(&orders)
		d.QueryRow(e.ctx, `SELECT COALESCE(SUM(quantity), 0) FROM stock_ledger WHERE sku_id = ?`, e.skus[0]).Scan(&ledger)
		if ok.Load() != 100 || soldOut.Load() != 400 || orders != 100 || stock != 0 || locked != 100 || ledger != -100 {
			t.Fatalf("ok %d, sold out %d, orders %d, stock %d, locked %d, ledger %d; want 100, 400, 100, 0, 100, -100",
				ok.Load(), soldOut.Load(), orders, stock, locked, ledger)
		}
	})
}

func TestPricesComeFromTheServerAndShippingRules(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 10)
		e.shops.Update(e.ctx, e.shopID, shop.UpdateInput{Orders: &shop.OrderSettings{UnpaidCancelMinutes: 15, ShippingFee: 800, FreeShippingOver: 20000}})
		m := e.member()
		small, err := e.buy(m, "order-small-1", order.Item{SKUID: e.skus[1], Quantity: 2}, order.Item{SKUID: e.skus[1], Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if small.GoodsAmount != 7500 || small.ShippingFee != 800 || small.TotalAmount != 8300 || len(small.Lines) != 1 || small.Lines[0].Quantity != 3 {
			t.Fatalf("small order: %+v", small)
		}
		big, _ := e.buy(m, "order-big-01", order.Item{SKUID: e.skus[0], Quantity: 2})
		if big.GoodsAmount != 20000 || big.ShippingFee != 0 || big.TotalAmount != 20000 || big.Lines[0].TaxRate != 1300 {
			t.Fatalf("free shipping over 200 yuan: %+v", big)
		}
		want := address // with the region codes matched from its names
		want.ProvinceCode, want.CityCode, want.DistrictCode = "330000", "330100", "330106"
		if big.Address != want || big.Status != order.PendingPayment || len(big.OrderNo) != 26 {
			t.Fatalf("order: %+v", big)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 10)
		m := e.member()
		item := order.Item{SKUID: e.skus[0], Quantity: 1}
		var wg sync.WaitGroup
		ids := make([]int64, 8)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := e.buy(m, "same-key-123", item)
				if err != nil {
					t.Error(err)
				}
				ids[i] = o.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("one key gave orders %v", ids)
			}
		}
		if stock, _ := e.stock(e.skus[0]); stock != 9 {
			t.Fatalf("stock %d after one order sent 8 times, want 9", stock)
		}
		_, err := e.buy(m, "same-key-123", order.Item{SKUID: e.skus[0], Quantity: 2})
		wantCode(t, err, "idempotency_key_reused")
		_, err = e.buy(m, "short", item)
		wantCode(t, err, "idempotency_key_required")
	})
}

func TestLifecycleMovesStockAndLogsEvents(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 10)
		m := e.member()
		o, _ := e.buy(m, "life-0000001", order.Item{SKUID: e.skus[0], Quantity: 3})
		if s, l := e.stock(e.skus[0]); s != 7 || l != 3 {
			t.Fatalf("after order: stock %d locked %d", s, l)
		}
		wantCode(t, e.orders.Ship(e.ctx, e.shopID, o.ID, order.StaffActor(1), order.ShipInput{Carrier: "顺丰", TrackingNo: "SF123456"}), "illegal_transition")
		_, err := e.orders.MarkPaid(e.ctx, e.shopID, o.ID, o.TotalAmount-1, "tx-1")
		wantCode(t, err, "amount_mismatch")
		for i := 0; i < 3; i++ { // the notification arrives three times
			applied, err := e.orders.MarkPaid(e.ctx, e.shopID, o.ID, o.TotalAmount, "tx-1")
			if err != nil || applied != (i == 0) {
				t.Fatalf("payment %d: applied %v, %v", i, applied, err)
			}
		}
		if s, l := e.stock(e.skus[0]); s != 7 || l != 0 {
			t.Fatalf("after payment: stock %d locked %d", s, l)
		}
		wantCode(t, e.orders.Cancel(e.ctx, e.shopID, o.ID, m, order.MemberActor(m), "changed my mind"), "illegal_transition")
		if err := e.orders.Ship(e.ctx, e.shopID, o.ID, order.StaffActor(1), order.ShipInput{Carrier: "顺丰", TrackingNo: "SF123456"}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.orders.Complete(e.ctx, e.shopID, o.ID, e.member(), order.MemberActor(m)), "order_not_found")
		if err := e.orders.Complete(e.ctx, e.shopID, o.ID, m, order.MemberActor(m)); err != nil {
			t.Fatal(err)
		}
		got, _ := e.orders.Get(e.ctx, e.shopID, o.ID, 0)
		var path []string
		for _, ev := range got.Events {
			path = append(path, string(ev.To))
		}
		if fmt.Sprint(path) != "[pending_payment paid shipped completed]" || got.Carrier != "顺丰" || got.PaidAt == nil || got.CompletedAt == nil {
			t.Fatalf("events %v, order %+v", path, got)
		}
		if got.Events[2].Actor != "staff:1" || got.Events[1].Actor != "system" {
			t.Fatalf("actors: %+v", got.Events)
		}
	})
}

func TestCancelReleasesStockOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 5)
		m := e.member()
		o, _ := e.buy(m, "cancel-00001", order.Item{SKUID: e.skus[1], Quantity: 5})
		_, err := e.buy(m, "cancel-00002", order.Item{SKUID: e.skus[1], Quantity: 1})
		wantCode(t, err, "out_of_stock")
		wantCode(t, e.orders.Cancel(e.ctx, e.shopID, o.ID, e.member(), order.MemberActor(m), ""), "order_not_found")
		var wg sync.WaitGroup
		var cancelled atomic.Int32
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if e.orders.Cancel(e.ctx, e.shopID, o.ID, m, order.MemberActor(m), "") == nil {
					cancelled.Add(1)
				}
			}()
		}
		wg.Wait()
		if s, l := e.stock(e.skus[1]); cancelled.Load() != 1 || s != 5 || l != 0 {
			t.Fatalf("cancelled %d times; stock %d locked %d", cancelled.Load(), s, l)
		}
		applied, err := e.orders.MarkPaid(e.ctx, e.shopID, o.ID, o.TotalAmount, "late")
		if applied || err != nil {
			t.Fatalf("a payment for a cancelled order applied: %v %v", applied, err)
		}
	})
}

// TestAutoCancelSurvivesARestart: the cancel job is in the database, so a
// restarted server still cancels the unpaid order at its deadline, and
// leaves a paid order alone.
func TestAutoCancelSurvivesARestart(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 5)
		m := e.member()
		unpaid, _ := e.buy(m, "auto-cancel1", order.Item{SKUID: e.skus[0], Quantity: 2})
		paid, _ := e.buy(m, "auto-cancel2", order.Item{SKUID: e.skus[0], Quantity: 1})
		e.orders.MarkPaid(e.ctx, e.shopID, paid.ID, paid.TotalAmount, "tx")
		if ran, _ := e.jobs.WorkOne(e.ctx); ran {
			t.Fatal("a cancel job ran before the deadline")
		}
		e.restart()
		d.Exec(e.ctx, `UPDATE jobs SET run_at = 0 WHERE kind = ?`, order.AutoCancelKind) // the deadline passes
		for ran := true; ran; {
			var err error
			if ran, err = e.jobs.WorkOne(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
		u, _ := e.orders.Get(e.ctx, e.shopID, unpaid.ID, 0)
		p, _ := e.orders.Get(e.ctx, e.shopID, paid.ID, 0)
		if u.Status != order.Cancelled || u.Events[1].Actor != "system" || p.Status != order.Paid {
			t.Fatalf("after the deadline: unpaid %s, paid %s", u.Status, p.Status)
		}
		if s, l := e.stock(e.skus[0]); s != 4 || l != 0 {
			t.Fatalf("stock %d locked %d, want 4 and 0", s, l)
		}
	})
}

func TestCartCheckout(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 10)
		m := e.member()
		e.orders.AddToCart(e.ctx, e.shopID, m, order.Item{SKUID: e.skus[0], Quantity: 1})
		e.orders.AddToCart(e.ctx, e.shopID, m, order.Item{SKUID: e.skus[0], Quantity: 2})
		cart, err := e.orders.AddToCart(e.ctx, e.shopID, m, order.Item{SKUID: e.skus[1], Quantity: 1})
		if err != nil || len(cart.Lines) != 2 || cart.SelectedTotal != 3*10000+2500 {
			t.Fatalf("cart: %+v %v", cart, err)
		}
		var l int64
		for _, line := range cart.Lines {
			if line.SKUID == e.skus[1] {
				l = line.ID
			}
		}
		cart, _ = e.orders.UpdateCartLine(e.ctx, e.shopID, m, l, order.CartUpdate{Selected: ptr(false)})
		if cart.SelectedTotal != 30000 {
			t.Fatalf("unselected line still counted: %d", cart.SelectedTotal)
		}
		_, err = e.orders.UpdateCartLine(e.ctx, e.shopID, e.member(), l, order.CartUpdate{Quantity: ptr(int64(3))})
		wantCode(t, err, "cart_line_not_found")
		o, err := e.orders.Create(e.ctx, e.shopID, m, "from-cart-01", order.CreateInput{FromCart: true, Address: address})
		if err != nil || o.GoodsAmount != 30000 || len(o.Lines) != 1 {
			t.Fatalf("order from cart: %+v %v", o, err)
		}
		cart, _ = e.orders.Cart(e.ctx, e.shopID, m)
		if len(cart.Lines) != 1 || cart.Lines[0].SKUID != e.skus[1] {
			t.Fatalf("ordered lines must leave the cart, the rest stay: %+v", cart.Lines)
		}
		_, err = e.orders.Create(e.ctx, e.shopID, m, "from-cart-02", order.CreateInput{FromCart: true, Address: address})
		wantCode(t, err, "cart_empty")
	})
}

func TestBadOrders(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 10)
		m := e.member()
		cases := []struct {
			in   order.CreateInput
			code string
		}{
			{order.CreateInput{Address: address}, "invalid_fields"},
			{order.CreateInput{Items: []order.Item{{SKUID: e.skus[0], Quantity: 0}}, Address: address}, "invalid_fields"},
			{order.CreateInput{Items: []order.Item{{SKUID: e.skus[0], Quantity: -1}}, Address: address}, "invalid_fields"},
			{order.CreateInput{Items: []order.Item{{SKUID: e.skus[0], Quantity: 1000}}, Address: address}, "invalid_fields"},
			{order.CreateInput{Items: []order.Item{{SKUID: 999999, Quantity: 1}}, Address: address}, "sku_unavailable"},
			{order.CreateInput{Items: []order.Item{{SKUID: e.skus[0], Quantity: 1}}}, "invalid_fields"},
			{order.CreateInput{Items: []order.Item{{SKUID: e.skus[0], Quantity: 600}, {SKUID: e.skus[0], Quantity: 600}}, Address: address}, "quantity_too_large"},
		}
		for i, c := range cases {
			_, err := e.orders.Create(e.ctx, e.shopID, m, fmt.Sprintf("bad-order-%02d", i), c.in)
			wantCode(t, err, c.code)
		}
		if s, l := e.stock(e.skus[0]); s != 10 || l != 0 {
			t.Fatalf("bad orders moved stock: %d %d", s, l)
		}
		personal := newEnv(t, d, shop.Personal, 10)
		_, err := personal.buy(personal.member(), "personal-001", order.Item{SKUID: personal.skus[0], Quantity: 1})
		wantCode(t, err, "subject_cannot_pay")
	})
}

func TestTaxRatesAndInvoices(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 10)
		if _, err := d.Exec(e.ctx, `UPDATE spus SET kind = 'digital' WHERE shop_id = ?`, e.shopID); err != nil {
			t.Fatal(err)
		}
		m := e.member()
		o, err := e.buy(m, "invoice-0001", order.Item{SKUID: e.skus[0], Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		// 100.00 yuan at 6%: 10000 × 600 / 10600 = 566.04 → 566 fen.
		if o.Lines[0].TaxRate != 600 || o.Lines[0].TaxAmount != 566 || o.TaxAmount != 566 {
			t.Fatalf("digital content tax: %+v", o.Lines[0])
		}
		err = e.orders.RequestInvoice(e.ctx, e.shopID, o.ID, m, order.InvoiceRequest{TitleType: "company", Title: "杭州开店科技有限公司"})
		wantCode(t, err, "invalid_fields")
		good := order.InvoiceRequest{TitleType: "company", Title: "杭州开店科技有限公司", TaxID: "91330100mA27xxxx1x", Email: "fin@example.com"}
		if err := e.orders.RequestInvoice(e.ctx, e.shopID, o.ID, m, good); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.orders.RequestInvoice(e.ctx, e.shopID, o.ID, e.member(), good), "order_not_found")
		wantCode(t, e.orders.IssueInvoice(e.ctx, e.shopID, o.ID, order.StaffActor(1), 1, order.IssueInput{InvoiceNo: "044001900111"}), "order_not_invoiceable")
		e.orders.MarkPaid(e.ctx, e.shopID, o.ID, o.TotalAmount, "tx")
		if err := e.orders.IssueInvoice(e.ctx, e.shopID, o.ID, order.StaffActor(1), 1, order.IssueInput{InvoiceNo: "044001900111"}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.orders.RequestInvoice(e.ctx, e.shopID, o.ID, m, good), "invoice_issued")
		got, _ := e.orders.Get(e.ctx, e.shopID, o.ID, 0)
		last := got.Events[len(got.Events)-1]
		if got.Invoice == nil || got.Invoice.Status != "issued" || got.Invoice.TaxID != "91330100MA27XXXX1X" || last.Reason != "invoice 044001900111 issued" {
			t.Fatalf("invoice %+v, last event %+v", got.Invoice, last)
		}
	})
}

func TestTaxIncludedRoundsHalfUp(t *testing.T) {
	for _, c := range []struct{ amount, rate, want int64 }{
		{11300, 1300, 1300}, {10600, 600, 600}, {100, 1300, 12}, {1, 1300, 0}, {0, 600, 0},
		{9900, 1300, 1139}, // 1138.94
		{565, 1300, 65},    // 65.0
		{53, 600, 3},       // 3.0
	} {
		if got := order.TaxIncluded(c.amount, c.rate); got != c.want {
			t.Errorf("TaxIncluded(%d, %d) = %d, want %d", c.amount, c.rate, got, c.want)
		}
	}
}

// TestCreatedOrderIsWhatIsStored: the order Create returns (built without
// reading it back) equals the order Get reads.
func TestCreatedOrderIsWhatIsStored(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 10)
		m := e.member()
		created, err := e.orders.Create(e.ctx, e.shopID, m, "same-as-stored", order.CreateInput{
			Items: []order.Item{{SKUID: e.skus[1], Quantity: 2}, {SKUID: e.skus[0], Quantity: 1}}, Address: address, BuyerNote: "请包装好"})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := e.orders.Get(e.ctx, e.shopID, created.ID, m)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(created)
		b, _ := json.Marshal(stored)
		if string(a) != string(b) {
			t.Fatalf("created:\n%s\nstored:\n%s", a, b)
		}
	})
}

// TestOrderNumberClashIsRetried: a random order number that another order
// already has is replaced, not reported as the idempotent replay of an
// unrelated order (which answered 201 with an empty order before).
func TestOrderNumberClashIsRetried(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 10)
		m := e.member()
		var calls atomic.Int32
		restore := order.SetOrderNumbers(func(time.Time) string {
			if calls.Add(1) <= 2 {
				return "20261122000000000000000001" // the first order's number, and a clash for the second
			}
			return "20261122000000000000000002"
		})
		defer restore()
		first, err := e.buy(m, "clash-key-1", order.Item{SKUID: e.skus[0], Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.buy(m, "clash-key-2", order.Item{SKUID: e.skus[0], Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if second.ID == 0 || second.ID == first.ID || second.OrderNo != "20261122000000000000000002" {
			t.Fatalf("after a clash: first %d %s, second %d %s", first.ID, first.OrderNo, second.ID, second.OrderNo)
		}
	})
}

// TestAutoCancelWatchesAPaymentFoundAtWeChat: the cancel finds the order
// paid at WeChat but the payment is not applied here yet. The auto-cancel
// job keeps the order in view until it is paid (or cancellable) here.
// Before, "order_paid" ended the job at once, and if the payment query
// job then ran out of tries, the order stayed unpaid with its stock locked.
func TestAutoCancelWatchesAPaymentFoundAtWeChat(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 5)
		unpaid, _ := e.buy(e.member(), "auto-cancel-found", order.Item{SKUID: e.skus[0], Quantity: 2})
		e.orders.BeforeCancel(func(context.Context, int64, order.Order) error {
			return errs.E(errs.Conflict, "order_paid", "the order was paid meanwhile and cannot be cancelled")
		})
		d.Exec(e.ctx, `UPDATE jobs SET run_at = 0 WHERE kind = ?`, order.AutoCancelKind)
		if ran, err := e.jobs.WorkOne(e.ctx); !ran || err != nil {
			t.Fatalf("auto-cancel: %v %v", ran, err)
		}
		var state string
		d.QueryRow(e.ctx, `SELECT state FROM jobs WHERE kind = ?`, order.AutoCancelKind).Scan(&state)
		if state != "queued" {
			t.Fatalf("the auto-cancel job is %s while the order found paid at WeChat is still unpaid here", state)
		}
		e.orders.MarkPaid(e.ctx, e.shopID, unpaid.ID, unpaid.TotalAmount, "tx-found")
		d.Exec(e.ctx, `UPDATE jobs SET run_at = 0 WHERE kind = ?`, order.AutoCancelKind)
		if ran, err := e.jobs.WorkOne(e.ctx); !ran || err != nil {
			t.Fatalf("auto-cancel: %v %v", ran, err)
		}
		d.QueryRow(e.ctx, `SELECT state FROM jobs WHERE kind = ?`, order.AutoCancelKind).Scan(&state)
		if o, _ := e.orders.Get(e.ctx, e.shopID, unpaid.ID, 0); state != "done" || o.Status != order.Paid {
			t.Fatalf("once paid here: job %s, order %s", state, o.Status)
		}
	})
}

// TestFailedOrderWritesNothing: an order one of whose lines lacks stock is
// refused as out_of_stock and leaves no trace, whichever way it was written
// (on PostgreSQL a "buy now" order is one statement that aborts and is
// replayed on the general path, which names the SKU), and a placed order's
// auto-cancel job is the one jobs.Enqueue would write.
func TestFailedOrderWritesNothing(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, shop.Enterprise, 5)
		m := e.member()
		_, err := e.buy(m, "partly-out-1", order.Item{SKUID: e.skus[0], Quantity: 1}, order.Item{SKUID: e.skus[1], Quantity: 6})
		wantCode(t, err, "out_of_stock")
		if !strings.Contains(err.Error(), fmt.Sprint(e.skus[1])) {
			t.Fatalf("the error should name SKU %d: %v", e.skus[1], err)
		}
		count := func(table string) (n int64) {
			t.Helper()
			if err := d.QueryRow(e.ctx, `SELECT COUNT(*) FROM `+table+` WHERE shop_id = ?`, e.shopID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, table := range []string{"orders", "order_lines", "stock_ledger", "order_events", "jobs"} {
			if n := count(table); n != 0 {
				t.Fatalf("%d rows in %s after a refused order", n, table)
			}
		}
		if s, l := e.stock(e.skus[0]); s != 5 || l != 0 {
			t.Fatalf("SKU %d: stock %d locked %d after a refused order, want 5 and 0", e.skus[0], s, l)
		}
		o, err := e.buy(m, "partly-out-2", order.Item{SKUID: e.skus[0], Quantity: 1}, order.Item{SKUID: e.skus[1], Quantity: 5})
		if err != nil {
			t.Fatal(err)
		}
		var payload, key string
		var attempts int64
		if err := d.QueryRow(e.ctx, `SELECT payload, unique_key, max_attempts FROM jobs WHERE shop_id = ? AND kind = ?`,
			e.shopID, order.AutoCancelKind).Scan(&payload, &key, &attempts); err != nil {
			t.Fatal(err)
		}
		if payload != fmt.Sprintf(`{"order_id":%d}`, o.ID) || key != fmt.Sprintf("order-cancel:%d", o.ID) || attempts != order.AutoCancelAttempts {
			t.Fatalf("auto-cancel job: payload %s, key %s, max attempts %d", payload, key, attempts)
		}
		if n := count("stock_ledger"); n != 2 {
			t.Fatalf("%d ledger rows for an order of 2 lines", n)
		}
	})
}
