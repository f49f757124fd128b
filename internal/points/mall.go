package points

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Mall item kinds.
const (
	ItemCoupon = "coupon" // a coupon of the shop, into the buyer's wallet
	ItemGift   = "gift"   // goods shipped by staff to the buyer's address
)

// Coupons issues a coupon inside a transaction (the promotion service).
type Coupons interface {
	IssueTx(ctx context.Context, tx *db.Tx, shopID, memberID, couponID int64, source string) (int64, error)
}

// Mall is the points mall (积分商城).
type Mall struct {
	*Service
	coupons Coupons
	book    order.AddressBook
}

// NewMall returns the points mall over the ledger.
func NewMall(s *Service, coupons Coupons, book order.AddressBook) *Mall {
	return &Mall{Service: s, coupons: coupons, book: book}
}

// ItemInput is a mall item as staff set it.
type ItemInput struct {
	Kind           string `json:"kind" enum:"coupon,gift"`
	Title          string `json:"title" doc:"1–60 characters"`
	Image          string `json:"image" doc:"an image URL or /media/ path"`
	Points         int64  `json:"points" doc:"its price in points, 1–100000000"`
	CouponID       int64  `json:"coupon_id,omitempty" doc:"the shop's coupon a coupon item gives"`
	Stock          int64  `json:"stock" doc:"how many can still be redeemed, 0–1000000"`
	PerMemberLimit int64  `json:"per_member_limit" doc:"redemptions per buyer, 1–100"`
	OnShelf        bool   `json:"on_shelf"`
}

// Item is a mall item.
type Item struct {
	ID int64 `json:"id"`
	ItemInput
	Redeemed  int64     `json:"redeemed"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (in ItemInput) validate() error {
	var v errs.Validator
	n := len([]rune(in.Title))
	v.Check(in.Kind == ItemCoupon || in.Kind == ItemGift, "kind", "must be coupon or gift")
	v.Check(n >= 1 && n <= 60, "title", "must be 1 to 60 characters")
	v.Check(len(in.Image) <= 500, "image", "at most 500 characters")
	v.Check(in.Points >= 1 && in.Points <= 100_000_000, "points", "must be 1 to 100000000")
	v.Check(in.Stock >= 0 && in.Stock <= 1_000_000, "stock", "must be 0 to 1000000")
	v.Check(in.PerMemberLimit >= 1 && in.PerMemberLimit <= 100, "per_member_limit", "must be 1 to 100")
	v.Check((in.Kind == ItemCoupon) == (in.CouponID > 0), "coupon_id", "a coupon item names a coupon; a gift names none")
	return v.Err()
}

var errItemNotFound = errs.E(errs.NotFound, "item_not_found", "no such item in the points mall")

// checkCoupon refuses a coupon that is not the shop's.
func checkCoupon(ctx context.Context, q db.Querier, shopID, couponID int64) error {
	if couponID == 0 {
		return nil
	}
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM coupons WHERE id = ? AND shop_id = ?`, couponID, shopID).Scan(&one)
	if db.IsNoRows(err) {
		return errs.Field("coupon_id", "coupon_not_found", "no such coupon in this shop")
	}
	return err
}

// CreateItem adds an item to the mall.
func (m *Mall) CreateItem(ctx context.Context, shopID int64, in ItemInput) (Item, error) {
	if err := in.validate(); err != nil {
		return Item{}, err
	}
	if err := checkCoupon(ctx, m.db, shopID, in.CouponID); err != nil {
		return Item{}, err
	}
	now := m.now().UnixMilli()
	var id int64
	err := m.db.QueryRow(ctx, `INSERT INTO points_mall_items (shop_id, kind, title, image, points, coupon_id, stock, per_member_limit, on_shelf, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, in.Kind, in.Title, in.Image, in.Points, nullID(in.CouponID),
		in.Stock, in.PerMemberLimit, in.OnShelf, now, now).Scan(&id)
	if err != nil {
		return Item{}, errs.Wrap("create mall item", err)
	}
	return m.Item(ctx, shopID, id)
}

// UpdateItem replaces an item (its kind and coupon stay: what was redeemed
// keeps its meaning).
func (m *Mall) UpdateItem(ctx context.Context, shopID, id int64, in ItemInput) (Item, error) {
	if err := in.validate(); err != nil {
		return Item{}, err
	}
	err := db.ExpectOne(m.db.Exec(ctx, `UPDATE points_mall_items SET title = ?, image = ?, points = ?, stock = ?, per_member_limit = ?,
		on_shelf = ?, updated_at = ? WHERE id = ? AND shop_id = ? AND kind = ? AND COALESCE(coupon_id, 0) = ?`,
		in.Title, in.Image, in.Points, in.Stock, in.PerMemberLimit, in.OnShelf, m.now().UnixMilli(), id, shopID, in.Kind, in.CouponID))
	if db.IsNoRows(err) {
		if _, err := m.Item(ctx, shopID, id); err != nil {
			return Item{}, err
		}
		return Item{}, errs.E(errs.Conflict, "item_kind_fixed", "an item's kind and coupon cannot change; add a new item")
	}
	if err != nil {
		return Item{}, errs.Wrap("update mall item", err)
	}
	return m.Item(ctx, shopID, id)
}

const itemColumns = `id, kind, title, image, points, COALESCE(coupon_id, 0), stock, per_member_limit, on_shelf, redeemed, updated_at`

func scanItem(row db.Scanner) (Item, error) {
	var it Item
	var updated int64
	err := row.Scan(&it.ID, &it.Kind, &it.Title, &it.Image, &it.Points, &it.CouponID, &it.Stock, &it.PerMemberLimit, &it.OnShelf,
		&it.Redeemed, &updated)
	it.UpdatedAt = time.UnixMilli(updated).UTC()
	return it, err
}

// Item reads one item of the shop's mall.
func (m *Mall) Item(ctx context.Context, shopID, id int64) (Item, error) {
	it, err := scanItem(m.db.QueryRow(ctx, `SELECT `+itemColumns+` FROM points_mall_items WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Item{}, errItemNotFound
	}
	return it, errs.Wrap("mall item", err)
}

