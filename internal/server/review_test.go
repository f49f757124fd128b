package server_test

import (
	"fmt"
	"testing"
)

// TestReviewsOnlyFromBuyersOfTheProduct: a review names a product and
// its author must have paid for it. Before, anyone could review anything.
func TestReviewsOnlyFromBuyersOfTheProduct(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "评", "enterprise")
		review := func(buyer caller, target string) response {
			return e.do(buyer, "POST", "/api/v1/contents", map[string]any{"kind": "review", "target": target, "text": "质量很好"})
		}
		product := fmt.Sprintf("product:%d", a.productID)
		// a.member has an unpaid order of the product: not yet a buyer.
		if r := review(a.member, product); r.status != 403 || r.code() != "not_a_buyer" {
			t.Fatalf("review with an unpaid order: %d %s", r.status, r.body)
		}
		stranger, _ := e.memberLogin(a.appid, "openid-stranger")
		if r := review(stranger, product); r.status != 403 || r.code() != "not_a_buyer" {
			t.Fatalf("review by someone who never ordered: %d %s", r.status, r.body)
		}
		for _, target := range []string{"", "course:1", "product:x", "product:0"} {
			if r := review(a.member, target); r.status != 400 {
				t.Fatalf("review of %q: %d %s", target, r.status, r.body)
			}
		}
		// A paid order (fully discounted: paid at once) makes a buyer.
		c := e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "全免", "kind": "amount",
			"amount": 100000, "scope": "all", "valid_days": 3, "total_quantity": 10, "claimable": true})
		w := e.claimCoupon(a.member, int64(c["id"].(float64)))
		e.withHeader("Idempotency-Key", "review-order-1").must(a.member, 201, "POST", "/api/v1/orders", map[string]any{
			"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "member_coupon_id": w, "address": testAddress})
		if r := review(a.member, product); r.status != 201 {
			t.Fatalf("review by a buyer: %d %s", r.status, r.body)
		}
		other := e.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "另一件", true))
		if r := review(a.member, fmt.Sprintf("product:%d", int64(other["id"].(float64)))); r.status != 403 {
			t.Fatalf("review of a product not bought: %d %s", r.status, r.body)
		}
		// Comments are not reviews: anyone may comment.
		if r := e.do(stranger, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": product, "text": "好看"}); r.status != 201 {
			t.Fatalf("a comment: %d %s", r.status, r.body)
		}
	})
}
