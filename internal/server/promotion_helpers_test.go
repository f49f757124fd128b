package server_test

import (
	"context"
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

// newDeal adds a group-buying deal on shop a's SKU: 2 people ¥99, 3 people
// ¥79, 4 people ¥59, groups of 30 minutes.
func (e *env) newDeal(a testShop, title string, allowVirtual bool) int64 {
	e.t.Helper()
	d := e.must(a.owner, 201, "POST", "/admin/api/v1/group-deals", map[string]any{"sku_id": a.skuID, "title": title,
		"tiers":            []map[string]any{{"size": 2, "price": 9900}, {"size": 3, "price": 7900}, {"size": 4, "price": 5900}},
		"duration_minutes": 30, "allow_virtual": allowVirtual,
		"starts_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano), "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)})
	return int64(d["id"].(float64))
}

// openGroup opens a group of deal as buyer; it returns the group and the order.
func (e *env) openGroup(buyer caller, dealID int64, key string) (groupID, orderID int64) {
	e.t.Helper()
	r := e.withHeader("Idempotency-Key", key).do(buyer, "POST", "/api/v1/orders", map[string]any{"group_deal_id": dealID, "address": testAddress})
	if r.status != 201 {
		e.t.Fatalf("open group: %d %s", r.status, r.body)
	}
	o := r.json(e.t)
	return int64(o["group_id"].(float64)), int64(o["id"].(float64))
}

// joinGroup joins a group as buyer and returns the order.
func (e *env) joinGroup(buyer caller, groupID int64, key string) int64 {
	e.t.Helper()
	r := e.withHeader("Idempotency-Key", key).do(buyer, "POST", "/api/v1/orders", map[string]any{"group_id": groupID, "address": testAddress})
	if r.status != 201 {
		e.t.Fatalf("join group: %d %s", r.status, r.body)
	}
	return int64(r.json(e.t)["id"].(float64))
}

// enableDistribution turns distribution on for shop a: 10% level one, 5%
// level two, 7-day after-sales window, 30-day binding.
func (e *env) enableDistribution(a testShop, extra map[string]any) {
	e.t.Helper()
	body := map[string]any{"enabled": true, "binding_days": 30, "level1_rate_bp": 1000, "level2_rate_bp": 500, "settle_days": 7}
	for k, v := range extra {
		body[k] = v
	}
	e.must(a.owner, 200, "PUT", "/admin/api/v1/distribution/settings", body)
}

// promoterWithWithdrawal makes shop a's buyer a promoter with 50 yuan
// available and a withdrawal of 20 yuan requested.
func (e *env) promoterWithWithdrawal(a testShop) (promoterID, withdrawalID int64) {
	e.t.Helper()
	e.enableDistribution(a, nil)
	p := e.must(a.member, 200, "POST", "/api/v1/me/promoter", nil)
	promoterID = int64(p["id"].(float64))
	if _, err := e.srv.DB.Exec(context.Background(), `UPDATE promoters SET available = 5000 WHERE id = ?`, promoterID); err != nil {
		e.t.Fatal(err)
	}
	w := e.must(a.member, 201, "POST", "/api/v1/me/withdrawals", map[string]any{"amount": 2000})
	return promoterID, int64(w["id"].(float64))
}