// Items lists the shop's mall items, newest first (onShelf: only those a
// buyer can redeem).
func (m *Mall) Items(ctx context.Context, shopID, after int64, limit int, onShelf bool) ([]Item, error) {
	rows, err := m.db.Query(ctx, `SELECT `+itemColumns+` FROM points_mall_items WHERE shop_id = ? AND (? = 0 OR id < ?)
		AND (? = FALSE OR on_shelf) ORDER BY id DESC LIMIT ?`, shopID, after, after, onShelf, limit+1)
	if err != nil {
		return nil, errs.Wrap("mall items", err)
	}
	defer rows.Close()
	out := []Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// RedeemInput is a buyer's redemption.
type RedeemInput struct {
	AddressID int64 `json:"address_id,omitempty" doc:"a gift's shipping address, from my address book"`
}

// Redemption is an item bought with points.
type Redemption struct {
	ID             int64          `json:"id"`
	MemberID       int64          `json:"member_id"`
	ItemID         int64          `json:"item_id"`
	Title          string         `json:"title"`
	Kind           string         `json:"kind" enum:"coupon,gift"`
	Points         int64          `json:"points"`
	MemberCouponID int64          `json:"member_coupon_id,omitempty" doc:"the wallet entry a coupon item gave"`
	Status         string         `json:"status" enum:"redeemed,shipped,cancelled"`
	Address        *order.Address `json:"address" doc:"a gift's shipping address"`
	Carrier        string         `json:"carrier"`
	TrackingNo     string         `json:"tracking_no"`
	CreatedAt      time.Time      `json:"created_at"`
}

var (
	errSoldOut      = errs.E(errs.Conflict, "item_sold_out", "this item is sold out")
	errRedeemLimit  = errs.E(errs.Conflict, "redeem_limit_reached", "you have redeemed this item as many times as allowed")
	errAddressFirst = errs.Field("address_id", "address_required", "a gift ships to an address of your address book")
	errKeyInUse     = errs.E(errs.Conflict, "idempotency_key_reused", "this Idempotency-Key was used for another redemption")
)

// Redeem buys an item with points: the points spent (never more than the
// balance), the stock taken (never below zero) and the coupon given, all
// in one transaction; the Idempotency-Key makes a retry return the same
// redemption.
func (m *Mall) Redeem(ctx context.Context, shopID, memberID, itemID int64, key string, in RedeemInput) (Redemption, error) {
	if len(key) < 8 || len(key) > 64 {
		return Redemption{}, errs.Field("Idempotency-Key", "idempotency_key_required", "send an Idempotency-Key header of 8 to 64 characters")
	}
	if in.AddressID < 0 {
		return Redemption{}, errAddressFirst
	}
	it, err := m.Item(ctx, shopID, itemID)
	if err != nil {
		return Redemption{}, err
	}
	if prior, found, err := m.redemptionByKey(ctx, shopID, memberID, key); found || err != nil {
		return prior, err
	}
	if !it.OnShelf {
		return Redemption{}, errItemNotFound
	}
	address := ""
	if it.Kind == ItemGift {
		if in.AddressID == 0 || m.book == nil {
			return Redemption{}, errAddressFirst
		}
		a, err := m.book.Snapshot(ctx, shopID, memberID, in.AddressID)
		if err != nil {
			return Redemption{}, err
		}
		b, _ := json.Marshal(a)
		address = string(b)
	}
	var id int64
	err = m.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = m.redeemTx(ctx, tx, shopID, memberID, it, key, address)
		return err
	})
	if errors.Is(err, errKeyInUse) || db.IsUniqueViolation(err) { // the same key at once, or a coupon slot raced (PostgreSQL)
		if prior, found, lookupErr := m.redemptionByKey(ctx, shopID, memberID, key); found || lookupErr != nil {
			return prior, lookupErr
		}
		if errors.Is(err, errKeyInUse) {
			return Redemption{}, errKeyInUse
		}
		return Redemption{}, errs.E(errs.Conflict, "coupon_limit_reached", "you already hold as many of this coupon as allowed")
	}
	if err != nil {
		return Redemption{}, errs.Wrap("redeem", err)
	}
	return m.redemption(ctx, shopID, memberID, id)
}

