package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// TestDomainsRecordServerEventsAndStaffReadFunnels: a signup, a check-in,
// an order placed, paid and refunded each write their server event (the
// hooks run in the change's transaction); a client batch over HTTP is
// stored; the bitmaps pick them up and staff read a funnel, a retention
// grid and the unknown names, each shop only its own.
func TestDomainsRecordServerEventsAndStaffReadFunnels(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "析", "enterprise")
		other := e.newShop(op, "他", "enterprise")
		e.setStock(a, 10)
		e.enablePay(op, a, paysandbox.KeyModePublicKey)
		buyer, buyerID := e.memberLogin(a.appid, "events-buyer")
		res := e.must(buyer, 200, "POST", "/api/v1/events", map[string]any{"events": []any{
			map[string]any{"event_id": "events-http-1", "name": "product_view", "page": "pages/product"},
			map[string]any{"event_id": "events-http-2", "name": "mystery_tap"},
			map[string]any{"event_id": "events-http-3", "name": "order_paid"}}})
		if res["accepted"].(float64) != 2 || len(res["rejected"].([]any)) != 1 {
			t.Fatalf("batch: %v", res)
		}
		e.must(buyer, 200, "POST", "/api/v1/me/checkin", nil)
		order := e.buyNow(buyer, a.skuID, 1)
		e.payOrder(a, buyer, order)
		e.refundInFull(a, order)

		ctx := context.Background()
		for _, name := range []string{"signup", "checkin", "order_paid", "order_refunded", "product_view"} {
			var n int
			if err := e.srv.DB.QueryRow(ctx, `SELECT COUNT(*) FROM analytics_events WHERE shop_id = ? AND member_id = ? AND name = ?`,
				a.id, buyerID, name).Scan(&n); err != nil || n != 1 {
				t.Errorf("%s: %d rows (%v), want 1", name, n, err)
			}
		}
		if err := e.srv.Events.Index().Sync(ctx); err != nil {
			t.Fatal(err)
		}
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		funnel := map[string]any{"steps": []string{"product_view", "checkin", "order_paid"}, "window_seconds": 3600, "from": today, "to": today}
		f := e.must(a.owner, 200, "POST", "/admin/api/v1/analytics/funnels", funnel)
		steps := f["steps"].([]any)
		if f["entered"].(float64) != 1 || steps[2].(map[string]any)["reached"].(float64) != 1 {
			t.Fatalf("funnel: %v", f)
		}
		if f := e.must(other.owner, 200, "POST", "/admin/api/v1/analytics/funnels", funnel); f["entered"].(float64) != 0 {
			t.Fatalf("another shop sees the funnel: %v", f)
		}
		// The cohort: the shop's first member (newShop) and buyer; today's cell not yet elapsed.
		g := e.must(a.owner, 200, "GET", "/admin/api/v1/analytics/retention?cohort_event=signup&return_event=checkin&from="+today+"&to="+today+"&periods=3", nil)
		if c := g["cohorts"].([]any)[0].(map[string]any); c["size"].(float64) != 2 || c["counts"].([]any)[0] != nil {
			t.Fatalf("retention: %v", g)
		}
		u := e.must(a.owner, 200, "GET", "/admin/api/v1/analytics/unknown-events", nil)
		if items := u["items"].([]any); len(items) != 1 || items[0].(map[string]any)["name"] != "mystery_tap" {
			t.Fatalf("unknown names: %v", u)
		}
		if u := e.must(other.owner, 200, "GET", "/admin/api/v1/analytics/unknown-events", nil); len(u["items"].([]any)) != 0 {
			t.Fatalf("another shop sees the unknown names: %v", u)
		}
		e.must(a.owner, 400, "POST", "/admin/api/v1/analytics/funnels", map[string]any{"steps": make([]string, 30), "window_seconds": 60, "from": today, "to": today})
		e.must(a.owner, 400, "POST", "/admin/api/v1/analytics/funnels", map[string]any{"steps": []string{"a", "b"}, "window_seconds": -1, "from": today, "to": today})
	})
}
