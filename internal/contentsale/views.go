package contentsale

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// BuyerOffer is what a piece of content costs the buyer now.
type BuyerOffer struct {
	TargetKind string `json:"target_kind" enum:"course,package,plan,camp"`
	TargetID   int64  `json:"target_id"`
	Title      string `json:"title"`
	ListFen    int64  `json:"list_fen" doc:"the list price"`
	PriceFen   int64  `json:"price_fen" doc:"what this buyer pays (a membership's member price applied): the order charges exactly this"`
	Days       int    `json:"days" doc:"access it gives, in days (0: no end; buying again extends from the current end, or from today after a lapse)"`
}

// BuyerOrder is a content order as its buyer sees it.
type BuyerOrder struct {
	ID         int64      `json:"id"`
	OutTradeNo string     `json:"out_trade_no"`
	TargetKind string     `json:"target_kind" enum:"course,package,plan,camp"`
	TargetID   int64      `json:"target_id"`
	Title      string     `json:"title"`
	PriceFen   int64      `json:"price_fen"`
	Days       int        `json:"days"`
	Gift       bool       `json:"gift"`
	State      string     `json:"state" enum:"created,paid,refunding,refunded,refund_failed,closed"`
	PaidAt     *time.Time `json:"paid_at,omitempty"`
	RefundedAt *time.Time `json:"refunded_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

func (o orderRow) forBuyer() BuyerOrder {
	return BuyerOrder{ID: o.ID, OutTradeNo: o.OutTradeNo, TargetKind: o.TargetKind, TargetID: o.TargetID, Title: o.Title,
		PriceFen: o.PriceFen, Days: o.Days, Gift: o.Gift, State: o.State, PaidAt: o.PaidAt, RefundedAt: o.RefundedAt, CreatedAt: o.CreatedAt}
}

// MyOrder is one of a buyer's orders.
func (s *Service) MyOrder(ctx context.Context, shopID, memberID, id int64) (BuyerOrder, error) {
	o, err := s.order(ctx, s.db, shopID, id)
	if err == nil && o.MemberID != memberID {
		err = errOrderNotFound
	}
	return o.forBuyer(), err
}

// MyOrders lists a buyer's content orders, newest first.
func (s *Service) MyOrders(ctx context.Context, shopID, memberID, after int64, limit int) ([]BuyerOrder, error) {
	rows, err := db.All(ctx, s.db, scanOrder, `SELECT `+orderColumns+` FROM content_orders
		WHERE shop_id = ? AND member_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`, shopID, memberID, after, after, limit+1)
	out := make([]BuyerOrder, len(rows))
	for i, o := range rows {
		out[i] = o.forBuyer()
	}
	return out, err
}

// OrderFilter narrows the staff's list.
type OrderFilter struct {
	State    string
	MemberID int64
}

// Orders lists the shop's content orders for staff, newest first.
func (s *Service) Orders(ctx context.Context, shopID int64, f OrderFilter, after int64, limit int) ([]Order, error) {
	rows, err := db.All(ctx, s.db, scanOrder, `SELECT `+orderColumns+` FROM content_orders
		WHERE shop_id = ? AND (? = '' OR state = ?) AND (? = 0 OR member_id = ?) AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`,
		shopID, f.State, f.State, f.MemberID, f.MemberID, after, after, limit+1)
	out := make([]Order, len(rows))
	for i, o := range rows {
		out[i] = o.Order
	}
	return out, err
}

// OrderEvent is one step in an order's life.
type OrderEvent struct {
	Kind      string    `json:"kind"`
	Detail    string    `json:"detail"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
}

// OrderDetail is an order with its log, for staff.
type OrderDetail struct {
	Order  Order        `json:"order"`
	Events []OrderEvent `json:"events"`
}

// OrderWithEvents is an order and its log.
func (s *Service) OrderWithEvents(ctx context.Context, shopID, id int64) (OrderDetail, error) {
	o, err := s.order(ctx, s.db, shopID, id)
	if err != nil {
		return OrderDetail{}, err
	}
	// Whole read: an order has a handful of events (created, paid, a refund's three).
	evs, err := db.All(ctx, s.db, func(r db.Scanner) (OrderEvent, error) {
		var e OrderEvent
		var at int64
		err := r.Scan(&e.Kind, &e.Detail, &e.Actor, &at)
		e.CreatedAt = time.UnixMilli(at).UTC()
		return e, err
	}, `SELECT kind, detail, actor, created_at FROM content_order_events WHERE shop_id = ? AND order_id = ? ORDER BY id`, shopID, id)
	return OrderDetail{Order: o.Order, Events: evs}, errs.Wrap("read order events", err)
}

// Revenue is what one piece of content sold, net of refunds.
type Revenue struct {
	TargetKind  string `json:"target_kind" enum:"course,package,plan,camp"`
	TargetID    int64  `json:"target_id"`
	Title       string `json:"title"`
	Sales       int64  `json:"sales" doc:"orders paid (real ones: no counter is ever set by hand)"`
	GrossFen    int64  `json:"gross_fen"`
	Refunds     int64  `json:"refunds"`
	RefundedFen int64  `json:"refunded_fen"`
	NetFen      int64  `json:"net_fen"`
}

// RevenueByTarget sums paid orders per piece of content, paid within
// [from, to), largest net first.
func (s *Service) RevenueByTarget(ctx context.Context, shopID int64, from, to time.Time) ([]Revenue, error) {
	// Whole read: one row per piece of content sold in the range.
	return db.All(ctx, s.db, func(r db.Scanner) (Revenue, error) {
		var v Revenue
		err := r.Scan(&v.TargetKind, &v.TargetID, &v.Title, &v.Sales, &v.GrossFen, &v.Refunds, &v.RefundedFen)
		v.NetFen = v.GrossFen - v.RefundedFen
		return v, err
	}, `SELECT target_kind, target_id, MAX(title), COUNT(*), SUM(paid_fen),
			SUM(CASE WHEN state = 'refunded' THEN 1 ELSE 0 END), SUM(CASE WHEN state = 'refunded' THEN paid_fen ELSE 0 END)
		FROM content_orders WHERE shop_id = ? AND paid_at >= ? AND paid_at < ?
		GROUP BY target_kind, target_id ORDER BY SUM(paid_fen) - SUM(CASE WHEN state = 'refunded' THEN paid_fen ELSE 0 END) DESC, target_kind, target_id`,
		shopID, from.UnixMilli(), to.UnixMilli())
}

// Sales counts a target's paid orders (for honest "N bought" figures).
func (s *Service) Sales(ctx context.Context, shopID int64, kind string, id int64) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM content_orders WHERE shop_id = ? AND target_kind = ? AND target_id = ? AND paid_at IS NOT NULL`,
		shopID, kind, id).Scan(&n)
	return n, errs.Wrap("count sales", err)
}
