package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/pricing"
)

const orderColumns = `id, order_no, member_id, status, goods_amount, shipping_fee, discount_amount, total_amount,
	paid_amount, refunded_amount, address, buyer_note, staff_note, pay_deadline, carrier, tracking_no,
	paid_at, shipped_at, completed_at, cancelled_at, created_at, breakdown, COALESCE(coupon_id, 0), COALESCE(group_id, 0),
	points_used, points_discount`

func scanOrder(row interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var addr, breakdown string
	var deadline, created int64
	var paid, shipped, completed, cancelled sql.NullInt64
	err := row.Scan(&o.ID, &o.OrderNo, &o.MemberID, &o.Status, &o.GoodsAmount, &o.ShippingFee, &o.DiscountAmount,
		&o.TotalAmount, &o.PaidAmount, &o.RefundedAmount, &addr, &o.BuyerNote, &o.StaffNote, &deadline, &o.Carrier,
		&o.TrackingNo, &paid, &shipped, &completed, &cancelled, &created, &breakdown, &o.MemberCouponID, &o.GroupID, &o.PointsUsed, &o.PointsDiscount)
	if err != nil {
		return Order{}, err
	}
	_ = json.Unmarshal([]byte(addr), &o.Address)
	if breakdown != "{}" {
		o.Breakdown = new(pricing.Result)
		_ = json.Unmarshal([]byte(breakdown), o.Breakdown)
	}
	o.PayDeadline, o.CreatedAt = ms(deadline), ms(created)
	o.PaidAt, o.ShippedAt, o.CompletedAt, o.CancelledAt = msPtr(paid), msPtr(shipped), msPtr(completed), msPtr(cancelled)
	o.Lines, o.Parcels = []Line{}, []Parcel{}
	return o, nil
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := ms(v.Int64)
	return &t
}

// Get returns order id of shopID with its lines. A memberID other than 0
// limits it to that buyer's orders; staff (0) also get the event log.
func (s *Service) Get(ctx context.Context, shopID, id, memberID int64) (Order, error) {
	o, err := s.Head(ctx, shopID, id, memberID)
	if err != nil {
		return Order{}, err
	}
	if o.Lines, err = linesOf(ctx, s.db, shopID, id); err != nil {
		return Order{}, err
	}
	addTax(&o)
	allocateRefund(&o)
	if o.Invoice, err = s.invoice(ctx, shopID, id); err != nil {
		return Order{}, err
	}
	if o.Status != PendingPayment && o.Status != Paid && o.Status != Cancelled {
		if o.Parcels, err = parcelsOf(ctx, s.db, shopID, id); err != nil {
			return Order{}, errs.Wrap("order parcels", err)
		}
	}
	if memberID == 0 {
		o.Events, err = s.events(ctx, shopID, id)
	}
	return o, err
}

func linesOf(ctx context.Context, q db.Querier, shopID, orderID int64) ([]Line, error) {
	rows, err := q.Query(ctx, `SELECT id, spu_id, sku_id, title, spec_values, image, unit_price, quantity, amount, tax_rate,
		original_price, discount, COALESCE(flash_sale_id, 0)
		FROM order_lines WHERE order_id = ? AND shop_id = ? ORDER BY id`, orderID, shopID)
	if err != nil {
		return nil, errs.Wrap("order lines", err)
	}
	defer rows.Close()
	out := []Line{}
	for rows.Next() {
		var l Line
		var specs string
		if err := rows.Scan(&l.ID, &l.SPUID, &l.SKUID, &l.Title, &specs, &l.Image, &l.UnitPrice, &l.Quantity, &l.Amount, &l.TaxRate,
			&l.OriginalPrice, &l.Discount, &l.FlashSaleID); err != nil {
			return nil, errs.Wrap("order lines", err)
		}
		_ = json.Unmarshal([]byte(specs), &l.SpecValues)
		out = append(out, l)
	}
	return out, errs.Wrap("order lines", rows.Err())
}

func (s *Service) events(ctx context.Context, shopID, orderID int64) ([]Event, error) {
	rows, err := s.db.Query(ctx, `SELECT actor, from_status, to_status, reason, created_at FROM order_events
		WHERE order_id = ? AND shop_id = ? ORDER BY id`, orderID, shopID)
	if err != nil {
		return nil, errs.Wrap("order events", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.Actor, &e.From, &e.To, &e.Reason, &at); err != nil {
			return nil, errs.Wrap("order events", err)
		}
		e.CreatedAt = ms(at)
		out = append(out, e)
	}
	return out, errs.Wrap("order events", rows.Err())
}

// Filter selects orders. Every field is optional.
type Filter struct {
	MemberID int64     // a buyer's own orders
	Status   Status    //
	OrderNo  string    //
	Phone    string    // the shipping address's phone
	From, To time.Time // created in [From, To)
	After    int64     // cursor: orders with a smaller id
	Limit    int
}

