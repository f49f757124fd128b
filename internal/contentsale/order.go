package contentsale

import (
	"context"
	"crypto/rand"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Order states.
const (
	StateCreated      = "created"       // waiting for the buyer to pay
	StatePaid         = "paid"          // WeChat holds the money; access granted (or a gift code made)
	StateRefunding    = "refunding"     // a refund was asked; access ends when WeChat accepts it
	StateRefunded     = "refunded"      // WeChat refunded it
	StateRefundFailed = "refund_failed" // WeChat refused or failed the refund; staff decide
	StateClosed       = "closed"        // never paid
)

// Order is a content order as staff see it.
type Order struct {
	ID          int64      `json:"id"`
	MemberID    int64      `json:"member_id"`
	OutTradeNo  string     `json:"out_trade_no" doc:"the xpay order number (also WeChat's mch order number)"`
	TargetKind  string     `json:"target_kind" enum:"course,package,plan,camp"`
	TargetID    int64      `json:"target_id"`
	Title       string     `json:"title"`
	ListFen     int64      `json:"list_fen"`
	PriceFen    int64      `json:"price_fen" doc:"what the buyer is charged"`
	ItemID      string     `json:"item_id" doc:"the xpay item paid with"`
	Env         int        `json:"env"`
	Days        int        `json:"days" doc:"access bought, in days (0: no end)"`
	Platform    string     `json:"platform" enum:"ios,android,other"`
	Gift        bool       `json:"gift" doc:"bought for someone else: paying makes a claim code instead of access"`
	State       string     `json:"state" enum:"created,paid,refunding,refunded,refund_failed,closed"`
	WxOrderID   string     `json:"wx_order_id"`
	PaidFen     int64      `json:"paid_fen"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	RefundNo    string     `json:"refund_no"`
	RefundError string     `json:"refund_error"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty" doc:"when the access it gave ended (its refund was accepted)"`
	RefundedAt  *time.Time `json:"refunded_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

const orderColumns = `id, shop_id, member_id, out_trade_no, target_kind, target_id, title, list_fen, price_fen, item_id, env, days,
	platform, gift, state, wx_order_id, paid_fen, paid_at, refund_no, refund_error, revoked_at, refunded_at, created_at, refund_from`

type orderRow struct {
	Order
	shopID     int64
	refundFrom string // xpay's req_from of the current refund
}

func scanOrder(r db.Scanner) (orderRow, error) {
	var o orderRow
	var paid, revoked, refunded *int64
	var created int64
	err := r.Scan(&o.ID, &o.shopID, &o.MemberID, &o.OutTradeNo, &o.TargetKind, &o.TargetID, &o.Title, &o.ListFen, &o.PriceFen,
		&o.ItemID, &o.Env, &o.Days, &o.Platform, &o.Gift, &o.State, &o.WxOrderID, &o.PaidFen, &paid, &o.RefundNo, &o.RefundError,
		&revoked, &refunded, &created, &o.refundFrom)
	o.PaidAt, o.RevokedAt, o.RefundedAt = msTime(paid), msTime(revoked), msTime(refunded)
	o.CreatedAt = time.UnixMilli(created).UTC()
	return o, err
}

func msTime(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := time.UnixMilli(*ms).UTC()
	return &t
}

func (s *Service) order(ctx context.Context, q db.Querier, shopID, id int64) (orderRow, error) {
	o, err := scanOrder(q.QueryRow(ctx, `SELECT `+orderColumns+` FROM content_orders WHERE shop_id = ? AND id = ?`, shopID, id))
	if db.IsNoRows(err) {
		return o, errOrderNotFound
	}
	return o, errs.Wrap("read content order", err)
}

func (s *Service) orderByTradeNo(ctx context.Context, q db.Querier, shopID int64, outTradeNo string) (orderRow, error) {
	o, err := scanOrder(q.QueryRow(ctx, `SELECT `+orderColumns+` FROM content_orders WHERE shop_id = ? AND out_trade_no = ?`, shopID, outTradeNo))
	if db.IsNoRows(err) {
		return o, errOrderNotFound
	}
	return o, errs.Wrap("read content order", err)
}

var errOrderNotFound = errs.E(errs.NotFound, "content_order_not_found", "no such content order")

// Item names one thing in a checkout request.
type CartItem struct {
	Kind string `json:"kind" doc:"course, package, plan or camp; sku (physical goods) is refused here" enum:"course,package,plan,camp,sku"`
	ID   int64  `json:"id"`
}

// CreateInput is a buyer's content checkout.
type CreateInput struct {
	Items    []CartItem `json:"items" doc:"exactly one piece of content (xpay buys one item per payment)"`
	Gift     bool       `json:"gift" doc:"buy it for someone else: paying makes a claim link"`
	Platform string     `json:"platform" doc:"the buyer's system (wx.getSystemInfo().platform): ios, android, … (iOS pays through Apple: at least ¥1, refunds by Apple)"`
}

// Checkout is a created order with what wx.requestVirtualPayment needs.
type Checkout struct {
	Order   BuyerOrder `json:"order"`
	Payment PayParams  `json:"payment" doc:"pass to wx.requestVirtualPayment as they are"`
}

func (in CreateInput) target() (CartItem, error) {
	goods, content := 0, 0
	for _, it := range in.Items {
		switch it.Kind {
		case "sku":
			goods++
		case KindCourse, KindPackage, KindPlan, KindCamp:
			content++
		default:
			return CartItem{}, errs.Field("items", "invalid_item_kind", "kind must be course, package, plan or camp")
		}
		if it.ID <= 0 {
			return CartItem{}, errs.Field("items", "invalid_id", "id must be a positive integer")
		}
	}
	switch {
	case goods > 0 && content > 0:
		return CartItem{}, errs.E(errs.Unprocessable, "mixed_cart",
			"physical goods are paid with WeChat Pay and content with WeChat virtual payment: check the goods out in the shop's cart and the content here, as two payments")
	case goods > 0:
		return CartItem{}, errs.E(errs.Unprocessable, "goods_not_content", "physical goods are checked out through the shop's cart (/api/v1/orders)")
	case content != 1:
		return CartItem{}, errs.Field("items", "one_item_per_payment", "name exactly one piece of content: each is paid on its own")
	}
	return in.Items[0], nil
}

func platformOf(p string) string {
	switch p {
	case "ios", "android":
		return p
	case "iOS", "IOS":
		return "ios"
	}
	return "other"
}

// iosMinimumFen is Apple's lowest price for an in-app purchase.
const iosMinimumFen = 100

// Preview is what the buyer would pay for a target now: the same Offer the
// order charges.
func (s *Service) Preview(ctx context.Context, shopID, memberID int64, kind string, id int64) (BuyerOffer, error) {
	if _, err := (CreateInput{Items: []CartItem{{Kind: kind, ID: id}}}).target(); err != nil {
		return BuyerOffer{}, err
	}
	of, err := s.offers.Offer(ctx, shopID, memberID, kind, id)
	if err != nil {
		return BuyerOffer{}, err
	}
	return BuyerOffer{TargetKind: of.TargetKind, TargetID: of.TargetID, Title: of.Title, ListFen: of.ListFen, PriceFen: of.PriceFen, Days: of.Days}, nil
}

// Create makes an order for one piece of content and signs its payment.
func (s *Service) Create(ctx context.Context, shopID, memberID int64, in CreateInput) (Checkout, error) {
	target, err := in.target()
	if err != nil {
		return Checkout{}, err
	}
	st, err := s.storedSettings(ctx, s.db, shopID)
	if err != nil {
		return Checkout{}, err
	}
	if !st.ready() {
		return Checkout{}, errs.E(errs.Conflict, "xpay_not_configured", "this shop does not sell content yet (no virtual-payment settings)")
	}
	of, err := s.offers.Offer(ctx, shopID, memberID, target.Kind, target.ID)
	if err != nil {
		return Checkout{}, err
	}
	platform := platformOf(in.Platform)
	if err := checkPrice(of, platform); err != nil {
		return Checkout{}, err
	}
	item, err := itemAt(ctx, s.db, shopID, of.PriceFen)
	if err != nil {
		return Checkout{}, err
	}
	sessionKey, err := s.sessionKey(ctx, shopID, memberID)
	if err != nil {
		return Checkout{}, err
	}
	o := orderRow{shopID: shopID, Order: Order{MemberID: memberID, OutTradeNo: newTradeNo(), TargetKind: of.TargetKind, TargetID: of.TargetID,
		Title: of.Title, ListFen: of.ListFen, PriceFen: of.PriceFen, ItemID: item, Env: st.Env, Days: of.Days, Platform: platform,
		Gift: in.Gift, State: StateCreated}}
	if err := s.insert(ctx, &o); err != nil {
		return Checkout{}, err
	}
	params, err := s.pay.Sign(PayRequest{OfferID: st.keys.OfferID, Env: st.Env, ProductID: item, GoodsPrice: of.PriceFen, Quantity: 1,
		OutTradeNo: o.OutTradeNo, Attach: strconv.FormatInt(o.ID, 10)}, st.keys, sessionKey)
	if err != nil {
		return Checkout{}, errs.Wrap("sign virtual payment", err)
	}
	return Checkout{Order: o.forBuyer(), Payment: params}, nil
}

func checkPrice(of Offer, platform string) error {
	if of.PriceFen <= 0 {
		return errs.E(errs.Conflict, "content_is_free", "this content costs nothing: open it directly")
	}
	if platform == "ios" && of.PriceFen < iosMinimumFen {
		return errs.E(errs.Unprocessable, "ios_minimum_price", "on iPhone, virtual goods are paid through Apple, whose lowest price is ¥1")
	}
	return nil
}

// firstCheck is when an unpaid order is first asked about at WeChat (a
// lost delivery push is found this way).
const firstCheck = 2 * time.Minute

func (s *Service) insert(ctx context.Context, o *orderRow) error {
	now := s.now()
	o.CreatedAt = time.UnixMilli(now.UnixMilli()).UTC()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO content_orders (shop_id, member_id, out_trade_no, target_kind, target_id, title, list_fen,
			price_fen, item_id, env, days, platform, gift, state, next_check_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?, ?) RETURNING id`,
			o.shopID, o.MemberID, o.OutTradeNo, o.TargetKind, o.TargetID, o.Title, o.ListFen, o.PriceFen, o.ItemID, o.Env, o.Days,
			o.Platform, o.Gift, now.Add(firstCheck).UnixMilli(), now.UnixMilli(), now.UnixMilli()).Scan(&o.ID)
		if err != nil {
			return errs.Wrap("create content order", err)
		}
		return s.event(ctx, tx, o.shopID, o.ID, "created", "¥"+yuan(o.PriceFen)+" for "+o.TargetKind+" "+strconv.FormatInt(o.TargetID, 10),
			"member:"+strconv.FormatInt(o.MemberID, 10))
	})
}

func (s *Service) event(ctx context.Context, tx *db.Tx, shopID, orderID int64, kind, detail, actor string) error {
	_, err := tx.Exec(ctx, `INSERT INTO content_order_events (shop_id, order_id, kind, detail, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		shopID, orderID, kind, clip(detail, 500), actor, s.now().UnixMilli())
	return errs.Wrap("log content order event", err)
}

const tradeNoAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newTradeNo is a single-use xpay order number: "kc" and 22 random
// characters (xpay takes 8–32 of 0-9A-Za-z_-|*@, not starting with _).
func newTradeNo() string {
	b := make([]byte, 22)
	rand.Read(b)
	for i := range b {
		b[i] = tradeNoAlphabet[int(b[i])%len(tradeNoAlphabet)]
	}
	return "kc" + string(b)
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
