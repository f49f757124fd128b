package sandbox_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// payments is a fixed set of paid orders, by transaction id.
type payments map[string]paysandbox.PaidOrder

func (p payments) PaidOrder(txID, mchid, outTradeNo string) (paysandbox.PaidOrder, bool) {
	if txID != "" {
		o, ok := p[txID]
		return o, ok
	}
	for _, o := range p {
		if o.MchID == mchid && o.OutTradeNo == outTradeNo {
			return o, true
		}
	}
	return paysandbox.PaidOrder{}, false
}

const shipPath = "/wxa/sec/order/upload_shipping_info"

func (e *env) shippingEnv(t *testing.T) (tok string, paidAt time.Time) {
	t.Helper()
	paidAt = e.clock.Now().Add(-time.Hour)
	e.sb.UsePayments(payments{
		"4200000001": {AppID: appID, MchID: "1900000109", OutTradeNo: "K0001", TransactionID: "4200000001", OpenID: "oBuyer", Total: 9900, PaidAt: paidAt},
		"4200000002": {AppID: appID, MchID: "1900000109", OutTradeNo: "K0002", TransactionID: "4200000002", OpenID: "oBuyer", Total: 9900, Refunded: 9900, PaidAt: paidAt},
		"4200000003": {AppID: "wxother", MchID: "1900000109", OutTradeNo: "K0003", TransactionID: "4200000003", OpenID: "oBuyer", Total: 9900, PaidAt: paidAt},
	})
	tok, code := e.stable(t, false)
	if code != 0 {
		t.Fatalf("token: %d", code)
	}
	return tok, paidAt
}

// express is a valid express upload for transaction 4200000001.
func (e *env) express(item map[string]any) map[string]any {
	it := map[string]any{"tracking_no": "SF1234567890", "express_company": "SF", "item_desc": "连衣裙 红 M ×1",
		"contact": map[string]any{"receiver_contact": "138****8000"}}
	for k, v := range item {
		if v == nil {
			delete(it, k)
		} else {
			it[k] = v
		}
	}
	return map[string]any{
		"order_key":      map[string]any{"order_number_type": 2, "transaction_id": "4200000001"},
		"logistics_type": 1, "delivery_mode": 1, "shipping_list": []any{it},
		"upload_time": e.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04:05.000-07:00"),
		"payer":       map[string]any{"openid": "oBuyer"},
	}
}

func (e *env) ship(t *testing.T, tok string, body map[string]any) int {
	t.Helper()
	_, code := e.api(t, http.MethodPost, shipPath+"?access_token="+tok, body)
	return code
}

func TestUploadShippingInfoValidates(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.shippingEnv(t)
	with := func(mutate func(b map[string]any)) map[string]any {
		b := e.express(nil)
		mutate(b)
		return b
	}
	cases := []struct {
		name string
		body map[string]any
		want int
	}{
		{"order_number_type", with(func(b map[string]any) { b["order_key"] = map[string]any{"order_number_type": 3} }), 268485194},
		{"no transaction_id", with(func(b map[string]any) { b["order_key"] = map[string]any{"order_number_type": 2, "transaction_id": ""} }), 268485195},
		{"no mchid", with(func(b map[string]any) {
			b["order_key"] = map[string]any{"order_number_type": 1, "out_trade_no": "K0001"}
		}), 268485196},
		{"logistics_type 0", with(func(b map[string]any) { b["logistics_type"] = 0 }), 10060005},
		{"logistics_type 5", with(func(b map[string]any) { b["logistics_type"] = 5 }), 10060005},
		{"delivery_mode", with(func(b map[string]any) { b["delivery_mode"] = 3 }), 268485224},
		{"split virtual", with(func(b map[string]any) { b["logistics_type"], b["delivery_mode"], b["is_all_delivered"] = 3, 2, true }), 10060006},
		{"split without is_all_delivered", with(func(b map[string]any) { b["delivery_mode"] = 2 }), 10060007},
		{"unified with two packages", with(func(b map[string]any) {
			b["shipping_list"] = append(b["shipping_list"].([]any), b["shipping_list"].([]any)[0])
		}), 268485228},
		{"no tracking_no", e.express(map[string]any{"tracking_no": nil}), 268485226},
		{"empty tracking_no", e.express(map[string]any{"tracking_no": ""}), 268485226},
		{"no express_company", e.express(map[string]any{"express_company": nil}), 268485227},
		{"unknown express_company", e.express(map[string]any{"express_company": "火星快递"}), 10060014},
		{"no item_desc", e.express(map[string]any{"item_desc": ""}), 10060008},
		{"item_desc 121", e.express(map[string]any{"item_desc": strings.Repeat("裙", 121)}), 10060009},
		{"SF without contact", e.express(map[string]any{"contact": nil}), 10060014},
		{"SF with an unmasked contact", e.express(map[string]any{"contact": map[string]any{"receiver_contact": "13800138000"}}), 10060014},
		{"bad upload_time", with(func(b map[string]any) { b["upload_time"] = "2025-03-01 08:00:00" }), 268485216},
		{"no payer", with(func(b map[string]any) { b["payer"] = map[string]any{"openid": ""} }), 10060014},
		{"unknown order", with(func(b map[string]any) {
			b["order_key"] = map[string]any{"order_number_type": 2, "transaction_id": "4209999999"}
		}), 10060001},
		{"another app's order", with(func(b map[string]any) {
			b["order_key"] = map[string]any{"order_number_type": 2, "transaction_id": "4200000003"}
		}), 10060001},
		{"another payer", with(func(b map[string]any) { b["payer"] = map[string]any{"openid": "oSomeoneElse"} }), 10060031},
		{"refunded", with(func(b map[string]any) {
			b["order_key"] = map[string]any{"order_number_type": 2, "transaction_id": "4200000002"}
		}), 10060004},
	}
	for _, c := range cases {
		if got := e.ship(t, tok, c.body); got != c.want {
			t.Errorf("%s: errcode %d, want %d", c.name, got, c.want)
		}
	}
	if got := e.ship(t, "bad-token", e.express(nil)); got != 40001 {
		t.Errorf("bad token: %d", got)
	}
	if n := len(e.sb.ShippingUploads(appID)); n != 0 {
		t.Fatalf("%d uploads recorded from invalid requests", n)
	}
}

