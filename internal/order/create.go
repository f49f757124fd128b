package order

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/pricing"
	"github.com/kaidian/kaidian/internal/shop"
)

// Limits on one order.
const (
	MaxLines       = 50
	MaxQuantity    = 999
	maxNoteRunes   = 200
	AutoCancelKind = "order.auto_cancel"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Item is a SKU and quantity to buy.
type Item struct {
	SKUID    int64 `json:"sku_id"`
	Quantity int64 `json:"quantity"`
}

// CreateInput is a checkout: explicit items ("buy now") or the cart's
// selected lines.
type CreateInput struct {
	Items        []Item `json:"items,omitempty" doc:"buy now; leave empty to order the cart's selected lines"`
	FromCart     bool   `json:"from_cart" doc:"order the selected cart lines (and remove them from the cart)"`
	FlashClaimID int64  `json:"flash_claim_id,omitempty" doc:"order a held flash-sale claim (instead of items or the cart)"`
	GroupDealID  int64  `json:"group_deal_id,omitempty" doc:"open a new group of this group-buying deal (one unit at the smallest tier's price)"`
	GroupID      int64  `json:"group_id,omitempty" doc:"join this group (one unit at the smallest tier's price)"`
	// MemberCouponID names the buyer's own copy of a coupon (a wallet entry,
	// GET /api/v1/me/coupons), not the shop's coupon template.
	MemberCouponID int64   `json:"member_coupon_id,omitempty" doc:"a coupon from my wallet: the id of GET /api/v1/me/coupons (not the coupon template's id); order creation applies only the coupon named here"`
	AddressID      int64   `json:"address_id,omitempty" doc:"ship to this address of my address book (then leave address out)"`
	Address        Address `json:"address" doc:"the address, when no address_id is given"`
	BuyerNote      string  `json:"buyer_note"`
	Points         int64   `json:"points,omitempty" doc:"points to pay with (积分抵扣), at most my balance; the shop's rate and cap apply and the fewest points worth the fen taken off are charged (see the preview's points offer)"`
}

// Shops gives orders the shop's rules and gates.
type Shops interface {
	Enabled(ctx context.Context, id int64) (shop.Shop, error)
}

// Service runs orders.
type Service struct {
	db      *db.DB
	shops   Shops
	promos  Promotions
	points  Points
	levels  Levels
	freight Freights
	book    AddressBook
	now     func() time.Time
	// beforeCancel runs before an unpaid order is cancelled: payment closes
	// the WeChat Pay order there, so a cancelled order cannot be paid.
	beforeCancel func(ctx context.Context, shopID int64, o Order) error
	logger       *slog.Logger // alarms of jobs; SetLogger
	// onShipped run in the ship transaction (see OnShipped).
	onShipped []func(ctx context.Context, tx *db.Tx, sh Shipment) error
	// onPaid and onCancelled run in the payment's and the cancel's
	// transaction (see OnPaid, OnCancelled).
	onPaid      []func(ctx context.Context, tx *db.Tx, p PaidOrder) error
	onCancelled []func(ctx context.Context, tx *db.Tx, c CancelledOrder) error
	onCompleted []func(ctx context.Context, tx *db.Tx, c CompletedOrder) error
	onRefunded  []func(ctx context.Context, tx *db.Tx, r RefundedOrder) error
	onCreated   []func(ctx context.Context, tx *db.Tx, c CreatedOrder) error
}

// BeforeCancel sets what must succeed before an order is cancelled.
func (s *Service) BeforeCancel(fn func(ctx context.Context, shopID int64, o Order) error) {
	s.beforeCancel = fn
}

// NewService returns the order service.
func NewService(d *db.DB, shops Shops) *Service {
	return &Service{db: d, shops: shops, now: time.Now}
}

// Create places an order for member m of shopID, pricing every line on the
// server and locking stock. The same idempotency key returns the same order
// (a different request under a used key is refused).
func (s *Service) Create(ctx context.Context, shopID, memberID int64, key string, in CreateInput) (Order, error) {
	if len(key) < 8 || len(key) > 64 {
		return Order{}, errs.Field("Idempotency-Key", "idempotency_key_required", "send an Idempotency-Key header of 8 to 64 characters")
	}
	sh, err := s.shops.Enabled(ctx, shopID)
	if err != nil {
		return Order{}, err
	}
	if err := sh.CanTakePayments(); err != nil {
		return Order{}, err
	}
	if err := in.validate(); err != nil {
		return Order{}, err
	}
	hash := in.hash() // of the request as sent: a replay matches even if the address book changed since
	if err := s.resolveAddress(ctx, shopID, memberID, in.AddressID, &in.Address); err != nil {
		if existing, found, lookupErr := s.byIdempotencyKey(ctx, shopID, memberID, key, hash); found || lookupErr != nil {
			return existing, lookupErr
		}
		return Order{}, err
	}
	// The idempotency key is not looked up first (a round trip per order):
	// a replay cannot create a second order, since the key is unique, so
	// it fails below, and every failure looks the key up.
	var o Order
	// Orders placed at the same moment share a transaction on SQLite
	// (group commit), each in its own savepoint.
	fast := s.oneStatement(in)
	for attempt := 1; ; attempt++ {
		if fast {
			o, err = s.placeOneStatement(ctx, sh, memberID, key, hash, in)
			if errors.Is(err, errSlowPath) {
				fast, err = false, nil
			}
		}
		if !fast {
			err = s.db.InGroupTx(ctx, func(tx *db.Tx) error {
				var err error
				o, err = s.place(ctx, tx, sh, memberID, key, hash, in)
				return err
			})
		}
		if !db.IsUniqueViolation(err) {
			break
		}
		// A concurrent request with the same key won: answer with its
		// order. Otherwise the random order number clashed: try another.
		existing, found, lookupErr := s.byIdempotencyKey(ctx, shopID, memberID, key, hash)
		if found || lookupErr != nil {
			return existing, lookupErr
		}
		if attempt == 3 {
			break
		}
	}
	if err != nil {
		// A replay fails on the used key, or earlier on what its first
		// request used up (the cart, a coupon, the stock): answer with the
		// order placed under the key, or 409 for another body.
		if existing, found, lookupErr := s.byIdempotencyKey(ctx, shopID, memberID, key, hash); found || lookupErr != nil {
			return existing, lookupErr
		}
	}
	return o, errs.Wrap("create order", err)
}

func (in *CreateInput) validate() error {
	if err := in.validateItems(); err != nil {
		return err
	}
	var v errs.Validator
	v.Check(in.AddressID >= 0, "address_id", "must be the id of an address in your address book")
	if in.AddressID == 0 {
		in.Address.validate(&v)
	} else {
		v.Check(in.Address == (Address{}), "address", "give address or address_id, not both")
	}
	v.Check(runes(in.BuyerNote) <= maxNoteRunes, "buyer_note", "must be at most 200 characters")
	return v.Err()
}

// validateItems checks what is bought (shared with the preview).
func (in *CreateInput) validateItems() error {
	var v errs.Validator
	sources := 0
	for _, given := range []bool{len(in.Items) > 0, in.FromCart, in.FlashClaimID != 0, in.GroupDealID != 0, in.GroupID != 0} {
		if given {
			sources++
		}
	}
	v.Check(sources == 1, "items", "give items, from_cart: true, flash_claim_id, group_deal_id or group_id, exactly one")
	v.Check(in.GroupDealID >= 0 && in.GroupID >= 0, "group_id", "must be an id")
	v.Check(in.FlashClaimID >= 0, "flash_claim_id", "must be a claim id")
	v.Check(in.MemberCouponID >= 0, "member_coupon_id", "must be the id of a coupon in your wallet")
	v.Check(in.Points >= 0 && in.Points <= maxPoints, "points", "must be a number of points, 0 or more")
	v.Check(len(in.Items) <= MaxLines, "items", "at most 50 lines")
	for i, it := range in.Items {
		v.Check(it.SKUID > 0, fmt.Sprintf("items[%d].sku_id", i), "must be a SKU id")
		v.Check(it.Quantity >= 1 && it.Quantity <= MaxQuantity, fmt.Sprintf("items[%d].quantity", i), "must be 1 to 999")
	}
	return v.Err()
}

func (in CreateInput) hash() string {
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (s *Service) byIdempotencyKey(ctx context.Context, shopID, memberID int64, key, hash string) (Order, bool, error) {
	var id int64
	var stored string
	err := s.db.QueryRow(ctx, `SELECT id, request_hash FROM orders WHERE shop_id = ? AND member_id = ? AND idempotency_key = ?`,
		shopID, memberID, key).Scan(&id, &stored)
	if db.IsNoRows(err) {
		return Order{}, false, nil
	}
	if err != nil {
		return Order{}, false, errs.Wrap("idempotency", err)
	}
	if stored != hash {
		return Order{}, true, errs.E(errs.Conflict, "idempotency_key_reused", "this Idempotency-Key was used for a different order")
	}
	o, err := s.Get(ctx, shopID, id, memberID)
	return o, true, err
}

// place prices the order (promotion prices, coupon, shipping), inserts it
// (a duplicate idempotency key fails here, before any stock moves), then
// locks stock and takes the claim and coupon it uses.
// It returns the order as the buyer sees it, built from what it wrote
// (reading it back would cost three more round trips per order).
func (s *Service) place(ctx context.Context, tx *db.Tx, sh shop.Shop, memberID int64, key, hash string, in CreateInput) (Order, error) {
	now := ms(s.now().UnixMilli())
	items := in.Items
	if in.FromCart {
		var err error
		if items, err = takeCart(ctx, tx, sh.ID, memberID); err != nil {
			return Order{}, err
		}
	}
	o, err := s.quote(ctx, tx, sh, memberID, in, items, now)
	if err != nil {
		return Order{}, err
	}
	if o.ID, err = insertOrder(ctx, tx, sh.ID, key, hash, o); err != nil {
		return Order{}, err
	}
	if o.PointsUsed > 0 {
		if err := s.points.Spend(ctx, tx, sh.ID, memberID, o.ID, o.PointsUsed, o.PointsDiscount); err != nil {
			return Order{}, err
		}
	}
	for i, l := range o.Lines {
		if o.Lines[i].ID, err = insertLine(ctx, tx, sh.ID, o.ID, l); err != nil {
			return Order{}, err
		}
		if l.FlashSaleID != 0 { // its units are held by the sale already
			continue
		}
		if err := lockStock(ctx, tx, sh.ID, o.ID, l.SKUID, l.Quantity, o.CreatedAt); err != nil {
			return Order{}, err
		}
	}
	if err := logEvent(ctx, tx, sh.ID, o.ID, MemberActor(memberID), "", PendingPayment, "order placed", o.CreatedAt); err != nil {
		return Order{}, err
	}
	if err := runHooks(ctx, tx, s.onCreated, CreatedOrder{ShopID: sh.ID, OrderID: o.ID, MemberID: memberID,
		TotalAmount: o.TotalAmount, CreatedAt: o.CreatedAt}); err != nil {
		return Order{}, err
	}
	if s.promos != nil && in.usesPromotions() {
		taken, err := s.promos.Take(ctx, tx, sh.ID, memberID, o.ID, in, now)
		if err != nil {
			return Order{}, err
		}
		o.GroupID = taken.GroupID
	}
	if o.TotalAmount == 0 {
		return o, s.completeFree(ctx, tx, sh.ID, &o)
	}
	_, err = jobs.Enqueue(ctx, tx, AutoCancelKind, autoCancel{OrderID: o.ID}, jobs.Options{
		ShopID: sh.ID, RunAt: o.PayDeadline, UniqueKey: "order-cancel:" + itoa(o.ID), MaxAttempts: AutoCancelAttempts})
	return o, err
}

// quote is the one price of a checkout: it reads what the buyer asks to
// use (flash claim, group seat, the coupon named by member_coupon_id),
// prices the items on the server and runs the pricing engine. Preview
// shows what it returns and order creation charges it, so the same body
// gives the same breakdown (no coupon is ever applied that the body does
// not name).
func (s *Service) quote(ctx context.Context, q db.Querier, sh shop.Shop, memberID int64, in CreateInput, items []Item, now time.Time) (Order, error) {
	applied, err := s.lookupPromotions(ctx, q, sh.ID, memberID, in, now)
	if err != nil {
		return Order{}, err
	}
	lines, err := s.priceWithPromotions(ctx, q, sh.ID, items, applied, now)
	if err != nil {
		return Order{}, err
	}
	level, err := s.levelBenefits(ctx, q, sh.ID, memberID)
	if err != nil {
		return Order{}, err
	}
	for i, l := range lines {
		// A member price only where no promotion set one: promotions and
		// level discounts do not stack.
		if p := memberPrice(l.UnitPrice, level.DiscountBP); l.OriginalPrice == 0 && p < l.UnitPrice {
			lines[i].setPromotionPrice(p)
		}
	}
	ship, err := s.shippingFor(ctx, q, sh, in.Address, lines)
	if err != nil {
		return Order{}, err
	}
	if level.FreeShipping {
		ship = pricing.Shipping{}
	}
	points, err := s.pointsRule(ctx, q, sh.ID, memberID, in.Points)
	if err != nil {
		return Order{}, err
	}
	o := newOrder(sh, memberID, in, lines, applied, ship, points, now)
	if o.TotalAmount < 0 || o.Breakdown.Total != o.TotalAmount {
		return Order{}, fmt.Errorf("pricing: total %d fen is not payable", o.TotalAmount)
	}
	return o, nil
}

// completeFree marks a fully discounted order (0 fen to pay) paid at
// once, inside its creation's transaction: there is nothing to ask WeChat
// Pay for (it refuses a 0-fen prepay), so the order would otherwise be
// unpayable. The payments row says no money moved (channel "free", 0
// fen), a payment event and the order's log say why; stock is deducted
// and promotions told, as for any payment.
func (s *Service) completeFree(ctx context.Context, tx *db.Tx, shopID int64, o *Order) error {
	now := o.CreatedAt
	if err := move(ctx, tx, shopID, o.ID, PendingPayment, Paid, System, "nothing to pay: fully discounted", now,
		"paid_at", now.UnixMilli(), "paid_amount", int64(0)); err != nil {
		return err
	}
	if err := deductStock(ctx, tx, shopID, o.ID, now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO payments (shop_id, order_id, channel, out_trade_no, amount, status, paid_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 0, 'paid', ?, ?, ?)`, shopID, o.ID, FreeChannel, o.OrderNo, now.UnixMilli(), now.UnixMilli(), now.UnixMilli()); err != nil {
		return err
	}
	// Like every paid order, it has its payment event (0 fen, no transaction).
	if _, err := tx.Exec(ctx, `INSERT INTO payment_events (shop_id, event_id, event_type, order_id, transaction_id, amount, created_at)
		VALUES (?, ?, 'FREE.PAID', ?, '', 0, ?)`, shopID, "free:"+o.OrderNo, o.ID, now.UnixMilli()); err != nil {
		return err
	}
	o.Status, o.PaidAt = Paid, &now
	if s.promos != nil {
		if err := s.promos.Paid(ctx, tx, shopID, o.ID, now); err != nil {
			return err
		}
	}
	return runHooks(ctx, tx, s.onPaid, PaidOrder{ShopID: shopID, OrderID: o.ID, MemberID: o.MemberID, PaidAt: now})
}

// FreeChannel is the payments channel of an order that cost nothing: no
// money moved and nothing exists at WeChat Pay.
const FreeChannel = "free"

func (s *Service) lookupPromotions(ctx context.Context, q db.Querier, shopID, memberID int64, in CreateInput, now time.Time) (Applied, error) {
	if !in.usesPromotions() {
		return Applied{}, nil
	}
	if s.promos == nil {
		return Applied{}, errs.Field("member_coupon_id", "promotions_unavailable", "this server runs without promotions")
	}
	return s.promos.Lookup(ctx, q, shopID, memberID, in, now)
}

func (in CreateInput) usesPromotions() bool {
	return in.FlashClaimID != 0 || in.MemberCouponID != 0 || in.GroupDealID != 0 || in.GroupID != 0
}

// priceWithPromotions prices the items at the SKUs' prices, then puts on
// the promotion price: the flash-sale or group price of a single-line
// order (whose one item the claim or deal gives), or else each SKU's
// running time-limited price.
func (s *Service) priceWithPromotions(ctx context.Context, q db.Querier, shopID int64, items []Item, applied Applied, now time.Time) ([]Line, error) {
	switch {
	case applied.Flash != nil:
		items = []Item{{SKUID: applied.Flash.SKUID, Quantity: applied.Flash.Quantity}}
	case applied.Group != nil:
		items = []Item{{SKUID: applied.Group.SKUID, Quantity: 1}}
	}
	lines, err := priceLines(ctx, q, shopID, mergeItems(items))
	if err != nil {
		return nil, err
	}
	if applied.Flash != nil || applied.Group != nil {
		applied.setPrices(lines)
		return lines, nil
	}
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.SKUID
	}
	prices, err := s.timedPrices(ctx, shopID, ids, now)
	if err != nil {
		return nil, err
	}
	for i, l := range lines {
		if p, ok := prices[l.SKUID]; ok && p < l.UnitPrice {
			lines[i].setPromotionPrice(p)
		}
	}
	return lines, nil
}

// timedPrices is the running time-limited price of each SKU that has one
// (checkout and the cart show the same prices).
func (s *Service) timedPrices(ctx context.Context, shopID int64, skuIDs []int64, now time.Time) (map[int64]int64, error) {
	if s.promos == nil || len(skuIDs) == 0 {
		return nil, nil
	}
	return s.promos.PromoPrices(ctx, shopID, skuIDs, now)
}

// setPrices puts a flash-sale or group price on the order's single line.
func (a Applied) setPrices(lines []Line) {
	switch {
	case a.Flash != nil:
		lines[0].setPromotionPrice(a.Flash.Price)
		lines[0].FlashSaleID = a.Flash.SaleID
	case a.Group != nil:
		lines[0].setPromotionPrice(a.Group.Price)
	}
}

// setPromotionPrice puts a promotion's price on the line, unless the SKU's
// own price is lower (it was cut after the promotion was set up): a
// promotion never makes the buyer pay more.
func (l *Line) setPromotionPrice(price int64) {
	l.OriginalPrice, l.UnitPrice = l.UnitPrice, min(price, l.UnitPrice)
	l.Amount = l.UnitPrice * l.Quantity
}

// newOrder prices a new order with the pricing engine (now is at
// millisecond precision, as stored).
func newOrder(sh shop.Shop, memberID int64, in CreateInput, lines []Line, applied Applied, ship pricing.Shipping, points pricing.Points, now time.Time) Order {
	res := pricing.PriceWithPoints(pricingLines(lines), applied.Coupon, ship, points)
	for i := range lines {
		// What a line cost is amount − discount: the points' share counts
		// like the coupon's, so refunds, commissions and tax follow.
		lines[i].Discount = res.Lines[i].CouponDiscount + res.Lines[i].PointsDiscount
	}
	o := Order{OrderNo: orderNumber(now), MemberID: memberID, Status: PendingPayment, GoodsAmount: res.GoodsAmount,
		ShippingFee: res.ShippingFee, DiscountAmount: res.CouponDiscount + res.ShippingDiscount, TotalAmount: res.Total,
		PointsUsed: res.PointsUsed, PointsDiscount: res.PointsDiscount,
		Address: in.Address, BuyerNote: in.BuyerNote, MemberCouponID: in.MemberCouponID, Breakdown: &res,
		PayDeadline: now.Add(time.Duration(sh.UnpaidCancelMinutes) * time.Minute), CreatedAt: now, Lines: lines, Parcels: []Parcel{}, ship: ship}
	if f := applied.Flash; f != nil && f.ExpiresAt.Before(o.PayDeadline) {
		o.PayDeadline = ms(f.ExpiresAt.UnixMilli())
	}
	addTax(&o)
	return o
}

func pricingLines(lines []Line) []pricing.Line {
	out := make([]pricing.Line, len(lines))
	for i, l := range lines {
		list := l.UnitPrice
		if l.OriginalPrice > 0 {
			list = l.OriginalPrice
		}
		out[i] = pricing.Line{SPUID: l.SPUID, CategoryID: l.categoryID, ListPrice: list, UnitPrice: l.UnitPrice, Quantity: l.Quantity}
	}
	return out
}

// mergeItems adds up repeated SKUs and orders items by SKU id, so
// concurrent orders lock rows in the same order.
func mergeItems(items []Item) []Item {
	qty := map[int64]int64{}
	for _, it := range items {
		qty[it.SKUID] += it.Quantity
	}
	out := make([]Item, 0, len(qty))
	for id, q := range qty {
		out = append(out, Item{SKUID: id, Quantity: q})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKUID < out[j].SKUID })
	return out
}

// priceLines reads each SKU's current price on the server.
func priceLines(ctx context.Context, q db.Querier, shopID int64, items []Item) ([]Line, error) {
	var lines []Line
	for _, it := range items {
		if it.Quantity > MaxQuantity {
			return nil, errs.Field("items", "quantity_too_large", "at most 999 of one SKU")
		}
		var l Line
		var specs, images string
		var kind catalog.Kind
		// The freight template's version comes with the line, so checkout
		// reads the template itself only when its cached copy is stale.
		err := q.QueryRow(ctx, `SELECT k.id, k.spu_id, p.category_id, p.title, k.spec_values, p.images, k.price, p.kind,
			COALESCE(t.id, 0), COALESCE(t.updated_at, 0), k.weight_grams
			FROM skus k JOIN spus p ON p.id = k.spu_id
			LEFT JOIN freight_templates t ON t.id = p.freight_template_id AND t.shop_id = p.shop_id
			WHERE k.id = ? AND k.shop_id = ? AND k.deleted_at IS NULL AND p.deleted_at IS NULL AND p.on_shelf = TRUE`,
			it.SKUID, shopID).Scan(&l.SKUID, &l.SPUID, &l.categoryID, &l.Title, &specs, &images, &l.UnitPrice, &kind,
			&l.freightTemplateID, &l.freightVersion, &l.weightGrams)
		if db.IsNoRows(err) {
			return nil, errs.Field("items", "sku_unavailable", fmt.Sprintf("SKU %d is not for sale", it.SKUID))
		}
		if err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(specs), &l.SpecValues)
		var imgs []string
		if json.Unmarshal([]byte(images), &imgs) == nil && len(imgs) > 0 {
			l.Image = imgs[0]
		}
		l.Quantity, l.Amount, l.TaxRate = it.Quantity, l.UnitPrice*it.Quantity, kind.TaxRate()
		lines = append(lines, l)
	}
	return lines, nil
}

func insertOrder(ctx context.Context, tx *db.Tx, shopID int64, key, hash string, o Order) (int64, error) {
	addr, _ := json.Marshal(o.Address)
	var id int64
	breakdown, _ := json.Marshal(o.Breakdown)
	err := tx.QueryRow(ctx, `INSERT INTO orders (shop_id, member_id, order_no, status, goods_amount, shipping_fee,
		discount_amount, total_amount, address, buyer_note, phone, idempotency_key, request_hash, pay_deadline,
		breakdown, coupon_id, points_used, points_discount, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, o.MemberID, o.OrderNo, o.Status, o.GoodsAmount, o.ShippingFee, o.DiscountAmount, o.TotalAmount, string(addr),
		o.BuyerNote, o.Address.Phone, key, hash, o.PayDeadline.UnixMilli(), string(breakdown), nullID(o.MemberCouponID),
		o.PointsUsed, o.PointsDiscount, o.CreatedAt.UnixMilli(), o.CreatedAt.UnixMilli()).Scan(&id)
	return id, err
}

func insertLine(ctx context.Context, tx *db.Tx, shopID, orderID int64, l Line) (int64, error) {
	specs, _ := json.Marshal(l.SpecValues)
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO order_lines (shop_id, order_id, spu_id, sku_id, title, spec_values, image,
		unit_price, quantity, amount, tax_rate, original_price, discount, flash_sale_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, orderID, l.SPUID, l.SKUID, l.Title, string(specs), l.Image, l.UnitPrice, l.Quantity, l.Amount, l.TaxRate,
		l.OriginalPrice, l.Discount, nullID(l.FlashSaleID)).Scan(&id)
	return id, err
}

// nullID stores 0 as NULL (an optional reference).
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

var china = time.FixedZone("CST", 8*3600)

// orderNumber makes order numbers (a variable so a test can force a clash).
var orderNumber = newOrderNo

// newOrderNo is a 26-digit order number: China time to the second and 12
// random digits (WeChat Pay allows 6 to 32 characters). Two orders of one
// second share a number with odds of about n²/2·10¹² (at 5,000 orders a
// second, once in 80,000 seconds), and Create retries a clash.
func newOrderNo(now time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000_000))
	return now.In(china).Format("20060102150405") + fmt.Sprintf("%012d", n.Int64())
}

type autoCancel struct {
	OrderID int64 `json:"order_id"`
}