// Page is a page of orders, newest first; the API answers it as httpx.Page.
type Page struct {
	Items []Order
	Next  int64 // the After of the next page; 0 when there is none
}

// List returns shopID's orders matching f, newest first, with their lines.
func (s *Service) List(ctx context.Context, shopID int64, f Filter) (Page, error) {
	where, args := []string{"shop_id = ?"}, []any{shopID}
	add := func(ok bool, clause string, v any) {
		if ok {
			where, args = append(where, clause), append(args, v)
		}
	}
	add(f.MemberID != 0, "member_id = ?", f.MemberID)
	add(f.Status != "", "status = ?", string(f.Status))
	add(f.OrderNo != "", "order_no = ?", f.OrderNo)
	add(f.Phone != "", "phone = ?", f.Phone)
	add(!f.From.IsZero(), "created_at >= ?", f.From.UnixMilli())
	add(!f.To.IsZero(), "created_at < ?", f.To.UnixMilli())
	add(f.After > 0, "id < ?", f.After)
	args = append(args, f.Limit+1)
	rows, err := s.db.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return Page{}, errs.Wrap("list orders", err)
	}
	page, err := collect(rows, f.Limit)
	if err != nil {
		return Page{}, err
	}
	for i := range page.Items {
		if page.Items[i].Lines, err = linesOf(ctx, s.db, shopID, page.Items[i].ID); err != nil {
			return Page{}, err
		}
		addTax(&page.Items[i])
		allocateRefund(&page.Items[i])
	}
	return page, nil
}

func collect(rows *sql.Rows, limit int) (Page, error) {
	defer rows.Close()
	page := Page{Items: []Order{}}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return Page{}, errs.Wrap("list orders", err)
		}
		page.Items = append(page.Items, o)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, errs.Wrap("list orders", rows.Err())
}

// HeadByNo returns the order row of orderNo without its lines, invoice or
// events, in one query: what a payment notification checks (amount, status)
// needs, on the path every paid order takes.
func (s *Service) HeadByNo(ctx context.Context, shopID int64, orderNo string) (Order, error) {
	o, err := scanOrder(s.db.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE order_no = ? AND shop_id = ?`, orderNo, shopID))
	if db.IsNoRows(err) {
		return Order{}, errOrderNotFound
	}
	return o, errs.Wrap("order by number", err)
}

// Head returns order id of shopID (of memberID unless 0) without its
// lines, invoice or events, in one query.
func (s *Service) Head(ctx context.Context, shopID, id, memberID int64) (Order, error) {
	return headOf(ctx, s.db, shopID, id, memberID)
}

func headOf(ctx context.Context, q db.Querier, shopID, id, memberID int64) (Order, error) {
	o, err := scanOrder(q.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders
		WHERE id = ? AND shop_id = ? AND (? = 0 OR member_id = ?)`, id, shopID, memberID, memberID))
	if db.IsNoRows(err) {
		return Order{}, errOrderNotFound
	}
	if memberID != 0 {
		o.StaffNote = ""
	}
	return o, errs.Wrap("get order", err)
}

// HeadAndLinesIn returns order id of shopID with its lines, read through
// q: inside a transaction that is changing it (a message rendered in the
// refund's own transaction), what that transaction has written so far.
func (s *Service) HeadAndLinesIn(ctx context.Context, q db.Querier, shopID, id int64) (Order, error) {
	o, err := headOf(ctx, q, shopID, id, 0)
	if err != nil {
		return Order{}, err
	}
	o.Lines, err = linesOf(ctx, q, shopID, id)
	return o, err
}

// FirstLineTitle is the title of the order's first line ("" if it has none).
func (s *Service) FirstLineTitle(ctx context.Context, shopID, id int64) (string, error) {
	var title string
	err := s.db.QueryRow(ctx, `SELECT title FROM order_lines WHERE order_id = ? AND shop_id = ? ORDER BY id LIMIT 1`, id, shopID).Scan(&title)
	if db.IsNoRows(err) {
		return "", nil
	}
	return title, errs.Wrap("order line title", err)
}

// Bought reports whether the buyer has a paid order of the product that
// was not fully refunded (reviews are only from buyers).
func (s *Service) Bought(ctx context.Context, shopID, memberID, productID int64) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id
		WHERE l.shop_id = ? AND l.spu_id = ? AND o.member_id = ? AND o.shop_id = ? AND o.paid_at IS NOT NULL
		AND o.status IN ('paid', 'shipped', 'completed')`, shopID, productID, memberID, shopID).Scan(&n)
	return n > 0, errs.Wrap("bought", err)
}