func TestUploadShippingInfoRecordsAndReships(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.shippingEnv(t)
	first := e.express(nil)
	if code := e.ship(t, tok, first); code != 0 {
		t.Fatalf("valid upload: errcode %d", code)
	}
	ups := e.sb.ShippingUploads(appID)
	if len(ups) != 1 || ups[0].TransactionID != "4200000001" || ups[0].LogisticsType != 1 || ups[0].Items[0].TrackingNo != "SF1234567890" ||
		ups[0].Items[0].ExpressCompany != "SF" || ups[0].Items[0].ReceiverContact != "138****8000" || ups[0].PayerOpenID != "oBuyer" || ups[0].Reship {
		t.Fatalf("recorded %+v", ups)
	}
	// The same shipment again (a retry): "already shipped".
	e.clock.Advance(time.Second)
	if code := e.ship(t, tok, e.express(nil)); code != 10060002 {
		t.Fatalf("the same upload again: %d", code)
	}
	// A changed shipment uses the one re-ship chance; upload_time must increase.
	if code := e.ship(t, tok, first); code != 10060002 {
		t.Fatalf("an identical upload with an old time: %d", code)
	}
	stale := e.express(map[string]any{"tracking_no": "SF0000000001"})
	stale["upload_time"] = first["upload_time"]
	if code := e.ship(t, tok, stale); code != 268485216 {
		t.Fatalf("a re-ship with an old upload_time: %d", code)
	}
	if code := e.ship(t, tok, e.express(map[string]any{"tracking_no": "SF0000000001"})); code != 0 {
		t.Fatalf("re-ship: %d", code)
	}
	e.clock.Advance(time.Second)
	if code := e.ship(t, tok, e.express(map[string]any{"tracking_no": "SF0000000002"})); code != 10060003 {
		t.Fatalf("a second re-ship: %d", code)
	}
	if ups := e.sb.ShippingUploads(appID); len(ups) != 2 || !ups[1].Reship {
		t.Fatalf("uploads %+v", ups)
	}
	out := e.control(t, "shipping", map[string]any{"appid": appID})
	if n := len(out["uploads"].([]any)); n != 2 {
		t.Fatalf("control lists %d uploads", n)
	}
}

func TestUploadShippingInfoVirtualAndPickup(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.shippingEnv(t)
	body := e.express(map[string]any{"tracking_no": nil, "express_company": nil, "contact": nil})
	body["logistics_type"] = 3
	if code := e.ship(t, tok, body); code != 0 {
		t.Fatalf("virtual goods: %d", code)
	}
	if ups := e.sb.ShippingUploads(appID); len(ups) != 1 || ups[0].LogisticsType != 3 {
		t.Fatalf("uploads %+v", ups)
	}
}

func TestUploadShippingInfoFaults(t *testing.T) {
	e := newEnv(t)
	tok, paidAt := e.shippingEnv(t)
	e.sb.FailNext(shipPath, 10060012)
	if code := e.ship(t, tok, e.express(nil)); code != 10060012 {
		t.Fatalf("injected busy: %d", code)
	}
	e.sb.SetPaymentDelay(e.clock.Now().Sub(paidAt) + time.Minute)
	if code := e.ship(t, tok, e.express(nil)); code != 10060001 {
		t.Fatalf("a payment WeChat does not show yet: %d", code)
	}
	e.sb.SetPaymentDelay(0)
	e.sb.HangNext(shipPath)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := client.Post(e.base+shipPath+"?access_token="+tok, "application/json", strings.NewReader("{}")); err == nil {
		t.Fatal("a hung call answered")
	}
	if n := len(e.sb.ShippingUploads(appID)); n != 0 {
		t.Fatalf("faults recorded %d uploads", n)
	}
	if code := e.ship(t, tok, e.express(nil)); code != 0 {
		t.Fatalf("after the faults: %d", code)
	}
}
