package wechat_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

type onePayment paysandbox.PaidOrder

func (p onePayment) PaidOrder(txID, _, _ string) (paysandbox.PaidOrder, bool) {
	return paysandbox.PaidOrder(p), txID == p.TransactionID
}

func shippingInfo(now time.Time, trackingNo string) wechat.ShippingInfo {
	return wechat.ShippingInfo{
		OrderKey:      wechat.OrderKey{OrderNumberType: wechat.OrderKeyTransactionID, TransactionID: "4200000001"},
		LogisticsType: wechat.LogisticsExpress, DeliveryMode: wechat.DeliveryUnified,
		ShippingList: []wechat.ShippingItem{{TrackingNo: trackingNo, ExpressCompany: "YTO", ItemDesc: "连衣裙 ×1"}},
		UploadTime:   wechat.ShippingTime(now), Payer: wechat.Payer{OpenID: "oBuyer"},
	}
}

func TestUploadShippingInfo(t *testing.T) {
	e := newEnv(t, nil)
	e.sb.UsePayments(onePayment{AppID: testAppID, TransactionID: "4200000001", OpenID: "oBuyer", Total: 100, PaidAt: e.clock.Now().Add(-time.Hour)})
	ctx := context.Background()
	info := shippingInfo(e.clock.Now(), "YT0000000001")
	if !strings.HasSuffix(info.UploadTime, "+08:00") || !strings.Contains(info.UploadTime, ".000") {
		t.Fatalf("upload_time %q", info.UploadTime)
	}

	// No answer: transient.
	e.sb.HangNext("/wxa/sec/order/upload_shipping_info")
	short := wechat.NewClient(e.srv.URL, &http.Client{Timeout: 100 * time.Millisecond}, nil)
	short.SetClock(e.clock.Now)
	if err := short.UploadShippingInfo(ctx, testApp, info); !wechat.IsTransient(err) {
		t.Fatalf("a hung call: %v, want transient", err)
	}
	// A busy WeChat: transient; a rejected token is refreshed once.
	e.sb.FailNext("/wxa/sec/order/upload_shipping_info", 10060019)
	if err := e.client.UploadShippingInfo(ctx, testApp, info); !wechat.IsTransient(err) {
		t.Fatalf("busy: %v", err)
	}
	e.sb.ExpireTokens(testAppID)
	if err := e.client.UploadShippingInfo(ctx, testApp, info); err != nil {
		t.Fatalf("upload: %v", err)
	}
	// The same again: done already, not transient.
	err := e.client.UploadShippingInfo(ctx, testApp, info)
	if !wechat.IsShippingDone(err) || wechat.IsTransient(err) {
		t.Fatalf("repeat: %v", err)
	}
	bad := shippingInfo(e.clock.Now(), "")
	if err := e.client.UploadShippingInfo(ctx, testApp, bad); wechat.IsTransient(err) || wechat.IsShippingDone(err) || err == nil {
		t.Fatalf("no tracking number: %v", err)
	}
	if ups := e.sb.ShippingUploads(testAppID); len(ups) != 1 || ups[0].Items[0].TrackingNo != "YT0000000001" {
		t.Fatalf("uploads %+v", ups)
	}
}