// redeemTx spends the points first (on PostgreSQL that locks the buyer's
// account, so one buyer's redemptions run one at a time and the limit
// below holds), then checks the limit, takes the stock and gives the
// coupon.
func (m *Mall) redeemTx(ctx context.Context, tx *db.Tx, shopID, memberID int64, it Item, key, address string) (int64, error) {
	now := m.now().UnixMilli()
	spendID, applied, err := take(ctx, tx, change{shopID: shopID, memberID: memberID, points: it.Points, kind: KindSpend,
		reason: "积分商城兑换：" + it.Title, sourceType: "mall", sourceID: itoa(it.ID), key: "mall:" + itoa(memberID) + ":" + key}, now)
	if err != nil {
		return 0, err
	}
	if !applied { // the same key in a transaction that committed meanwhile: Redeem answers with its redemption
		return 0, errKeyInUse
	}
	var held int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM points_redemptions WHERE shop_id = ? AND member_id = ? AND item_id = ? AND status <> 'cancelled'`,
		shopID, memberID, it.ID).Scan(&held); err != nil {
		return 0, err
	}
	if held >= it.PerMemberLimit {
		return 0, errRedeemLimit
	}
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE points_mall_items SET stock = stock - 1, redeemed = redeemed + 1, updated_at = ?
		WHERE id = ? AND shop_id = ? AND on_shelf AND stock >= 1 AND points = ?`, now, it.ID, shopID, it.Points))
	if db.IsNoRows(err) {
		return 0, errSoldOut // or its price changed since it was read: nothing is taken
	}
	if err != nil {
		return 0, err
	}
	var walletID int64
	if it.Kind == ItemCoupon {
		if walletID, err = m.coupons.IssueTx(ctx, tx, shopID, memberID, it.CouponID, "grant"); err != nil {
			return 0, err
		}
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO points_redemptions (shop_id, member_id, item_id, points, spend_id, member_coupon_id, status, address,
		idem_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, memberID, it.ID, it.Points, spendID, nullID(walletID), redeemedStatus(it.Kind), address, key, now, now).Scan(&id)
	return id, err
}

// redeemedStatus: a coupon is delivered at once; a gift waits for staff.
func redeemedStatus(kind string) string {
	if kind == ItemCoupon {
		return "shipped"
	}
	return "redeemed"
}

func (m *Mall) redemptionByKey(ctx context.Context, shopID, memberID int64, key string) (Redemption, bool, error) {
	var id int64
	err := m.db.QueryRow(ctx, `SELECT id FROM points_redemptions WHERE shop_id = ? AND member_id = ? AND idem_key = ?`, shopID, memberID, key).Scan(&id)
	if db.IsNoRows(err) {
		return Redemption{}, false, nil
	}
	if err != nil {
		return Redemption{}, false, err
	}
	r, err := m.redemption(ctx, shopID, memberID, id)
	return r, true, err
}

const redemptionColumns = `r.id, r.member_id, r.item_id, i.title, i.kind, r.points, COALESCE(r.member_coupon_id, 0), r.status, r.address,
	r.carrier, r.tracking_no, r.created_at`

func scanRedemption(row db.Scanner) (Redemption, error) {
	var r Redemption
	var address string
	var created int64
	err := row.Scan(&r.ID, &r.MemberID, &r.ItemID, &r.Title, &r.Kind, &r.Points, &r.MemberCouponID, &r.Status, &address,
		&r.Carrier, &r.TrackingNo, &created)
	if address != "" {
		r.Address = new(order.Address)
		_ = json.Unmarshal([]byte(address), r.Address)
	}
	r.CreatedAt = time.UnixMilli(created).UTC()
	return r, err
}

var errRedemptionNotFound = errs.E(errs.NotFound, "redemption_not_found", "no such redemption")

