package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/wxshipping"
)

const shipAPI = "/wxa/sec/order/upload_shipping_info"

// paidShop is a shop taking WeChat Pay with its first order paid.
func (e *env) paidShop(marker string) testShop {
	e.t.Helper()
	op := e.operator()
	a := e.newShop(op, marker, "enterprise")
	e.enablePay(op, a, paysandbox.KeyModeCertificate)
	if d := e.payWithCerts(a.member, a.appid, a.orderID); !d.Delivered {
		e.t.Fatalf("payment: %+v", d)
	}
	return a
}

func (e *env) shippingState(owner caller, orderID int64) map[string]any {
	e.t.Helper()
	return e.must(owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d/wechat-shipping", orderID), nil)
}

// TestShippingInfoIsUploaded: shipping a WeChat Pay order reports it to
// WeChat through the durable job, with the fields WeChat requires.
func TestShippingInfoIsUploaded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID),
			map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567890"})
		var jobs int
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM jobs WHERE kind = ? AND shop_id = ?`,
			wxshipping.UploadKind, a.id).Scan(&jobs); err != nil || jobs != 1 {
			t.Fatalf("upload jobs after shipping: %d %v", jobs, err)
		}
		e.runDueJobs(wxshipping.UploadKind)
		st := e.shippingState(a.owner, a.orderID)
		if st["state"] != "uploaded" || st["logistics_type"] != float64(1) || st["uploaded_at"] == nil {
			t.Fatalf("shipping state %v", st)
		}
		var txID string
		if err := e.srv.DB.QueryRow(context.Background(), `SELECT transaction_id FROM orders WHERE id = ?`, a.orderID).Scan(&txID); err != nil {
			t.Fatal(err)
		}
		ups := e.sandbox.ShippingUploads(a.appid)
		if len(ups) != 1 {
			t.Fatalf("WeChat holds %d uploads", len(ups))
		}
		u := ups[0]
		it := u.Items[0]
		if u.TransactionID != txID || u.OrderKeyType != 2 || u.LogisticsType != 1 || u.DeliveryMode != 1 || len(u.Items) != 1 ||
			it.TrackingNo != "SF1234567890" || it.ExpressCompany != "SF" || it.ReceiverContact != "138****8000" ||
			!strings.Contains(it.ItemDesc, "甲连衣裙") || u.PayerOpenID != "openid-甲" {
			t.Fatalf("upload %+v", u)
		}
		if at, err := time.Parse(time.RFC3339, u.UploadTime); err != nil || !strings.HasSuffix(u.UploadTime, "+08:00") ||
			time.Since(at).Abs() > time.Minute {
			t.Fatalf("upload_time %q: %v", u.UploadTime, err)
		}
	})
}

// TestShippingUploadRetriesTransientFailures: WeChat busy, then a payment
// it does not show yet: the job retries and uploads once.
func TestShippingUploadRetriesTransientFailures(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		e.sandbox.FailNext(shipAPI, -1)
		e.sandbox.FailNext(shipAPI, 10060012)
		e.sandbox.FailNext(shipAPI, 10060001)
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID),
			map[string]any{"carrier": "YTO", "tracking_no": "YT9876543210"})
		for i := 0; i < 4 && e.shippingState(a.owner, a.orderID)["state"] == "pending"; i++ {
			e.runDueJobs(wxshipping.UploadKind)
		}
		st := e.shippingState(a.owner, a.orderID)
		if st["state"] != "uploaded" || st["attempts"] != float64(4) {
			t.Fatalf("after three transient failures: %v", st)
		}
		if ups := e.sandbox.ShippingUploads(a.appid); len(ups) != 1 || ups[0].Items[0].ExpressCompany != "YTO" {
			t.Fatalf("uploads %+v", ups)
		}
	})
}

// TestShippingUploadDefiniteAnswers: "already shipped" counts as
// uploaded; a refusal is recorded as failed (WeChat's errcode shown to
// staff) without more retries, and staff can retry it.
func TestShippingUploadDefiniteAnswers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		e.sandbox.FailNext(shipAPI, 10060002)
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID),
			map[string]any{"carrier": "中通", "tracking_no": "ZT0000000001"})
		e.runDueJobs(wxshipping.UploadKind)
		if st := e.shippingState(a.owner, a.orderID); st["state"] != "uploaded" {
			t.Fatalf("after 'already shipped': %v", st)
		}

		second := e.buyNow(a.member, a.skuID, 1)
		if d := e.payWithCerts(a.member, a.appid, second); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", second),
			map[string]any{"carrier": "火星快递", "tracking_no": "MARS000001"})
		e.runDueJobs(wxshipping.UploadKind)
		st := e.shippingState(a.owner, second)
		if st["state"] != "failed" || st["errcode"] != float64(10060014) || st["last_error"] == "" || st["attempts"] != float64(1) {
			t.Fatalf("an unknown carrier: %v", st)
		}
		var queued int
		_ = e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = 'queued'`, wxshipping.UploadKind).Scan(&queued)
		if queued != 0 {
			t.Fatalf("a definite refusal left %d jobs queued", queued)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/wechat-shipping/retry", a.orderID), nil); r.status != 409 ||
			r.code() != "shipping_upload_not_failed" {
			t.Fatalf("retrying an uploaded report: %d %s", r.status, r.body)
		}
		e.sandbox.FailNext(shipAPI, 45011)
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/wechat-shipping/retry", second), nil)
		e.runDueJobs(wxshipping.UploadKind)
		if st := e.shippingState(a.owner, second); st["state"] != "pending" || st["errcode"] != float64(45011) {
			t.Fatalf("retry after a rate limit: %v", st)
		}
	})
}

