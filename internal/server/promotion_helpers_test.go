package server_test

import (
	"time"
)

// newSale puts qty units of shop a's SKU on a flash sale from start for an hour.
func (e *env) newSale(a testShop, title string, qty int, start time.Time) int64 {
	e.t.Helper()
	s := e.must(a.owner, 201, "POST", "/admin/api/v1/flash-sales", map[string]any{"sku_id": a.skuID, "title": title,
		"price": 4900, "quantity": qty, "per_user_limit": 1, "pay_minutes": 5,
		"starts_at": start.UTC().Format(time.RFC3339Nano), "ends_at": start.Add(time.Hour).UTC().Format(time.RFC3339Nano)})
	return int64(s["id"].(float64))
}

// newCoupon adds a 满减 coupon (¥10 off ¥50) to shop a, valid for 7 days after claiming.
func (e *env) newCoupon(a testShop, name string, claimable bool) int64 {
	e.t.Helper()
	c := e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": name, "kind": "amount",
		"amount": 1000, "threshold": 5000, "scope": "all", "valid_days": 7, "total_quantity": 100, "per_user_limit": 1,
		"claimable": claimable})
	return int64(c["id"].(float64))
}