// redemption reads one redemption (memberID 0: any member of the shop).
func (m *Mall) redemption(ctx context.Context, shopID, memberID, id int64) (Redemption, error) {
	r, err := scanRedemption(m.db.QueryRow(ctx, `SELECT `+redemptionColumns+` FROM points_redemptions r
		JOIN points_mall_items i ON i.id = r.item_id AND i.shop_id = r.shop_id
		WHERE r.id = ? AND r.shop_id = ? AND (? = 0 OR r.member_id = ?)`, id, shopID, memberID, memberID))
	if db.IsNoRows(err) {
		return Redemption{}, errRedemptionNotFound
	}
	return r, errs.Wrap("redemption", err)
}

// Redemptions lists redemptions, newest first (memberID 0: the shop's).
func (m *Mall) Redemptions(ctx context.Context, shopID, memberID, after int64, limit int) ([]Redemption, error) {
	rows, err := m.db.Query(ctx, `SELECT `+redemptionColumns+` FROM points_redemptions r
		JOIN points_mall_items i ON i.id = r.item_id AND i.shop_id = r.shop_id
		WHERE r.shop_id = ? AND (? = 0 OR r.member_id = ?) AND (? = 0 OR r.id < ?) ORDER BY r.id DESC LIMIT ?`,
		shopID, memberID, memberID, after, after, limit+1)
	if err != nil {
		return nil, errs.Wrap("redemptions", err)
	}
	defer rows.Close()
	out := []Redemption{}
	for rows.Next() {
		r, err := scanRedemption(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ShipInput is how staff sent a gift.
type ShipInput struct {
	Carrier    string `json:"carrier" doc:"1–30 characters"`
	TrackingNo string `json:"tracking_no" doc:"1–40 characters"`
}

var errNotWaiting = errs.E(errs.Conflict, "redemption_not_waiting", "only a gift waiting to ship can be shipped or cancelled")

// Ship records a gift sent.
func (m *Mall) Ship(ctx context.Context, shopID, id int64, in ShipInput) (Redemption, error) {
	var v errs.Validator
	v.Check(len([]rune(in.Carrier)) >= 1 && len([]rune(in.Carrier)) <= 30, "carrier", "must be 1 to 30 characters")
	v.Check(len(in.TrackingNo) >= 1 && len(in.TrackingNo) <= 40, "tracking_no", "must be 1 to 40 characters")
	if err := v.Err(); err != nil {
		return Redemption{}, err
	}
	if _, err := m.redemption(ctx, shopID, 0, id); err != nil {
		return Redemption{}, err
	}
	err := db.ExpectOne(m.db.Exec(ctx, `UPDATE points_redemptions SET status = 'shipped', carrier = ?, tracking_no = ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND status = 'redeemed'`, in.Carrier, in.TrackingNo, m.now().UnixMilli(), id, shopID))
	if db.IsNoRows(err) {
		return Redemption{}, errNotWaiting
	}
	if err != nil {
		return Redemption{}, errs.Wrap("ship gift", err)
	}
	return m.redemption(ctx, shopID, 0, id)
}

// Cancel gives a gift not yet shipped back: the points to the lots they
// came from and the unit to the stock, in one transaction.
func (m *Mall) Cancel(ctx context.Context, shopID, id int64) (Redemption, error) {
	r, err := m.redemption(ctx, shopID, 0, id)
	if err != nil {
		return Redemption{}, err
	}
	now := m.now().UnixMilli()
	err = m.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockAccount(ctx, tx, shopID, r.MemberID, now); err != nil {
			return err
		}
		var spendID int64
		err := tx.QueryRow(ctx, `UPDATE points_redemptions SET status = 'cancelled', updated_at = ? WHERE id = ? AND shop_id = ? AND status = 'redeemed'
			RETURNING spend_id`, now, id, shopID).Scan(&spendID)
		if db.IsNoRows(err) {
			return errNotWaiting
		}
		if err != nil {
			return err
		}
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE points_mall_items SET stock = stock + 1, redeemed = redeemed - 1, updated_at = ? WHERE id = ? AND shop_id = ?`,
			now, r.ItemID, shopID)); err != nil {
			return err
		}
		_, err = giveBack(ctx, tx, change{shopID: shopID, memberID: r.MemberID, points: r.Points, kind: KindReturn, reason: "积分商城兑换取消：" + r.Title,
			sourceType: "mall", sourceID: itoa(r.ItemID), key: "mall-cancel:" + itoa(id)}, spendID, now)
		return err
	})
	if err != nil {
		return Redemption{}, errs.Wrap("cancel redemption", err)
	}
	return m.redemption(ctx, shopID, 0, id)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
