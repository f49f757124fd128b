package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestRecommendationsThroughTheAPI: views recorded by the product route,
// a model rebuilt by the job a settings change queues, recommendations by
// product and for the buyer, tenancy and bad input; every answer checked
// against /openapi.json.
func TestRecommendationsThroughTheAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish([]string{"GET /api/v1/products/{id}/recommendations", "GET /api/v1/me/recommendations",
			"GET /api/v1/me/recently-viewed", "GET /admin/api/v1/recommendation-settings", "PUT /admin/api/v1/recommendation-settings"})
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		cup := e.must(a.owner, 201, "POST", "/admin/api/v1/products", productBody(a.categoryID, "甲茶杯", true))
		cupID := int64(cup["id"].(float64))
		cupSKU := int64(cup["skus"].([]any)[0].(map[string]any)["id"].(float64))
		recsOf := func(c caller, id int64) []any {
			t.Helper()
			return e.must(c, 200, "GET", fmt.Sprintf("/api/v1/products/%d/recommendations", id), nil)["items"].([]any)
		}
		if got := recsOf(caller{appid: a.appid}, a.productID); len(got) != 0 {
			t.Fatalf("no orders, no model yet: %v", got)
		}

		// The buyer opens the cup: it is in their recently viewed.
		e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/products/%d", cupID), nil)
		viewed := e.must(a.member, 200, "GET", "/api/v1/me/recently-viewed", nil)["items"].([]any)
		if len(viewed) != 1 || int64(viewed[0].(map[string]any)["id"].(float64)) != cupID {
			t.Fatalf("recently viewed: %v", viewed)
		}
		if got := e.must(b.member, 200, "GET", "/api/v1/me/recently-viewed", nil)["items"].([]any); len(got) != 0 {
			t.Fatalf("shop B's buyer sees %v", got)
		}

		// Another buyer pays for the dress and the cup together.
		other, _ := e.memberLogin(a.appid, "openid-甲-2")
		r := e.withHeader("Idempotency-Key", "recs-order-1").must(other, 201, "POST", "/api/v1/orders", map[string]any{
			"items": []map[string]any{{"sku_id": a.skuID, "quantity": 1}, {"sku_id": cupSKU, "quantity": 1}}, "address": testAddress})
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE orders SET status = 'paid', paid_at = ? WHERE id = ?`,
			time.Now().UnixMilli(), int64(r["id"].(float64))); err != nil {
			t.Fatal(err)
		}
		e.must(a.owner, 400, "PUT", "/admin/api/v1/recommendation-settings", map[string]any{"enabled": true, "half_life_days": 30, "top_k": 0, "exclude_bought_days": 30})
		e.must(a.owner, 200, "PUT", "/admin/api/v1/recommendation-settings", map[string]any{"enabled": true, "half_life_days": 30, "top_k": 5, "exclude_bought_days": 30})
		if st := e.must(a.owner, 200, "GET", "/admin/api/v1/recommendation-settings", nil); st["top_k"].(float64) != 5 {
			t.Fatalf("settings: %v", st)
		}
		// The settings change queued a rebuild; the job loop runs it.
		waitFor(t, "the cup recommended with the dress", func() bool {
			got := recsOf(caller{appid: a.appid}, a.productID)
			return len(got) > 0 && got[0].(map[string]any)["source"] == "bought_together" &&
				int64(got[0].(map[string]any)["product"].(map[string]any)["id"].(float64)) == cupID
		})
		// The buyer who bought both lately is not shown the cup with the dress.
		for _, it := range recsOf(other, a.productID) {
			if int64(it.(map[string]any)["product"].(map[string]any)["id"].(float64)) == cupID {
				t.Fatalf("bought lately, still recommended: %v", it)
			}
		}
		// The viewer of the cup is offered the dress.
		mine := e.must(a.member, 200, "GET", "/api/v1/me/recommendations", nil)["items"].([]any)
		if len(mine) == 0 || int64(mine[0].(map[string]any)["product"].(map[string]any)["id"].(float64)) != a.productID {
			t.Fatalf("for the viewer of the cup: %v", mine)
		}

		// Bad input: 4xx with a stable code, the settings unchanged.
		for _, c := range []struct {
			body any
			code string
		}{
			{map[string]any{"enabled": true, "half_life_days": 1e30, "top_k": 5}, "invalid_type"},
			{map[string]any{"enabled": "yes", "half_life_days": 30, "top_k": 5}, "invalid_type"},
			{map[string]any{"enabled": true, "half_life_days": -1, "top_k": 5}, "invalid_fields"},
			{map[string]any{"enabled": true, "half_life_days": 30, "top_k": 5, "exclude_bought_days": 366}, "invalid_fields"},
		} {
			if r := e.do(a.owner, "PUT", "/admin/api/v1/recommendation-settings", c.body); r.status != 400 || r.code() != c.code {
				t.Fatalf("%v: %d %s, want 400 %s", c.body, r.status, r.body, c.code)
			}
		}
		if st := e.must(a.owner, 200, "GET", "/admin/api/v1/recommendation-settings", nil); st["top_k"].(float64) != 5 || st["half_life_days"].(float64) != 30 {
			t.Fatalf("settings changed by bad input: %v", st)
		}
		if r := e.do(a.member, "GET", "/api/v1/products/abc/recommendations", nil); r.status != 400 {
			t.Fatalf("bad id: %d %s", r.status, r.body)
		}

		// Unknown products and other shops' products are not found.
		for _, c := range []caller{{appid: a.appid}, a.member} {
			if r := e.do(c, "GET", "/api/v1/products/999999/recommendations", nil); r.status != 404 || r.code() != "product_not_found" {
				t.Fatalf("unknown product: %d %s", r.status, r.body)
			}
		}
		for _, c := range []caller{{appid: b.appid}, b.member} {
			if r := e.do(c, "GET", fmt.Sprintf("/api/v1/products/%d/recommendations", a.productID), nil); r.status != 404 {
				t.Fatalf("shop A's product from shop B: %d %s", r.status, r.body)
			}
		}
		// B's buyer opening A's product (refused) records nothing.
		e.do(b.member, "GET", fmt.Sprintf("/api/v1/products/%d", cupID), nil)
		if got := e.must(b.member, 200, "GET", "/api/v1/me/recently-viewed", nil)["items"].([]any); len(got) != 0 {
			t.Fatalf("shop B's buyer sees %v", got)
		}
	})
}