// TestShipVirtualAndPickup: the ship action's delivery type reaches
// WeChat as its logistics type, with only a description.
func TestShipVirtualAndPickup(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID), map[string]any{"delivery_type": "drone"}); r.status != 400 {
			t.Fatalf("unknown delivery type: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID), map[string]any{}); r.status != 400 {
			t.Fatalf("express without a carrier: %d %s", r.status, r.body)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID), map[string]any{"delivery_type": "virtual"})
		second := e.buyNow(a.member, a.skuID, 1)
		if d := e.payWithCerts(a.member, a.appid, second); !d.Delivered {
			t.Fatalf("payment: %+v", d)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", second), map[string]any{"delivery_type": "pickup"})
		e.runDueJobs(wxshipping.UploadKind)
		ups := e.sandbox.ShippingUploads(a.appid)
		if len(ups) != 2 {
			t.Fatalf("uploads %+v", ups)
		}
		types := map[int]bool{}
		for _, u := range ups {
			types[u.LogisticsType] = true
			if it := u.Items[0]; it.TrackingNo != "" || it.ExpressCompany != "" || it.ItemDesc == "" {
				t.Fatalf("a non-express item %+v", it)
			}
		}
		if !types[3] || !types[4] {
			t.Fatalf("logistics types %v, want 3 and 4", types)
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if o["status"] != "shipped" || !strings.Contains(fmt.Sprint(o["events"]), "virtual") {
			t.Fatalf("order %v", o)
		}
	})
}

// TestOrdersNotPaidWithWeChatPayAreNotReported: no upload, a 404 for staff.
func TestOrdersNotPaidWithWeChatPayAreNotReported(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if _, err := e.srv.Orders.MarkPaid(context.Background(), a.id, a.orderID, int64(o["total_amount"].(float64)), ""); err != nil {
			t.Fatal(err)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", a.orderID), map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567"})
		if r := e.do(a.owner, "GET", fmt.Sprintf("/admin/api/v1/orders/%d/wechat-shipping", a.orderID), nil); r.status != 404 ||
			r.code() != "shipping_upload_not_found" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
