package promotion

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// The staff's lists of flash sales, deals and coupons, newest first, a page
// at a time: rows with an id below after (0 = from the newest), up to
// limit+1 of them so the caller knows whether there is a next page.

// SalesPage lists a shop's flash sales, newest first.
func (s *Service) SalesPage(ctx context.Context, shopID, after int64, limit int) ([]Sale, error) {
	out, err := db.All(ctx, s.db, scanSale, `SELECT `+saleColumns+` FROM flash_sales WHERE shop_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, below(after), limit+1)
	return out, errs.Wrap("flash sales", err)
}

// DealsPage lists a shop's group-buying deals, newest first.
func (s *Service) DealsPage(ctx context.Context, shopID, after int64, limit int) ([]Deal, error) {
	out, err := db.All(ctx, s.db, scanDeal, `SELECT `+dealColumns+` FROM group_deals WHERE shop_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, below(after), limit+1)
	return out, errs.Wrap("deals", err)
}

// CouponsPage lists a shop's coupons, newest first.
func (s *Service) CouponsPage(ctx context.Context, shopID, after int64, limit int) ([]Coupon, error) {
	out, err := db.All(ctx, s.db, scanCoupon, `SELECT `+couponColumns+` FROM coupons WHERE shop_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, below(after), limit+1)
	return out, errs.Wrap("coupons", err)
}

// below turns a page cursor into an id bound: 0 means from the newest.
func below(after int64) int64 {
	if after <= 0 {
		return 1 << 62
	}
	return after
}

// WalletKeys are a wallet coupon's sort keys, its page cursor: unused first
// (0, else 1), then soonest to expire, then id.
func (w WalletCoupon) WalletKeys() []int64 {
	rank := int64(1)
	if w.Status == "unused" {
		rank = 0
	}
	return []int64{rank, w.ValidUntil.UnixMilli(), w.ID}
}

// WalletPage lists the buyer's coupons in Wallet's order (unused first,
// soonest to expire first), a page at a time: after the position after
// (WalletKeys of the previous page's last item; nil = from the start), up
// to limit+1 rows so httpx.PageOfKeys knows whether there is a next page.
func (s *Service) WalletPage(ctx context.Context, shopID, memberID int64, after []int64, limit int) ([]WalletCoupon, error) {
	rank, until, id := int64(-1), int64(0), int64(0)
	if len(after) == 3 {
		rank, until, id = after[0], after[1], after[2]
	}
	out, err := db.All(ctx, s.db, scanWallet, `SELECT `+walletColumns+` FROM (SELECT *, CASE WHEN status = 'unused' THEN 0 ELSE 1 END AS used_rank
		FROM member_coupons WHERE shop_id = ? AND member_id = ?) m JOIN coupons c ON c.id = m.coupon_id
		WHERE m.used_rank > ? OR (m.used_rank = ? AND (m.valid_until > ? OR (m.valid_until = ? AND m.id > ?)))
		ORDER BY m.used_rank, m.valid_until, m.id LIMIT ?`, shopID, memberID, rank, rank, until, until, id, limit+1)
	return out, errs.Wrap("wallet", err)
}

// What buyers see running or coming, a page at a time: the same filters the
// arrays had, without their cut at 200 (1,000 for time-limited prices).

// CurrentSalesPage lists the shop's flash sales not ended yet, latest start
// first (ties: newest id first), after the position after (SaleKeys of the
// previous page's last item; nil = from the start), up to limit+1 rows.
func (s *Service) CurrentSalesPage(ctx context.Context, shopID int64, after []int64, limit int) ([]Sale, error) {
	starts, id := int64(1<<62), int64(1<<62)
	if len(after) == 2 {
		starts, id = after[0], after[1]
	}
	out, err := db.All(ctx, s.db, scanSale, `SELECT `+saleColumns+` FROM flash_sales
		WHERE shop_id = ? AND ends_at > ? AND (starts_at < ? OR (starts_at = ? AND id < ?))
		ORDER BY starts_at DESC, id DESC LIMIT ?`, shopID, s.now().UnixMilli(), starts, starts, id, limit+1)
	return out, errs.Wrap("flash sales", err)
}

// SaleKeys are a sale's sort keys in CurrentSalesPage, its page cursor.
func (sl Sale) SaleKeys() []int64 { return []int64{sl.StartsAt.UnixMilli(), sl.ID} }

// CurrentDealsPage lists the shop's deals not ended yet, newest first.
func (s *Service) CurrentDealsPage(ctx context.Context, shopID, after int64, limit int) ([]Deal, error) {
	out, err := db.All(ctx, s.db, scanDeal, `SELECT `+dealColumns+` FROM group_deals WHERE shop_id = ? AND ends_at > ? AND id < ?
		ORDER BY id DESC LIMIT ?`, shopID, s.now().UnixMilli(), below(after), limit+1)
	return out, errs.Wrap("deals", err)
}

// ClaimableCouponsPage lists the coupons buyers may claim now, newest first.
func (s *Service) ClaimableCouponsPage(ctx context.Context, shopID, after int64, limit int) ([]Coupon, error) {
	out, err := db.All(ctx, s.db, scanCoupon, `SELECT `+couponColumns+` FROM coupons
		WHERE shop_id = ? AND claimable = TRUE AND disabled_at IS NULL AND issued < total_quantity AND (valid_until IS NULL OR valid_until > ?)
		AND id < ? ORDER BY id DESC LIMIT ?`, shopID, s.now().UnixMilli(), below(after), limit+1)
	return out, errs.Wrap("coupons", err)
}

// TimedDiscountsPage lists the shop's time-limited prices not ended yet,
// soonest start first (ties: oldest id first), after the position after
// (TimedKeys of the previous page's last item; nil = from the start).
func (s *Service) TimedDiscountsPage(ctx context.Context, shopID int64, after []int64, limit int) ([]TimedDiscount, error) {
	starts, id := int64(-1<<62), int64(0)
	if len(after) == 2 {
		starts, id = after[0], after[1]
	}
	out, err := db.All(ctx, s.db, scanTimed, `SELECT `+timedColumns+` FROM timed_discounts
		WHERE shop_id = ? AND ends_at > ? AND (starts_at > ? OR (starts_at = ? AND id > ?))
		ORDER BY starts_at, id LIMIT ?`, shopID, s.now().UnixMilli(), starts, starts, id, limit+1)
	return out, errs.Wrap("timed discounts", err)
}

// TimedKeys are a time-limited price's sort keys in TimedDiscountsPage.
func (t TimedDiscount) TimedKeys() []int64 { return []int64{t.StartsAt.UnixMilli(), t.ID} }
