// Package promotion runs what shops sell with: flash sales (秒杀) whose
// claims are taken in memory-fronted batches, coupons, and the checkout
// hooks that feed them to the pricing engine (package pricing) and give
// them back when an order is cancelled.
package promotion

import (
	"context"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/pricing"
	"github.com/kaidian/kaidian/internal/shop"
)

// Job kinds.
const (
	ExpireClaimsKind = "flash.expire_claims"
	SettleSalesKind  = "flash.settle_sales"
)

// Shops gives promotions the shop's gates.
type Shops interface {
	Enabled(ctx context.Context, id int64) (shop.Shop, error)
}

// Orders is what promotions need of the order service: cancelling the
// unpaid orders of a closed group.
type Orders interface {
	Cancel(ctx context.Context, shopID, orderID, memberID int64, actor order.Actor, reason string) error
}

// Service runs a shop's promotions.
type Service struct {
	db      *db.DB
	shops   Shops
	orders  Orders
	now     func() time.Time
	Claimer *Claimer
	timed   timedCache
}

// NewService returns the promotion service; key signs flash-sale claim
// tokens.
func NewService(d *db.DB, shops Shops, orders Orders, key []byte) *Service {
	return &Service{db: d, shops: shops, orders: orders, now: time.Now, Claimer: NewClaimer(d, key)}
}

var _ order.Promotions = (*Service)(nil)

var (
	errClaimNotFound = errs.E(errs.NotFound, "flash_claim_not_found", "no such flash-sale claim")
	errClaimExpired  = errs.E(errs.Gone, "flash_claim_expired", "the claim expired or was already ordered")
)

// Lookup reads the claim and coupon a checkout asks for.
func (s *Service) Lookup(ctx context.Context, q db.Querier, shopID, memberID int64, in order.CreateInput, now time.Time) (order.Applied, error) {
	var a order.Applied
	if in.FlashClaimID != 0 {
		f, err := lookupClaim(ctx, q, shopID, memberID, in.FlashClaimID, now)
		if err != nil {
			return a, err
		}
		a.Flash = &f
	}
	if in.GroupDealID != 0 || in.GroupID != 0 {
		if in.MemberCouponID != 0 {
			return a, errGroupCoupon
		}
		g, err := lookupGroup(ctx, q, shopID, memberID, in.GroupDealID, in.GroupID, now)
		if err != nil {
			return a, err
		}
		a.Group = &g
	}
	if in.MemberCouponID != 0 {
		mc, err := s.walletCoupon(ctx, q, shopID, memberID, in.MemberCouponID, now)
		if err != nil {
			return a, err
		}
		c := mc.rule()
		a.Coupon = &c
	}
	return a, nil
}

func lookupClaim(ctx context.Context, q db.Querier, shopID, memberID, claimID int64, now time.Time) (order.FlashLine, error) {
	var f order.FlashLine
	var status string
	var expires int64
	err := q.QueryRow(ctx, `SELECT c.sale_id, s.sku_id, c.quantity, s.price, c.status, c.expires_at
		FROM flash_claims c JOIN flash_sales s ON s.id = c.sale_id
		WHERE c.id = ? AND c.shop_id = ? AND c.member_id = ?`, claimID, shopID, memberID).
		Scan(&f.SaleID, &f.SKUID, &f.Quantity, &f.Price, &status, &expires)
	if db.IsNoRows(err) {
		return f, errClaimNotFound
	}
	if err != nil {
		return f, errs.Wrap("flash claim", err)
	}
	if status != "held" || expires <= now.UnixMilli() {
		return f, errClaimExpired
	}
	f.ExpiresAt = time.UnixMilli(expires).UTC()
	return f, nil
}

// Take marks the claim ordered, the coupon used and the group seat taken
// by the new order, each with a compare-and-set.
func (s *Service) Take(ctx context.Context, tx *db.Tx, shopID, memberID, orderID int64, in order.CreateInput, now time.Time) (order.Taken, error) {
	var t order.Taken
	if in.FlashClaimID != 0 {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE flash_claims SET status = 'ordered', order_id = ?
			WHERE id = ? AND shop_id = ? AND member_id = ? AND status = 'held' AND expires_at > ?`,
			orderID, in.FlashClaimID, shopID, memberID, now.UnixMilli()))
		if db.IsNoRows(err) {
			return t, errClaimExpired
		}
		if err != nil {
			return t, err
		}
	}
	if in.GroupDealID != 0 || in.GroupID != 0 {
		var err error
		if t.GroupID, err = takeSeat(ctx, tx, shopID, memberID, orderID, in.GroupDealID, in.GroupID, now); err != nil {
			return t, err
		}
	}
	if in.MemberCouponID != 0 {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE member_coupons SET status = 'used', order_id = ?, used_at = ?
			WHERE id = ? AND shop_id = ? AND member_id = ? AND status = 'unused'`,
			orderID, now.UnixMilli(), in.MemberCouponID, shopID, memberID))
		if db.IsNoRows(err) {
			return t, errCouponUsed
		}
		return t, err
	}
	return t, nil
}

// Paid counts a group-buying seat once its order is paid.
// Paid counts a group-buying seat once its order is paid and records the
// order's frozen commissions.
func (s *Service) Paid(ctx context.Context, tx *db.Tx, shopID, orderID int64, now time.Time) error {
	if err := seatPaid(ctx, tx, shopID, orderID); err != nil {
		return err
	}
	return s.commissionOnPaid(ctx, tx, shopID, orderID, now)
}

