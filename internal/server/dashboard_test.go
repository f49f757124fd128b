package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDashboardCountsTodaysOrdersPaymentsAndRefunds(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		b := e.newShop(op, "乙", "enterprise")
		e.buyNow(a.member, a.skuID, 2) // a second, unpaid order
		e.paidOrder(op, a)             // 9900 fen
		e.keyed().must(a.owner, 201, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID), map[string]any{"amount": 1000})

		var d struct {
			Today struct {
				Date                                                    string
				Orders, PaidOrders, GMV, Refunded, PayAttempts, PaySucc int64
				SuccessRate                                             float64
			}
			Last30 struct{ Orders, GMV int64 } `json:"last_30_days"`
			Days   []struct{ Date string }
		}
		r := e.do(a.owner, "GET", "/admin/api/v1/dashboard", nil)
		if r.status != 200 {
			t.Fatalf("dashboard: %d %s", r.status, r.body)
		}
		raw := string(r.body)
		if err := jsonUnmarshal([]byte(strings.NewReplacer(`"paid_orders"`, `"PaidOrders"`, `"pay_attempts"`, `"PayAttempts"`,
			`"pay_succeeded"`, `"PaySucc"`, `"success_rate"`, `"SuccessRate"`).Replace(raw)), &d); err != nil {
			t.Fatal(err)
		}
		if d.Today.Orders != 2 || d.Today.PaidOrders != 1 || d.Today.GMV != 9900 || d.Today.Refunded != 1000 ||
			d.Today.PayAttempts != 1 || d.Today.PaySucc != 1 || d.Today.SuccessRate != 1 {
			t.Fatalf("today: %+v (%s)", d.Today, raw)
		}
		if d.Last30.Orders != 2 || d.Last30.GMV != 9900 || len(d.Days) != 30 || d.Days[29].Date != d.Today.Date {
			t.Fatalf("last 30 days: %+v, %d days", d.Last30, len(d.Days))
		}
		// Shop b's figures hold only its own standing order.
		if m := e.must(b.owner, 200, "GET", "/admin/api/v1/dashboard", nil)["today"].(map[string]any); m["orders"] != float64(1) || m["gmv"] != float64(0) {
			t.Fatalf("shop b sees %v", m)
		}
		// Business days are China's: an order placed at 23:59:59 China time
		// yesterday counts for yesterday, one at 00:00 today for today.
		china := time.FixedZone("CST", 8*3600)
		now := time.Now().In(china)
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, china)
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE orders SET created_at = ? WHERE id = ?`, midnight.UnixMilli()-1, b.orderID); err != nil {
			t.Fatal(err)
		}
		m := e.must(b.owner, 200, "GET", "/admin/api/v1/dashboard", nil)
		days := m["days"].([]any)
		if m["today"].(map[string]any)["orders"] != float64(0) || days[28].(map[string]any)["orders"] != float64(1) ||
			m["last_30_days"].(map[string]any)["orders"] != float64(1) {
			t.Fatalf("an order at 23:59:59 yesterday: today %v, yesterday %v", m["today"], days[28])
		}
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE orders SET created_at = ? WHERE id = ?`, midnight.UnixMilli(), b.orderID); err != nil {
			t.Fatal(err)
		}
		if m := e.must(b.owner, 200, "GET", "/admin/api/v1/dashboard", nil); m["today"].(map[string]any)["orders"] != float64(1) {
			t.Fatalf("an order at 00:00 today: %v", m["today"])
		}
		// Finance may read it; an operator needs a shop.
		if r := e.do(op, "GET", "/admin/api/v1/dashboard", nil); r.status != 400 || r.code() != "shop_required" {
			t.Fatalf("operator without a shop: %d %s", r.status, r.body)
		}
		e.must(caller{token: op.token, shopID: a.id}, 200, "GET", "/admin/api/v1/dashboard", nil)
	})
}
