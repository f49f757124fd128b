package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func (e *env) claimCoupon(buyer caller, couponID int64) int64 {
	e.t.Helper()
	w := e.must(buyer, 201, "POST", fmt.Sprintf("/api/v1/coupons/%d/claim", couponID), nil)
	return int64(w["id"].(float64))
}

func (e *env) walletStatus(buyer caller, id int64) string {
	e.t.Helper()
	for _, w := range e.mustList(buyer, "/api/v1/me/coupons") {
		if int64(w["id"].(float64)) == id {
			return w["status"].(string)
		}
	}
	e.t.Fatalf("wallet coupon %d not found", id)
	return ""
}

func TestCouponCheckoutAllocatesAndComesBackOnCancel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		small := e.newCoupon(a, "满50减10", true)
		big := e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "8折券", "kind": "percent",
			"rate_bp": 8000, "cap": 3000, "scope": "products", "scope_ids": []int64{a.productID}, "valid_days": 3,
			"total_quantity": 10, "claimable": true})
		w1 := e.claimCoupon(a.member, small)
		w2 := e.claimCoupon(a.member, int64(big["id"].(float64)))

		// Two units at ¥99: 8折 saves ¥39.60, capped at ¥30; 满50减10 saves ¥10.
		items := []map[string]any{{"sku_id": a.skuID, "quantity": 2}}
		pv := e.must(a.member, 200, "POST", "/api/v1/orders/preview", map[string]any{"items": items})
		coupons := pv["coupons"].([]any)
		first := coupons[0].(map[string]any)
		if int64(first["member_coupon_id"].(float64)) != w2 || first["saving"].(float64) != 3000 || first["suggested"] != true {
			t.Fatalf("best coupon = %v", coupons)
		}
		// The suggestion is priced on its own; the payable total is what this
		// body (no coupon) would be charged.
		if pv["member_coupon_id"].(float64) != 0 || pv["total"].(float64) != 19800 || pv["breakdown"].(map[string]any)["total"].(float64) != 19800 {
			t.Fatalf("preview without a coupon: %v", pv)
		}
		if sg := pv["suggested_coupon"].(map[string]any); int64(sg["member_coupon_id"].(float64)) != w2 || sg["total"].(float64) != 19800-3000 {
			t.Fatalf("suggested coupon: %v", pv["suggested_coupon"])
		}

		r := e.withHeader("Idempotency-Key", "coupon-order-1").do(a.member, "POST", "/api/v1/orders",
			map[string]any{"items": items, "member_coupon_id": w1, "address": testAddress})
		if r.status != 201 {
			t.Fatalf("order with coupon: %d %s", r.status, r.body)
		}
		o := r.json(t)
		if o["total_amount"].(float64) != 18800 || o["discount_amount"].(float64) != 1000 {
			t.Fatalf("order amounts: total %v discount %v", o["total_amount"], o["discount_amount"])
		}
		if line := o["lines"].([]any)[0].(map[string]any); line["discount"].(float64) != 1000 {
			t.Fatalf("the discount is allocated to the line: %v", line)
		}
		if o["breakdown"].(map[string]any)["coupon_discount"].(float64) != 1000 {
			t.Fatalf("breakdown snapshot: %v", o["breakdown"])
		}
		orderID := int64(o["id"].(float64))
		if got := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/orders/%d", orderID), nil); got["breakdown"] == nil || got["lines"].([]any)[0].(map[string]any)["discount"].(float64) != 1000 {
			t.Fatalf("the stored order keeps the snapshot: %v", got)
		}
		if s := e.walletStatus(a.member, w1); s != "used" {
			t.Fatalf("coupon after checkout: %s", s)
		}
		r = e.withHeader("Idempotency-Key", "coupon-order-2").do(a.member, "POST", "/api/v1/orders",
			map[string]any{"items": items, "member_coupon_id": w1, "address": testAddress})
		if r.status != 409 || r.code() != "coupon_used" {
			t.Fatalf("a used coupon again: %d %s", r.status, r.body)
		}
		if res := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/coupons/%d/results", small), nil); res["orders"].(float64) != 1 || res["paid_orders"].(float64) != 0 {
			t.Fatalf("coupon results: %v", res)
		}
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", orderID), map[string]any{})
		if s := e.walletStatus(a.member, w1); s != "unused" {
			t.Fatalf("coupon after the order was cancelled: %s", s)
		}
	})
}