// Cancelled gives a cancelled order's coupon back to the buyer and its
// flash-sale units back to the sale (or to the SKU once the sale is
// settled).
func (s *Service) Cancelled(ctx context.Context, tx *db.Tx, shopID, orderID int64, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE member_coupons SET status = 'unused', order_id = NULL, used_at = NULL
		WHERE order_id = ? AND shop_id = ? AND status = 'used'`, orderID, shopID); err != nil {
		return err
	}
	if err := seatCancelled(ctx, tx, shopID, orderID); err != nil {
		return err
	}
	var claimID, saleID, qty int64
	err := tx.QueryRow(ctx, `SELECT id, sale_id, quantity FROM flash_claims WHERE order_id = ? AND shop_id = ? AND status = 'ordered'`,
		orderID, shopID).Scan(&claimID, &saleID, &qty)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return expireClaim(ctx, tx, shopID, claimID, saleID, qty, "ordered", now)
}

// expireClaim ends a claim (compare-and-set from status) and returns its
// units: to the sale while it runs, to the SKU once it is settled.
func expireClaim(ctx context.Context, tx *db.Tx, shopID, claimID, saleID, qty int64, from string, now time.Time) error {
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE flash_claims SET status = 'expired' WHERE id = ? AND shop_id = ? AND status = ?`,
		claimID, shopID, from)); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE flash_sales SET remaining = remaining + ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND settled_at IS NULL`, qty, now.UnixMilli(), saleID, shopID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	return returnToSKU(ctx, tx, shopID, saleID, qty, now)
}

// returnToSKU moves qty units a settled sale held back to its SKU's
// sellable stock.
func returnToSKU(ctx context.Context, tx *db.Tx, shopID, saleID, qty int64, now time.Time) error {
	var skuID int64
	if err := tx.QueryRow(ctx, `SELECT sku_id FROM flash_sales WHERE id = ? AND shop_id = ?`, saleID, shopID).Scan(&skuID); err != nil {
		return err
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE skus SET stock = stock + ?, locked = locked - ? WHERE id = ? AND shop_id = ? AND locked >= ?`,
		qty, qty, skuID, shopID, qty)); err != nil {
		return err
	}
	return stockLedger(ctx, tx, shopID, skuID, saleID, "release", qty, now)
}

// RegisterJobs runs the flash-sale sweeps: expired claims give their units
// back, ended sales give their unsold units back to the SKU.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Every(ExpireClaimsKind, 5*time.Second, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.ExpireClaims(ctx)
		return err
	})
	q.Every(SettleSalesKind, 30*time.Second, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.SettleSales(ctx)
		return err
	})
	s.registerGroupJobs(q)
	s.registerDistributionJobs(q)
	q.Every(BirthdayCouponsKind, time.Hour, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.GiveBirthdayCoupons(ctx)
		return err
	})
}

// ExpireClaims ends held claims whose payment window has passed (a few
// hundred at a time) and reports how many.
func (s *Service) ExpireClaims(ctx context.Context) (int, error) {
	now := s.now()
	type due struct{ id, shopID, saleID, qty int64 }
	// Claims are made before their sale ends and last at most a day, so
	// only sales that ended in the last 25 hours can have held claims; the
	// live-claims index finds theirs (no index on every claim's expiry,
	// which would cost each flash-sale claim one more write).
	rows, err := s.db.Query(ctx, `SELECT c.id, c.shop_id, c.sale_id, c.quantity
		FROM flash_sales s JOIN flash_claims c ON c.sale_id = s.id AND c.status <> 'expired'
		WHERE s.ends_at > ? AND c.status = 'held' AND c.expires_at <= ? ORDER BY c.expires_at LIMIT 500`,
		now.Add(-25*time.Hour).UnixMilli(), now.UnixMilli())
	if err != nil {
		return 0, err
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.shopID, &d.saleID, &d.qty); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		n = 0
		for _, d := range list {
			err := expireClaim(ctx, tx, d.shopID, d.id, d.saleID, d.qty, "held", now)
			if db.IsNoRows(err) { // ordered meanwhile
				continue
			}
			if err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// SettleSales gives the unsold units of ended sales back to their SKUs.
func (s *Service) SettleSales(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, `SELECT id, shop_id FROM flash_sales WHERE settled_at IS NULL AND ends_at <= ? LIMIT 100`, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	var ids [][2]int64
	for rows.Next() {
		var id, shopID int64
		if err := rows.Scan(&id, &shopID); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, [2]int64{id, shopID})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, x := range ids {
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			left, err := lockRemaining(ctx, tx, x[1], x[0])
			if err != nil {
				return err
			}
			if err := db.ExpectOne(tx.Exec(ctx, `UPDATE flash_sales SET remaining = 0, settled_at = ?, updated_at = ?
				WHERE id = ? AND settled_at IS NULL AND remaining = ?`, now.UnixMilli(), now.UnixMilli(), x[0], left)); err != nil {
				return err
			}
			if left == 0 {
				return nil
			}
			return returnToSKU(ctx, tx, x[1], x[0], left, now)
		})
		if err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// rule is the pricing engine's view of a wallet coupon.
func (mc walletCoupon) rule() pricing.Coupon {
	return pricing.Coupon{Kind: pricing.CouponKind(mc.Kind), Amount: mc.Amount, RateBP: mc.RateBP, Cap: mc.Cap,
		Threshold: mc.Threshold, Scope: pricing.Scope(mc.Scope), IDs: mc.ScopeIDs}
}
