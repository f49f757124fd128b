package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
	"github.com/kaidian/kaidian/internal/tracking"
	"github.com/kaidian/kaidian/internal/wxshipping"
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

// TestSplitShipment: an express order shipped in two packages (2 + 1 units
// of its line) records both, reports one split delivery to WeChat with
// each package's carrier, tracking number and contents, and follows both
// waybills; packages that do not hold the order exactly are refused and
// change nothing.
func TestSplitShipment(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		e.setStock(a, 100)
		id := e.buyNow(a.member, a.skuID, 3)
		if d := e.payWithCerts(a.member, a.appid, id); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", id), nil)
		line := int64(o["lines"].([]any)[0].(map[string]any)["id"].(float64))
		ship := fmt.Sprintf("/admin/api/v1/orders/%d/ship", id)
		parcel := func(carrier, no string, lines ...[2]int64) map[string]any {
			var ls []map[string]any
			for _, l := range lines {
				ls = append(ls, map[string]any{"line_id": l[0], "quantity": l[1]})
			}
			return map[string]any{"carrier": carrier, "tracking_no": no, "lines": ls}
		}
		bad := []struct {
			code string
			body map[string]any
		}{
			{"invalid_fields", map[string]any{"parcels": []any{parcel("顺丰", "SF1400000000021", [2]int64{line, 3})}}},
			{"parcels_mismatch", map[string]any{"parcels": []any{parcel("顺丰", "SF1400000000021", [2]int64{line, 2}), parcel("圆通", "YT1400000000022", [2]int64{line, 2})}}},
			{"parcels_mismatch", map[string]any{"parcels": []any{parcel("顺丰", "SF1400000000021", [2]int64{line, 2}), parcel("圆通", "YT1400000000022", [2]int64{line + 999, 1})}}},
			{"invalid_fields", map[string]any{"parcels": []any{parcel("顺丰", "SF1400000000021", [2]int64{line, 2}), parcel("圆通", "SF1400000000021", [2]int64{line, 1})}}},
			{"invalid_fields", map[string]any{"delivery_type": "virtual", "parcels": []any{parcel("顺丰", "SF1400000000021", [2]int64{line, 2}), parcel("圆通", "YT1400000000022", [2]int64{line, 1})}}},
			{"invalid_fields", map[string]any{"parcels": []any{parcel("顺丰", "SF1400000000021", [2]int64{line, 2}), parcel("圆通", "YT1400000000022", [2]int64{line, -1})}}},
		}
		for _, c := range bad {
			r := e.do(a.owner, "POST", ship, c.body)
			if r.status != 400 || !strings.Contains(r.String(), c.code) {
				t.Fatalf("%v: %d %s", c.body, r.status, r.body)
			}
		}
		if st := e.orderStatus(a.owner, id); st != "paid" {
			t.Fatalf("after refused shipments the order is %s", st)
		}
		e.must(a.owner, 200, "POST", ship, map[string]any{"parcels": []any{
			parcel("顺丰", "SF1400000000021", [2]int64{line, 2}), parcel("圆通", "YT1400000000022", [2]int64{line, 1})}})
		o = e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", id), nil)
		ps := o["parcels"].([]any)
		if o["status"] != "shipped" || len(ps) != 2 || o["tracking_no"] != "SF1400000000021" ||
			ps[1].(map[string]any)["lines"].([]any)[0].(map[string]any)["quantity"] != float64(1) {
			t.Fatalf("the shipped order: %v", o)
		}
		if mine := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/orders/%d", id), nil); fmt.Sprint(mine["parcels"]) != fmt.Sprint(ps) {
			t.Fatalf("the buyer sees %v", mine["parcels"])
		}
		e.runDueJobs(wxshipping.UploadKind)
		var split *sandbox.ShippingUpload
		for _, u := range e.sandbox.ShippingUploads(a.appid) {
			if u.DeliveryMode == 2 {
				split = &u
			}
		}
		if split == nil || !split.IsAllDelivered || len(split.Items) != 2 || split.Items[0].ExpressCompany != "SF" ||
			split.Items[1].ExpressCompany != "YTO" || !strings.HasSuffix(split.Items[0].ItemDesc, "×2") ||
			!strings.HasSuffix(split.Items[1].ItemDesc, "×1") || split.Items[1].TrackingNo != "YT1400000000022" {
			t.Fatalf("WeChat's record of the split delivery: %+v", split)
		}
		if st := e.shippingState(a.owner, id); st["state"] != "uploaded" {
			t.Fatalf("shipping report %v", st)
		}
		if got := e.parcelsOf(a.member, fmt.Sprintf("/api/v1/orders/%d/parcels", id)); len(got) != 2 || got[1]["carrier_name"] != "圆通速递" {
			t.Fatalf("followed parcels: %v", got)
		}
	})
}
