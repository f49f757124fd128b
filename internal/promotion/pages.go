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
