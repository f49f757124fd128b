package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/tracking"
)

// parcels reads an order's parcels as c sees them.
func (e *env) parcelsOf(c caller, path string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, p := range e.must(c, 200, "GET", path, nil)["parcels"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

func (e *env) pushParcel(shopID int64, form url.Values) response {
	e.t.Helper()
	return e.doWithType(caller{}, "POST", fmt.Sprintf("/webhooks/kuaidi100/%d", shopID), form.Encode(), "application/x-www-form-urlencoded")
}

// TestParcelRouteReachesTheBuyer: shipping an express order subscribes its
// waybill at 快递100 (the sandbox); each push shows on the buyer's and
// staff's parcel view; a forged push, a push sent to another shop and a
// stale push change nothing; a route whose pushes were lost is found by the
// query of quiet parcels; other buyers and shops see nothing.
func TestParcelRouteReachesTheBuyer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.paidShop("甲")
		b := e.paidShop("乙")
		const no = "SF1400000000001"
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID), map[string]any{"carrier": "顺丰", "tracking_no": no})
		mine := fmt.Sprintf("/api/v1/orders/%d/parcels", a.orderID)
		p := e.parcelsOf(a.member, mine)
		if len(p) != 1 || p[0]["state"] != "pending" || p[0]["carrier_name"] != "顺丰速运" || len(p[0]["route"].([]any)) != 0 {
			t.Fatalf("right after shipping: %v", p)
		}
		if err := e.parcels.Advance(ctx, "shunfeng", no); err == nil {
			t.Fatal("the sandbox pushed a waybill nobody subscribed to yet")
		}
		e.runDueJobs(tracking.SubscribeKind)
		for i := 0; i < 2; i++ {
			if err := e.parcels.Advance(ctx, "shunfeng", no); err != nil {
				t.Fatalf("push %d: %v", i+1, err)
			}
		}
		p = e.parcelsOf(a.member, mine)
		events := p[0]["route"].([]any)
		if p[0]["state"] != "in_transit" || len(events) != 2 || !strings.Contains(events[0].(map[string]any)["context"].(string), "发往") {
			t.Fatalf("after two pushes: %v", p)
		}
		staff := e.parcelsOf(a.owner, fmt.Sprintf("/admin/api/v1/orders/%d/parcels", a.orderID))
		if fmt.Sprint(staff) != fmt.Sprint(p) {
			t.Fatalf("staff see %v, the buyer %v", staff, p)
		}

		// Forged, misdirected and stale pushes change nothing.
		sent := e.parcels.Sent()
		forged := url.Values{"param": {sent[1].Get("param")}, "sign": {"00000000000000000000000000000000"}}
		if r := e.pushParcel(a.id, forged); r.status != 403 {
			t.Fatalf("forged push: %d %s", r.status, r.body)
		}
		if r := e.pushParcel(b.id, sent[1]); r.status != 403 {
			t.Fatalf("A's push sent to B's URL: %d %s", r.status, r.body)
		}
		if err := e.parcels.Advance(ctx, "shunfeng", no); err != nil {
			t.Fatal(err)
		}
		if r := e.pushParcel(a.id, sent[0]); r.status != 200 || !strings.Contains(r.String(), `"result":true`) {
			t.Fatalf("a stale push is acknowledged: %d %s", r.status, r.body)
		}
		if p = e.parcelsOf(a.member, mine); len(p[0]["route"].([]any)) != 3 {
			t.Fatalf("a stale push rolled the route back: %v", p)
		}
		if r := e.pushParcel(a.id, url.Values{"param": {"{not json"}, "sign": {"x"}}); r.status != 403 {
			t.Fatalf("garbage push: %d %s", r.status, r.body)
		}

		// Pushes lost for good: the hourly query of quiet parcels finds the route.
		for i := 0; i < 2; i++ {
			if err := e.parcels.Lose("shunfeng", no); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.srv.DB.Exec(ctx, `UPDATE parcel_traces SET checked_at = checked_at - 7 * 3600000 WHERE order_id = ?`, a.orderID); err != nil {
			t.Fatal(err)
		}
		e.runDueJobs(tracking.RefreshKind)
		p = e.parcelsOf(a.member, mine)
		if p[0]["state"] != "signed" || len(p[0]["route"].([]any)) != 5 {
			t.Fatalf("after the query of a quiet parcel: %v", p)
		}
		body, _ := json.Marshal(p)
		if strings.Contains(string(body), "138") && strings.Contains(string(body), "phone") {
			t.Fatalf("the parcel view carries a phone field: %s", body)
		}

		// Nobody else sees A's parcels.
		if r := e.do(b.member, "GET", mine, nil); r.status != 404 {
			t.Fatalf("B's buyer read A's parcels: %d %s", r.status, r.body)
		}
		if r := e.do(b.owner, "GET", fmt.Sprintf("/admin/api/v1/orders/%d/parcels", a.orderID), nil); r.status != 404 {
			t.Fatalf("B's owner read A's parcels: %d %s", r.status, r.body)
		}
		if got := e.parcelsOf(b.member, fmt.Sprintf("/api/v1/orders/%d/parcels", b.orderID)); len(got) != 0 {
			t.Fatalf("B's unshipped order has parcels: %v", got)
		}
	})
}

// TestCarrierList: staff get the carrier codes page by page.
func TestCarrierList(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "甲", "enterprise")
		first := e.must(a.owner, 200, "GET", "/admin/api/v1/carriers?limit=5", nil)
		items := first["items"].([]any)
		if len(items) != 5 || items[0].(map[string]any)["code"] != "SF" || first["next_cursor"] == nil {
			t.Fatalf("first page: %v", first)
		}
		all := e.mustList(a.owner, "/admin/api/v1/carriers?limit=100")
		if len(all) < 10 {
			t.Fatalf("only %d carriers", len(all))
		}
	})
}
