package promotion

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Sale is a flash sale (秒杀) of one SKU.
type Sale struct {
	ID           int64      `json:"id"`
	SKUID        int64      `json:"sku_id"`
	Title        string     `json:"title"`
	Price        int64      `json:"price" doc:"sale price per unit, fen"`
	Quantity     int64      `json:"quantity" doc:"units on sale"`
	Remaining    int64      `json:"remaining" doc:"units buyers can still claim"`
	PerUserLimit int64      `json:"per_user_limit"`
	PayMinutes   int64      `json:"pay_minutes" doc:"a claim must be paid within this many minutes, or its units go back to the sale"`
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       time.Time  `json:"ends_at"`
	SettledAt    *time.Time `json:"settled_at" doc:"when unsold units went back to the SKU, after the end"`
	CreatedAt    time.Time  `json:"created_at"`
}

// NewSale is what staff send to create a flash sale.
type NewSale struct {
	SKUID        int64     `json:"sku_id"`
	Title        string    `json:"title"`
	Price        int64     `json:"price" doc:"fen"`
	Quantity     int64     `json:"quantity"`
	PerUserLimit int64     `json:"per_user_limit" doc:"default 1"`
	PayMinutes   int64     `json:"pay_minutes" doc:"default 5"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
}

const maxSaleDuration = 31 * 24 * time.Hour

func (in *NewSale) validate(now time.Time) error {
	in.Title = strings.TrimSpace(in.Title)
	if in.PerUserLimit == 0 {
		in.PerUserLimit = 1
	}
	if in.PayMinutes == 0 {
		in.PayMinutes = 5
	}
	var v errs.Validator
	v.Check(in.SKUID > 0, "sku_id", "must be a SKU id")
	v.Check(len([]rune(in.Title)) >= 1 && len([]rune(in.Title)) <= 60, "title", "must be 1 to 60 characters")
	v.Check(in.Price >= 0 && in.Price <= 100_000_000_00, "price", "must be 0 to 100,000,000.00 yuan in fen")
	v.Check(in.Quantity >= 1 && in.Quantity <= 10_000_000, "quantity", "must be 1 to 10,000,000")
	v.Check(in.PerUserLimit >= 1 && in.PerUserLimit <= 99, "per_user_limit", "must be 1 to 99")
	v.Check(in.PayMinutes >= 1 && in.PayMinutes <= 1440, "pay_minutes", "must be 1 to 1440")
	v.Check(!in.StartsAt.IsZero() && in.StartsAt.After(now.Add(-time.Minute)), "starts_at", "must be now or later")
	v.Check(in.EndsAt.After(in.StartsAt) && in.EndsAt.Sub(in.StartsAt) <= maxSaleDuration, "ends_at", "must be after starts_at, at most 31 days later")
	return v.Err()
}

// CreateSale puts units of a SKU on a flash sale: they leave the SKU's
// sellable stock (into its locked units) at once, so the sale can never
// sell what the shop does not have.
func (s *Service) CreateSale(ctx context.Context, shopID int64, in NewSale) (Sale, error) {
	now := s.now()
	if err := in.validate(now); err != nil {
		return Sale{}, err
	}
	sh, err := s.shops.Enabled(ctx, shopID)
	if err != nil {
		return Sale{}, err
	}
	if err := sh.CanTakePayments(); err != nil {
		return Sale{}, err
	}
	if err := s.checkSalePrice(ctx, shopID, in); err != nil {
		return Sale{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE skus SET stock = stock - ?, locked = locked + ?
			WHERE id = ? AND shop_id = ? AND deleted_at IS NULL AND stock >= ?`, in.Quantity, in.Quantity, in.SKUID, shopID, in.Quantity))
		if db.IsNoRows(err) {
			return errs.Field("quantity", "not_enough_stock", "the SKU does not exist or has fewer units in stock")
		}
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO flash_sales (shop_id, sku_id, title, price, quantity, remaining, per_user_limit,
			pay_minutes, starts_at, ends_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			shopID, in.SKUID, in.Title, in.Price, in.Quantity, in.Quantity, in.PerUserLimit, in.PayMinutes,
			in.StartsAt.UnixMilli(), in.EndsAt.UnixMilli(), now.UnixMilli(), now.UnixMilli()).Scan(&id)
		if err != nil {
			return err
		}
		return stockLedger(ctx, tx, shopID, in.SKUID, id, "lock", -in.Quantity, now)
	})
	if err != nil {
		return Sale{}, errs.Wrap("create flash sale", err)
	}
	return s.Sale(ctx, shopID, id)
}