func TestCouponUsedOnceUnderConcurrentCheckouts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.setStock(a, 100)
		w := e.claimCoupon(a.member, e.newCoupon(a, "满50减10", true))
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int]int{}
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.withHeader("Idempotency-Key", fmt.Sprintf("race-coupon-%02d", i)).do(a.member, "POST", "/api/v1/orders",
					map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}}, "member_coupon_id": w, "address": testAddress})
				mu.Lock()
				got[r.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if got[201] != 1 || got[409] != 11 {
			t.Fatalf("12 checkouts with one coupon: %v, want one 201 and eleven 409", got)
		}
		var withCoupon int
		e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM orders WHERE coupon_id = ?`, w).Scan(&withCoupon)
		if withCoupon != 1 {
			t.Fatalf("%d orders used the coupon", withCoupon)
		}
	})
}

func TestCouponLimitsHoldUnderConcurrentClaims(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		c := e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "限量券", "kind": "amount",
			"amount": 500, "scope": "all", "valid_days": 1, "total_quantity": 5, "per_user_limit": 2, "claimable": true})
		id := int64(c["id"].(float64))
		claim := func(buyers []caller) map[int]int {
			var wg sync.WaitGroup
			var mu sync.Mutex
			got := map[int]int{}
			for _, b := range buyers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := e.do(b, "POST", fmt.Sprintf("/api/v1/coupons/%d/claim", id), nil)
					mu.Lock()
					got[r.status]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			return got
		}
		// One buyer, 8 simultaneous claims, limit 2.
		same := make([]caller, 8)
		for i := range same {
			same[i] = a.member
		}
		if got := claim(same); got[201] != 2 {
			t.Fatalf("one buyer's claims: %v, want two 201", got)
		}
		// 10 other buyers for the 3 left.
		var others []caller
		for i := range 10 {
			b, _ := e.memberLogin(a.appid, fmt.Sprintf("coupon-buyer-%d", i))
			others = append(others, b)
		}
		if got := claim(others); got[201] != 3 || got[410] != 7 {
			t.Fatalf("10 buyers for 3 coupons: %v", got)
		}
		if got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/coupons/%d", id), nil); got["issued"].(float64) != 5 {
			t.Fatalf("issued = %v", got["issued"])
		}
	})
}

func TestCouponsGivenByStaffAndToNewBuyers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		staffOnly := e.newCoupon(a, "客服补偿券", false)
		if r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/coupons/%d/claim", staffOnly), nil); r.status != 403 || r.code() != "coupon_not_claimable" {
			t.Fatalf("claiming a staff-only coupon: %d %s", r.status, r.body)
		}
		e.must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/coupons/%d/grant", staffOnly), map[string]any{"member_id": a.memberID})
		if len(e.mustList(a.member, "/api/v1/me/coupons")) != 1 {
			t.Fatal("the granted coupon is not in the wallet")
		}
		e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "新人券", "kind": "shipping",
			"scope": "all", "valid_days": 30, "total_quantity": 1000, "auto_rule": "new_member"})
		newcomer, _ := e.memberLogin(a.appid, "brand-new-buyer")
		wallet := e.mustList(newcomer, "/api/v1/me/coupons")
		if len(wallet) != 1 || wallet[0]["name"] != "新人券" || wallet[0]["source"] != "rule" {
			t.Fatalf("a new buyer's wallet: %v", wallet)
		}
		again, _ := e.memberLogin(a.appid, "brand-new-buyer")
		if len(e.mustList(again, "/api/v1/me/coupons")) != 1 {
			t.Fatal("a returning buyer got the new-member coupon again")
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/coupons/%d/disable", staffOnly), nil)
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/coupons/%d/grant", staffOnly), map[string]any{"member_id": a.memberID}); r.status != 410 {
			t.Fatalf("granting a disabled coupon: %d %s", r.status, r.body)
		}
		for _, bad := range []map[string]any{
			{"name": "x", "kind": "percent", "rate_bp": 12000, "scope": "all", "valid_days": 1, "total_quantity": 1},
			{"name": "x", "kind": "amount", "amount": -5, "scope": "all", "valid_days": 1, "total_quantity": 1},
			{"name": "x", "kind": "amount", "amount": 5, "scope": "products", "valid_days": 1, "total_quantity": 1},
			{"name": "x", "kind": "amount", "amount": 5, "scope": "all", "total_quantity": 1},
		} {
			if r := e.do(a.owner, "POST", "/admin/api/v1/coupons", bad); r.status != 400 {
				t.Errorf("bad coupon %v: %d %s", bad, r.status, r.body)
			}
		}
	})
}

func TestTimedDiscountPricesCheckout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		now := time.Now()
		if r := e.do(a.owner, "POST", "/admin/api/v1/timed-discounts", map[string]any{"sku_id": a.skuID, "title": "涨价", "price": 10000,
			"starts_at": now.Add(-time.Minute).UTC().Format(time.RFC3339), "ends_at": now.Add(time.Hour).UTC().Format(time.RFC3339)}); r.status != 400 {
			t.Fatalf("a 'discount' above the price: %d %s", r.status, r.body)
		}
		e.must(a.owner, 201, "POST", "/admin/api/v1/timed-discounts", map[string]any{"sku_id": a.skuID, "title": "限时8折", "price": 7920,
			"starts_at": now.Add(-time.Minute).UTC().Format(time.RFC3339), "ends_at": now.Add(time.Hour).UTC().Format(time.RFC3339)})
		e.must(a.owner, 201, "POST", "/admin/api/v1/timed-discounts", map[string]any{"sku_id": a.skuID, "title": "明天更低", "price": 5000,
			"starts_at": now.Add(24 * time.Hour).UTC().Format(time.RFC3339), "ends_at": now.Add(48 * time.Hour).UTC().Format(time.RFC3339)})
		if list := e.mustList(caller{appid: a.appid}, "/api/v1/timed-discounts"); len(list) != 2 {
			t.Fatalf("buyers see running and scheduled discounts: %v", list)
		}
		w := e.claimCoupon(a.member, e.newCoupon(a, "满50减10", true))
		r := e.withHeader("Idempotency-Key", "timed-order-1").do(a.member, "POST", "/api/v1/orders",
			map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 2}}, "member_coupon_id": w, "address": testAddress})
		if r.status != 201 {
			t.Fatalf("order: %d %s", r.status, r.body)
		}
		o := r.json(t)
		line := o["lines"].([]any)[0].(map[string]any)
		bd := o["breakdown"].(map[string]any)
		if line["unit_price"].(float64) != 7920 || line["original_price"].(float64) != 9900 || bd["promo_discount"].(float64) != 3960 ||
			bd["coupon_discount"].(float64) != 1000 || o["total_amount"].(float64) != 2*7920-1000 {
			t.Fatalf("time-limited price, then the coupon: line %v breakdown %v total %v", line, bd, o["total_amount"])
		}
	})
}

func TestBirthdayCouponsOnceAYear(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.must(a.owner, 201, "POST", "/admin/api/v1/coupons", map[string]any{"name": "生日券", "kind": "amount", "amount": 2000,
			"scope": "all", "valid_days": 7, "total_quantity": 100, "auto_rule": "birthday"})
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("01-02")
		for _, bad := range []string{"13-01", "02-30", "7-1", "0721"} {
			if r := e.do(a.member, "PUT", "/api/v1/me/birthday", map[string]any{"birthday": bad}); r.status != 400 {
				t.Errorf("birthday %q: %d %s", bad, r.status, r.body)
			}
		}
		if me := e.must(a.member, 200, "PUT", "/api/v1/me/birthday", map[string]any{"birthday": today}); me["birthday"] != today {
			t.Fatalf("birthday not kept: %v", me)
		}
		other, _ := e.memberLogin(a.appid, "not-today")
		notToday := "01-01"
		if today == notToday {
			notToday = "01-02"
		}
		e.must(other, 200, "PUT", "/api/v1/me/birthday", map[string]any{"birthday": notToday})
		for range 2 {
			if _, err := e.srv.Promos.GiveBirthdayCoupons(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if w := e.mustList(a.member, "/api/v1/me/coupons"); len(w) != 1 || w[0]["name"] != "生日券" {
			t.Fatalf("the birthday buyer's wallet: %v", w)
		}
		if w := e.mustList(other, "/api/v1/me/coupons"); len(w) != 0 {
			t.Fatalf("another buyer got a birthday coupon: %v", w)
		}
	})
}
