package sheets

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/kaidian/kaidian/internal/platform/mask"
	"strings"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// keyset reads the rows of query (a SELECT whose WHERE the caller ends
// with its filters; args[0] is the shop) newest first, in windows of size
// ids of table's primary key walked down from the shop's largest: each
// window is one query for ids in [lo, hi) (no long-lived cursor, no
// transaction). load (if any) completes a window's rows with what other
// tables hold; then each writes them. Reading runs one window ahead of
// writing, in its own goroutine, so the database's answers and the
// workbook's CPU overlap; at most two windows are in memory.
//
// A window reads at most size rows whatever the planner thinks of the
// filters: a LIMIT with "id < cursor" let PostgreSQL, without statistics on
// a fresh table, fetch and sort every row below the cursor for each page
// (quadratic: 17 s for 100,000 orders). The shop's clause is written
// "+shop_id = ?": the unary plus keeps the planner off the (shop_id, …)
// indexes, with which SQLite sorted all the shop's matching rows again for
// every page (75 s); the primary key's range reads each row once.
func keyset[T any](ctx context.Context, d *db.DB, size int, table, query, idCol string, args []any,
	scan func(db.Scanner) (T, error), load, each func([]T) error) error {
	var bottom, top int64 // the shop's first and last ids: no empty windows around them
	if err := d.QueryRow(ctx, `SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM `+table+` WHERE shop_id = ?`,
		args[0]).Scan(&bottom, &top); err != nil {
		return errs.Wrap("export range", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	pages := make(chan windowOf[T], 1)
	defer func() {
		cancel()
		for range pages { // the reader has stopped once it closes pages
		}
	}()
	go func() {
		defer close(pages)
		for hi := top + 1; hi > bottom; hi -= int64(size) {
			lo := max(hi-int64(size), bottom)
			page, err := db.All(ctx, d, scan, query+" AND "+idCol+" < ? AND "+idCol+" >= ? ORDER BY "+idCol+" DESC",
				append(append([]any(nil), args...), hi, lo)...)
			if err == nil && len(page) > 0 && load != nil {
				err = load(page)
			}
			if err == nil && len(page) == 0 {
				continue
			}
			select {
			case pages <- windowOf[T]{page, errs.Wrap("export page", err)}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for w := range pages {
		if w.err != nil {
			return w.err
		}
		if err := each(w.rows); err != nil {
			return err
		}
	}
	return nil
}

// windowOf is one window's rows, or the error that ended the reading.
type windowOf[T any] struct {
	rows []T
	err  error
}

const shopClause = "+shop_id = ?" // see keyset

// marks is "?, ?, ?" for n values.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// phone is a phone number as the caller may see it.
func phone(p string, o Options) string {
	if o.Unmask {
		return p
	}
	return mask.Phone(p)
}

// label is a status in the sheet's language.
func label(labels map[string]string, status string, o Options) string {
	if l, ok := labels[status]; ok && o.Lang != "en" {
		return l
	}
	return status
}

// ---- orders ----

// OrderFilter is the order list's filters (GET /admin/api/v1/orders).
type OrderFilter struct {
	Status  order.Status
	OrderNo string
	Phone   string
	Created Range
}

var orderColumns = []column{
	{"订单号", "order_no", text, 24}, {"状态", "status", text, 10}, {"下单时间", "created_at", when, 20},
	{"支付时间", "paid_at", when, 20}, {"发货时间", "shipped_at", when, 20}, {"商品", "goods", text, 40},
	{"件数", "quantity", count, 8}, {"商品金额", "goods_amount", money, 12}, {"运费", "shipping_fee", money, 10},
	{"优惠", "discount", money, 10}, {"应付金额", "total_amount", money, 12}, {"实付金额", "paid_amount", money, 12},
	{"已退款", "refunded_amount", money, 12}, {"收货人", "receiver", text, 10}, {"手机号", "phone", text, 14},
	{"收货地址", "address", text, 40}, {"买家留言", "buyer_note", text, 20}, {"商家备注", "staff_note", text, 20},
	{"快递公司", "carrier", text, 10}, {"运单号", "tracking_no", text, 20},
}

var orderLabels = map[string]string{"pending_payment": "待付款", "paid": "待发货", "shipped": "已发货",
	"completed": "已完成", "cancelled": "已取消", "refunded": "已退款"}

type orderRow struct {
	id, created, paid, shipped                              int64
	no, status, address, buyerNote, staffNote, carrier, trk string
	goods, shipping, discount, total, paidAmt, refunded     int64
	lines                                                   lineSum
}

// Orders writes shopID's orders matching f, newest first, one row each
// with its lines summed up.
func (s *Service) Orders(ctx context.Context, shopID int64, f OrderFilter, o Options) (*Sheet, error) {
	where, args := []string{shopClause}, []any{shopID}
	add := func(ok bool, clause string, v any) {
		if ok {
			where, args = append(where, clause), append(args, v)
		}
	}
	add(f.Status != "", "status = ?", string(f.Status))
	add(f.OrderNo != "", "order_no = ?", f.OrderNo)
	add(f.Phone != "", "phone = ?", f.Phone)
	where, args = f.Created.where("created_at", where, args)
	sh, err := newSheet(sheetName("订单", "Orders", o), orderColumns, o.Lang)
	if err != nil {
		return nil, err
	}
	err = keyset(ctx, s.db, s.PageSize, "orders", `SELECT id, order_no, status, created_at, COALESCE(paid_at, 0), COALESCE(shipped_at, 0),
		goods_amount, shipping_fee, discount_amount, total_amount, paid_amount, refunded_amount, address, buyer_note, staff_note,
		carrier, tracking_no FROM orders WHERE `+strings.Join(where, " AND "), "id", args,
		scanOrder, func(page []orderRow) error { return s.orderLines(ctx, shopID, page) },
		func(page []orderRow) error { return writeOrders(sh, page, o) })
	if err != nil {
		sh.Close()
		return nil, err
	}
	return sh, nil
}

func scanOrder(row db.Scanner) (orderRow, error) {
	var r orderRow
	err := row.Scan(&r.id, &r.no, &r.status, &r.created, &r.paid, &r.shipped, &r.goods, &r.shipping, &r.discount,
		&r.total, &r.paidAmt, &r.refunded, &r.address, &r.buyerNote, &r.staffNote, &r.carrier, &r.trk)
	return r, err
}

func writeOrders(sh *Sheet, page []orderRow, o Options) error {
	for _, r := range page {
		var a order.Address
		_ = json.Unmarshal([]byte(r.address), &a)
		addr := strings.Join(nonEmpty(a.Province, a.City, a.District, a.Detail), " ")
		l := r.lines
		err := sh.add(r.no, label(orderLabels, r.status, o), r.created, r.paid, r.shipped, l.goods, l.quantity,
			r.goods, r.shipping, r.discount, r.total, r.paidAmt, r.refunded, a.Name, phone(a.Phone, o), addr,
			r.buyerNote, r.staffNote, r.carrier, r.trk)
		if err != nil {
			return err
		}
	}
	return nil
}

type lineSum struct {
	goods    string
	quantity int64
}

// orderLines sums up the lines of a page of orders in one query over the
// page's id range (an index range; a long IN list made PostgreSQL scan the
// whole table): "标题 (红/M) ×2; …" and the units.
func (s *Service) orderLines(ctx context.Context, shopID int64, page []orderRow) error {
	lo, hi := page[len(page)-1].id, page[0].id // newest first
	rows, err := s.db.Query(ctx, `SELECT order_id, title, spec_values, quantity FROM order_lines
		WHERE shop_id = ? AND order_id >= ? AND order_id <= ? ORDER BY order_id, id`, shopID, lo, hi)
	if err != nil {
		return errs.Wrap("export order lines", err)
	}
	defer rows.Close()
	at := make(map[int64]*lineSum, len(page))
	for i := range page {
		at[page[i].id] = &page[i].lines
	}
	for rows.Next() {
		var id, qty int64
		var title, specs string
		if err := rows.Scan(&id, &title, &specs, &qty); err != nil {
			return errs.Wrap("export order lines", err)
		}
		l := at[id]
		if l == nil {
			continue // an order the filters left out
		}
		var values []string
		_ = json.Unmarshal([]byte(specs), &values)
		if len(values) > 0 {
			title += " (" + strings.Join(values, "/") + ")"
		}
		if l.goods != "" {
			l.goods += "; "
		}
		l.goods += fmt.Sprintf("%s ×%d", title, qty)
		l.quantity += qty
	}
	return errs.Wrap("export order lines", rows.Err())
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sheetName(zh, en string, o Options) string {
	if o.Lang == "en" {
		return en
	}
	return zh
}

// ---- refunds ----

// RefundFilter is the refund list's filters (GET /admin/api/v1/refunds)
// and a created-at window.
type RefundFilter struct {
	Status  string
	Created Range
}

// RefundStatuses are the refund statuses a filter may name.
var RefundStatuses = []string{"pending", "processing", "succeeded", "failed", "abnormal"}

var refundColumns = []column{
	{"退款单号", "out_refund_no", text, 24}, {"订单号", "order_no", text, 24}, {"退款金额", "amount", money, 12},
	{"状态", "status", text, 10}, {"原因", "reason", text, 30}, {"发起人", "requested_by", text, 14},
	{"申请时间", "created_at", when, 20}, {"退款成功时间", "succeeded_at", when, 20},
}

var refundLabels = map[string]string{"pending": "待处理", "processing": "处理中", "succeeded": "已退款",
	"failed": "失败", "abnormal": "异常"}

type refundRow struct {
	id, amount, created, succeeded     int64
	no, orderNo, status, reason, actor string
}

// Refunds writes shopID's refunds matching f, newest first.
func (s *Service) Refunds(ctx context.Context, shopID int64, f RefundFilter, o Options) (*Sheet, error) {
	where, args := []string{"+r.shop_id = ?"}, []any{shopID} // see shopClause
	if f.Status != "" {
		where, args = append(where, "r.status = ?"), append(args, f.Status)
	}
	where, args = f.Created.where("r.created_at", where, args)
	sh, err := newSheet(sheetName("退款", "Refunds", o), refundColumns, o.Lang)
	if err != nil {
		return nil, err
	}
	err = keyset(ctx, s.db, s.PageSize, "refunds", `SELECT r.id, r.out_refund_no, o.order_no, r.amount, r.status, r.reason, r.requested_by,
		r.created_at, COALESCE(r.succeeded_at, 0) FROM refunds r JOIN orders o ON o.id = r.order_id AND o.shop_id = r.shop_id
		WHERE `+strings.Join(where, " AND "), "r.id", args,
		func(row db.Scanner) (refundRow, error) {
			var r refundRow
			err := row.Scan(&r.id, &r.no, &r.orderNo, &r.amount, &r.status, &r.reason, &r.actor, &r.created, &r.succeeded)
			return r, err
		}, nil, func(page []refundRow) error {
			for _, r := range page {
				if err := sh.add(r.no, r.orderNo, r.amount, label(refundLabels, r.status, o), r.reason, r.actor,
					r.created, r.succeeded); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		sh.Close()
		return nil, err
	}
	return sh, nil
}

// ---- members ----

var memberColumns = []column{
	{"会员编号", "member_id", count, 10}, {"昵称", "nickname", text, 16}, {"手机号", "phone", text, 14},
	{"生日", "birthday", text, 8}, {"注册时间", "created_at", when, 20}, {"已付款订单", "paid_orders", count, 10},
	{"累计实付", "paid_total", money, 12}, {"累计退款", "refunded_total", money, 12},
}

type memberRow struct {
	id, created            int64
	nickname, phone, birth string
	orders, paid, refunded int64
}

// Members writes shopID's members registered in the window, newest first,
// with what each has paid.
func (s *Service) Members(ctx context.Context, shopID int64, created Range, o Options) (*Sheet, error) {
	where, args := created.where("created_at", []string{shopClause}, []any{shopID})
	sh, err := newSheet(sheetName("会员", "Members", o), memberColumns, o.Lang)
	if err != nil {
		return nil, err
	}
	err = keyset(ctx, s.db, s.PageSize, "members", `SELECT id, nickname, phone, birthday, created_at FROM members WHERE `+
		strings.Join(where, " AND "), "id", args,
		func(row db.Scanner) (memberRow, error) {
			var m memberRow
			err := row.Scan(&m.id, &m.nickname, &m.phone, &m.birth, &m.created)
			return m, err
		}, func(page []memberRow) error { return s.memberTotals(ctx, shopID, page) },
		func(page []memberRow) error {
			for _, m := range page {
				if err := sh.add(m.id, m.nickname, phone(m.phone, o), m.birth, m.created, m.orders, m.paid, m.refunded); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		sh.Close()
		return nil, err
	}
	return sh, nil
}

// memberTotals adds each member's paid orders and amounts, in one query
// per page.
func (s *Service) memberTotals(ctx context.Context, shopID int64, page []memberRow) error {
	args := []any{shopID}
	at := map[int64]*memberRow{}
	for i := range page {
		args = append(args, page[i].id)
		at[page[i].id] = &page[i]
	}
	rows, err := s.db.Query(ctx, `SELECT member_id, COUNT(*), COALESCE(SUM(paid_amount), 0), COALESCE(SUM(refunded_amount), 0)
		FROM orders WHERE shop_id = ? AND member_id IN (`+marks(len(page))+`) AND paid_at IS NOT NULL GROUP BY member_id`, args...)
	if err != nil {
		return errs.Wrap("export member totals", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n, paid, refunded int64
		if err := rows.Scan(&id, &n, &paid, &refunded); err != nil {
			return errs.Wrap("export member totals", err)
		}
		if m := at[id]; m != nil {
			m.orders, m.paid, m.refunded = n, paid, refunded
		}
	}
	return errs.Wrap("export member totals", rows.Err())
}

// ---- products ----

// ProductColumns are the product export's columns: its English headers
// are the import's column names, so an export (in either language) can be
// edited and imported again.
var productColumns = []column{
	{"商品编号", "product_key", count, 10}, {"分类", "category", text, 20}, {"商品名称", "title", text, 30},
	{"副标题", "subtitle", text, 20}, {"规格", "spec", text, 20}, {"SKU编码", "sku_code", text, 14},
	{"价格", "price", money, 10}, {"库存", "stock", count, 8}, {"上架", "on_shelf", count, 6},
}

type skuRow struct {
	spuID, price, stock int64
	values, code        string
}

type spuRow struct {
	id, category    int64
	title, subtitle string
	specs           string
	onShelf         bool
}

// Products writes shopID's products matching q (the product list's
// filters, read through the catalog's list), one row per SKU.
func (s *Service) Products(ctx context.Context, shopID int64, q catalog.ListQuery, o Options) (*Sheet, error) {
	paths, err := s.categoryPaths(ctx, shopID)
	if err != nil {
		return nil, err
	}
	sh, err := newSheet(sheetName("商品", "Products", o), productColumns, o.Lang)
	if err != nil {
		return nil, err
	}
	q.Staff, q.Limit, q.After = true, 100, 0 // the list's largest page
	for {
		page, err := s.catalog.List(ctx, shopID, q)
		if err == nil && len(page.Items) > 0 {
			err = s.writeProducts(ctx, sh, shopID, page.Items, paths)
		}
		if err != nil {
			sh.Close()
			return nil, err
		}
		if page.Next == 0 {
			return sh, nil
		}
		q.After = page.Next
	}
}

func (s *Service) writeProducts(ctx context.Context, sh *Sheet, shopID int64, items []catalog.Summary, paths map[int64]string) error {
	args := []any{shopID}
	for _, it := range items {
		args = append(args, it.ID)
	}
	in := `shop_id = ? AND deleted_at IS NULL AND %s IN (` + marks(len(items)) + `)`
	spus, err := db.All(ctx, s.db, func(row db.Scanner) (spuRow, error) {
		var p spuRow
		err := row.Scan(&p.id, &p.category, &p.title, &p.subtitle, &p.specs, &p.onShelf)
		return p, err
	}, `SELECT id, category_id, title, subtitle, specs, on_shelf FROM spus WHERE `+fmt.Sprintf(in, "id"), args...)
	if err != nil {
		return errs.Wrap("export products", err)
	}
	skus, err := db.All(ctx, s.db, func(row db.Scanner) (skuRow, error) {
		var k skuRow
		err := row.Scan(&k.spuID, &k.values, &k.code, &k.price, &k.stock)
		return k, err
	}, `SELECT spu_id, spec_values, code, price, stock FROM skus WHERE `+fmt.Sprintf(in, "spu_id")+` ORDER BY spu_id, id`, args...)
	if err != nil {
		return errs.Wrap("export skus", err)
	}
	byID := map[int64]spuRow{}
	for _, p := range spus {
		byID[p.id] = p
	}
	bySPU := map[int64][]skuRow{}
	for _, k := range skus {
		bySPU[k.spuID] = append(bySPU[k.spuID], k)
	}
	for _, it := range items { // the list's order
		p, ok := byID[it.ID]
		if !ok {
			continue // deleted since the list's read model saw it
		}
		var dims []catalog.SpecDim
		_ = json.Unmarshal([]byte(p.specs), &dims)
		shelf := int64(0)
		if p.onShelf {
			shelf = 1
		}
		for _, k := range bySPU[p.id] {
			if err := sh.add(p.id, paths[p.category], p.title, p.subtitle, specText(dims, k.values), k.code,
				k.price, k.stock, shelf); err != nil {
				return err
			}
		}
	}
	return nil
}

// specText is a SKU's values as the import reads them: 颜色:红;尺码:M.
func specText(dims []catalog.SpecDim, valuesJSON string) string {
	var values []string
	_ = json.Unmarshal([]byte(valuesJSON), &values)
	parts := make([]string, 0, len(values))
	for i, v := range values {
		if i < len(dims) {
			parts = append(parts, dims[i].Name+":"+v)
		}
	}
	return strings.Join(parts, ";")
}

// categoryPaths maps each of the shop's categories to its path (女装/连衣裙).
func (s *Service) categoryPaths(ctx context.Context, shopID int64) (map[int64]string, error) {
	type cat struct {
		id, parent int64
		name       string
	}
	cats, err := db.All(ctx, s.db, func(row db.Scanner) (cat, error) {
		var c cat
		err := row.Scan(&c.id, &c.parent, &c.name)
		return c, err
	}, `SELECT id, COALESCE(parent_id, 0), name FROM categories WHERE shop_id = ?`, shopID)
	if err != nil {
		return nil, errs.Wrap("export categories", err)
	}
	byID := map[int64]cat{}
	for _, c := range cats {
		byID[c.id] = c
	}
	out := make(map[int64]string, len(cats))
	for _, c := range cats {
		path, cur := c.name, c
		for depth := 0; cur.parent != 0 && depth < 8; depth++ {
			if cur = byID[cur.parent]; cur.id == 0 {
				break
			}
			path = cur.name + "/" + path
		}
		out[c.id] = path
	}
	return out, nil
}

// ---- commissions ----

// CommissionFilter selects commissions: one promoter's (0 = all), by
// status, created in a window.
type CommissionFilter struct {
	PromoterID int64
	Status     string
	Created    Range
}

// CommissionStatuses are the commission statuses a filter may name.
var CommissionStatuses = []string{"frozen", "settled", "reversed"}

var commissionColumns = []column{
	{"佣金编号", "commission_id", count, 10}, {"推广员编号", "promoter_id", count, 10}, {"推广员", "promoter", text, 16},
	{"订单号", "order_no", text, 24}, {"级别", "level", count, 6}, {"计佣金额", "base_amount", money, 12},
	{"佣金", "amount", money, 10}, {"已追回", "clawed_back", money, 10}, {"状态", "status", text, 8},
	{"产生时间", "created_at", when, 20}, {"结算时间", "settled_at", when, 20},
}

var commissionLabels = map[string]string{"frozen": "冻结中", "settled": "已结算", "reversed": "已撤销"}

type commissionRow struct {
	id, promoter, level, base, amount, clawed, created, settled int64
	nickname, orderNo, status                                   string
}

// Commissions writes shopID's commission ledger matching f, newest first.
func (s *Service) Commissions(ctx context.Context, shopID int64, f CommissionFilter, o Options) (*Sheet, error) {
	where, args := []string{"+c.shop_id = ?"}, []any{shopID} // see shopClause
	if f.PromoterID != 0 {
		where, args = append(where, "c.promoter_id = ?"), append(args, f.PromoterID)
	}
	if f.Status != "" {
		where, args = append(where, "c.status = ?"), append(args, f.Status)
	}
	where, args = f.Created.where("c.created_at", where, args)
	sh, err := newSheet(sheetName("佣金", "Commissions", o), commissionColumns, o.Lang)
	if err != nil {
		return nil, err
	}
	err = keyset(ctx, s.db, s.PageSize, "commissions", `SELECT c.id, c.promoter_id, m.nickname, o.order_no, c.level, c.base_amount, c.amount,
		c.clawed_back, c.status, c.created_at, COALESCE(c.settled_at, 0)
		FROM commissions c
		JOIN promoters p ON p.id = c.promoter_id AND p.shop_id = c.shop_id
		JOIN members m ON m.id = p.member_id AND m.shop_id = c.shop_id
		JOIN orders o ON o.id = c.order_id AND o.shop_id = c.shop_id
		WHERE `+strings.Join(where, " AND "), "c.id", args,
		func(row db.Scanner) (commissionRow, error) {
			var c commissionRow
			err := row.Scan(&c.id, &c.promoter, &c.nickname, &c.orderNo, &c.level, &c.base, &c.amount, &c.clawed,
				&c.status, &c.created, &c.settled)
			return c, err
		}, nil, func(page []commissionRow) error {
			for _, c := range page {
				if err := sh.add(c.id, c.promoter, c.nickname, c.orderNo, c.level, c.base, c.amount, c.clawed,
					label(commissionLabels, c.status, o), c.created, c.settled); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		sh.Close()
		return nil, err
	}
	return sh, nil
}