// checkSalePrice refuses a flash price that is not below the SKU's own
// price: a "sale" that charges as much or more is a mistake.
func (s *Service) checkSalePrice(ctx context.Context, shopID int64, in NewSale) error {
	var list int64
	err := s.db.QueryRow(ctx, `SELECT price FROM skus WHERE id = ? AND shop_id = ? AND deleted_at IS NULL`, in.SKUID, shopID).Scan(&list)
	if db.IsNoRows(err) {
		return errs.Field("sku_id", "sku_not_found", "no such SKU in this shop")
	}
	if err != nil {
		return errs.Wrap("flash sale", err)
	}
	if in.Price >= list {
		return errs.Field("price", "not_a_discount", "must be below the SKU's price ("+strconv.FormatInt(list, 10)+" fen)")
	}
	return nil
}

func stockLedger(ctx context.Context, tx *db.Tx, shopID, skuID, saleID int64, kind string, qty int64, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO stock_ledger (shop_id, sku_id, kind, quantity, flash_sale_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, shopID, skuID, kind, qty, saleID, now.UnixMilli())
	return err
}

const saleColumns = `id, sku_id, title, price, quantity, remaining, per_user_limit, pay_minutes, starts_at, ends_at, settled_at, created_at`

func scanSale(row db.Scanner) (Sale, error) {
	var sl Sale
	var starts, ends, created int64
	var settled *int64
	err := row.Scan(&sl.ID, &sl.SKUID, &sl.Title, &sl.Price, &sl.Quantity, &sl.Remaining, &sl.PerUserLimit, &sl.PayMinutes,
		&starts, &ends, &settled, &created)
	sl.StartsAt, sl.EndsAt, sl.CreatedAt, sl.SettledAt = time.UnixMilli(starts).UTC(), time.UnixMilli(ends).UTC(), time.UnixMilli(created).UTC(), msPtr(settled)
	return sl, err
}

func msPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := time.UnixMilli(*v).UTC()
	return &t
}

var errSaleNotFound = errs.E(errs.NotFound, "flash_sale_not_found", "no such flash sale")

// Sale returns one flash sale of the shop.
func (s *Service) Sale(ctx context.Context, shopID, id int64) (Sale, error) {
	sl, err := scanSale(s.db.QueryRow(ctx, `SELECT `+saleColumns+` FROM flash_sales WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Sale{}, errSaleNotFound
	}
	return sl, errs.Wrap("flash sale", err)
}

// SaleResults is how a promotion did: claims, orders, buyers, GMV, refunds.
type SaleResults struct {
	Sale          Sale  `json:"sale"`
	Claimed       int64 `json:"claimed" doc:"units held by live claims and orders"`
	Orders        int64 `json:"orders"`
	PaidOrders    int64 `json:"paid_orders"`
	Buyers        int64 `json:"buyers" doc:"distinct buyers with a paid order"`
	GMV           int64 `json:"gmv" doc:"paid amount of the sale's order lines, fen"`
	RefundedTotal int64 `json:"refunded_total" doc:"refunded on orders with sale lines, fen"`
}

// Results reports a flash sale's outcome.
func (s *Service) Results(ctx context.Context, shopID, id int64) (SaleResults, error) {
	sl, err := s.Sale(ctx, shopID, id)
	if err != nil {
		return SaleResults{}, err
	}
	r := SaleResults{Sale: sl}
	err = s.db.QueryRow(ctx, `SELECT COALESCE(SUM(quantity), 0) FROM flash_claims WHERE sale_id = ? AND shop_id = ? AND status <> 'expired'`,
		id, shopID).Scan(&r.Claimed)
	if err == nil {
		err = s.db.QueryRow(ctx, `SELECT COUNT(DISTINCT o.id),
			COUNT(DISTINCT CASE WHEN o.paid_at IS NOT NULL THEN o.id END),
			COUNT(DISTINCT CASE WHEN o.paid_at IS NOT NULL THEN o.member_id END),
			COALESCE(SUM(CASE WHEN o.paid_at IS NOT NULL THEN l.amount - l.discount ELSE 0 END), 0),
			COALESCE(SUM(o.refunded_amount), 0)
			FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE l.flash_sale_id = ? AND l.shop_id = ?`, id, shopID).Scan(&r.Orders, &r.PaidOrders, &r.Buyers, &r.GMV, &r.RefundedTotal)
	}
	return r, errs.Wrap("flash sale results", err)
}
