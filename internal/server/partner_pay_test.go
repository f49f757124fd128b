package server_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// testProvider is a WeChat Pay service provider (服务商) at the pay sandbox,
// registered with the server by the operator.
type testProvider struct {
	id   int64
	cred paysandbox.Credentials
}

// newProvider makes a service provider at the pay sandbox and adds it
// through the operator API, with its platform certificate.
func (e *env) newProvider(op caller) testProvider {
	e.t.Helper()
	cred, err := e.pay.NewMerchant("", "")
	if err != nil {
		e.t.Fatal(err)
	}
	p := e.must(op, 201, "POST", "/admin/api/v1/pay-providers", map[string]any{"name": "代理商", "sp_mch_id": cred.MchID,
		"sp_appid": cred.AppID, "mch_cert_serial": cred.CertSerial, "secrets": map[string]string{
			"mch_private_key": cred.PrivateKeyPEM, "apiv3_key": cred.APIv3Key, "platform_cert": cred.Platform.CertificatePEM}})
	if s := p["secrets_set"].(map[string]any); s["mch_private_key"] != true || s["apiv3_key"] != true {
		e.t.Fatalf("the provider's secrets are not set: %v", p)
	}
	return testProvider{id: int64(p["id"].(float64)), cred: cred}
}

var subMchCounter atomic.Int64

// enablePartnerPay makes sh a sub-merchant of sp (its own mini program
// bound to it at the sandbox) and switches the shop to partner mode; it
// returns the sub_mchid. The sandbox checks that payers' openids belong to
// the appid they pay under.
func (e *env) enablePartnerPay(op caller, sh testShop, sp testProvider) string {
	e.t.Helper()
	sub := "16" + fmt.Sprintf("%08d", subMchCounter.Add(1))
	if err := e.pay.AddSubMerchant(sp.cred.MchID, sub, sh.appid); err != nil {
		e.t.Fatal(err)
	}
	e.pay.UseOpenIDs(e.sandbox.HasOpenID)
	got := e.must(op, 200, "PATCH", "/admin/api/v1/shops/"+itoa(sh.id),
		map[string]any{"pay_mode": "partner", "pay_provider_id": sp.id, "sub_mch_id": sub})
	if got["pay_mode"] != "partner" || got["sub_mch_id"] != sub || got["pay_provider_id"] != float64(sp.id) {
		e.t.Fatalf("partner settings: %v", got)
	}
	return sub
}

func (e *env) orderNo(owner caller, orderID int64) string {
	e.t.Helper()
	return e.must(owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", orderID), nil)["order_no"].(string)
}

// TestPartnerPayEndToEnd: two shops under one service provider. A buyer
// pays in the shop's own mini program (sub_appid, sub_openid) with
// parameters signed by the provider's key; the notification, sealed with
// the provider's APIv3 key, marks the order paid once; a refund goes out
// with the shop's sub_mchid and its notification settles it. The other
// shop's order stays its own.
func TestPartnerPayEndToEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		op := e.operator()
		sp := e.newProvider(op)
		a, b := e.newShop(op, "甲", "enterprise"), e.newShop(op, "乙", "enterprise")
		subA, subB := e.enablePartnerPay(op, a, sp), e.enablePartnerPay(op, b, sp)

		params := e.payParams(a.member, a.orderID)
		if again := e.payParams(a.member, a.orderID); again.Package != params.Package {
			t.Fatalf("a second pay call made a new prepay: %s / %s", params.Package, again.Package)
		}
		if _, err := e.pay.PayWithParams(ctx, sp.cred.AppID, params); !errors.Is(err, paysandbox.ErrBadPaySign) {
			t.Fatalf("parameters for the shop's mini program were accepted in the provider's: %v", err)
		}
		d, err := e.pay.PayWithParams(ctx, a.appid, params)
		if err != nil || !d.Delivered {
			t.Fatalf("payment: %v %+v", err, d)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "paid" {
			t.Fatalf("after the notification the order is %s", st)
		}
		noA := e.orderNo(a.owner, a.orderID)
		paid, ok := e.pay.PaidOrder("", subA, noA)
		if !ok || paid.AppID != a.appid || paid.MchID != subA || paid.OpenID != "openid-甲" {
			t.Fatalf("the WeChat order: %+v %v", paid, ok)
		}
		for range 2 { // WeChat redelivers until answered: applied once
			if d, err := e.pay.Renotify(ctx, subA, noA); err != nil || !d.Delivered {
				t.Fatalf("redelivery: %v %+v", err, d)
			}
		}
		o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
		if n := len(o["events"].([]any)); n != 2 || o["paid_amount"] != o["total_amount"] {
			t.Fatalf("a repeated notification changed the order: %d events, %v", n, o)
		}

		// Refund: sub_mchid in the request, the provider's key on the notification.
		refunds := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", a.orderID)
		rf := e.keyed().must(a.owner, 201, "POST", refunds, map[string]any{"amount": 9900, "reason": "不要了"})
		e.runDueJobs("refund.submit")
		if d, err := e.pay.CompleteRefund(ctx, subA, rf["out_refund_no"].(string), "SUCCESS"); err != nil || !d.Delivered {
			t.Fatalf("refund notification: %v %+v", err, d)
		}
		if list := e.mustList(a.owner, refunds); len(list) != 1 || list[0]["status"] != "succeeded" {
			t.Fatalf("refunds: %v", list)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "refunded" {
			t.Fatalf("after the refund the order is %s", st)
		}

		// Shop B pays through the same provider as its own sub-merchant.
		if d, err := e.pay.PayWithParams(ctx, b.appid, e.payParams(b.member, b.orderID)); err != nil || !d.Delivered {
			t.Fatalf("B's payment: %v %+v", err, d)
		}
		if p, ok := e.pay.PaidOrder("", subB, e.orderNo(b.owner, b.orderID)); !ok || p.AppID != b.appid {
			t.Fatalf("B's WeChat order: %+v %v", p, ok)
		}
		if r := e.do(a.owner, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", b.orderID), nil); r.status != 404 {
			t.Fatalf("A's owner reads B's order: %d %s", r.status, r.body)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "refunded" {
			t.Fatalf("B's payment changed A's order to %s", st)
		}
		// A's trade bill is its sub-merchant's alone: B's payment, at the
		// same provider, is not a difference of A's.
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		rep := e.must(a.owner, 201, "POST", "/admin/api/v1/reconciliations", map[string]any{"date": today})
		if rep["status"] != "matched" || rep["wechat_paid"] != float64(9900) || rep["wechat_refund"] != float64(9900) {
			t.Fatalf("A's reconciliation: %v", rep)
		}
	})
}

// TestPartnerNotificationForAnotherSubMerchantIsRefused: the provider's key
// signs every sub-merchant's notifications, so a genuine one for shop B's
// sub_mchid (same out_trade_no and amount as A's order) delivered to shop
// A's notify URL must be refused, and A's order stays unpaid.
func TestPartnerNotificationForAnotherSubMerchantIsRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		op := e.operator()
		sp := e.newProvider(op)
		a, b := e.newShop(op, "甲", "enterprise"), e.newShop(op, "乙", "enterprise")
		e.enablePartnerPay(op, a, sp)
		subB := e.enablePartnerPay(op, b, sp)
		noA := e.orderNo(a.owner, a.orderID)

		key, err := wechatpay.ParsePrivateKey(sp.cred.PrivateKeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := wechatpay.ParseCertificate(sp.cred.Platform.CertificatePEM)
		if err != nil {
			t.Fatal(err)
		}
		asB := wechatpay.NewClient(e.payURL, wechatpay.Merchant{MchID: sp.cred.MchID, AppID: sp.cred.AppID,
			CertSerial: sp.cred.CertSerial, PrivateKey: key, APIv3Key: []byte(sp.cred.APIv3Key), SubMchID: subB, SubAppID: b.appid},
			wechatpay.NewVerifier([]*x509.Certificate{cert}, "", nil), nil)
		_, err = asB.Prepay(ctx, wechatpay.PrepayRequest{Description: "乙的订单", OutTradeNo: noA, Total: 9900,
			OpenID: "openid-乙", NotifyURL: e.ts.URL + "/webhooks/wechatpay/" + strconv.FormatInt(a.id, 10) + "/transaction"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.pay.Pay(ctx, subB, noA)
		if err != nil || d.Delivered || len(d.Attempts) == 0 || d.Attempts[0].Status != http.StatusBadRequest {
			t.Fatalf("B's payment delivered to A: %v %+v", err, d)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "pending_payment" {
			t.Fatalf("another sub-merchant's payment made A's order %s", st)
		}
		// A's own payment still goes through.
		if d, err := e.pay.PayWithParams(ctx, a.appid, e.payParams(a.member, a.orderID)); err != nil || !d.Delivered {
			t.Fatalf("A's payment: %v %+v", err, d)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "paid" {
			t.Fatalf("A's own payment left the order %s", st)
		}
	})
}

// TestTamperedPartnerNotificationsChangeNothing: forged or broken partner
// notifications get a 4xx and change nothing; the genuine one then pays.
func TestTamperedPartnerNotificationsChangeNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		op := e.operator()
		sp := e.newProvider(op)
		a := e.newShop(op, "甲", "enterprise")
		subA := e.enablePartnerPay(op, a, sp)
		for _, tamper := range []paysandbox.Tamper{paysandbox.TamperBadSignature, paysandbox.TamperUnknownSerial,
			paysandbox.TamperCorruptCiphertext, paysandbox.TamperStaleTimestamp} {
			id := e.buyNow(a.member, a.skuID, 1)
			params := e.payParams(a.member, id)
			if err := e.pay.TamperNextNotification(tamper); err != nil {
				t.Fatal(err)
			}
			d, err := e.pay.PayWithParams(ctx, a.appid, params)
			if err != nil || d.Delivered || len(d.Attempts) == 0 || d.Attempts[0].Status < 400 || d.Attempts[0].Status >= 500 {
				t.Fatalf("%s: the server accepted it or answered 5xx: %v %+v", tamper, err, d)
			}
			if st := e.orderStatus(a.owner, id); st != "pending_payment" {
				t.Fatalf("%s changed the order to %s", tamper, st)
			}
			if d, err := e.pay.Renotify(ctx, subA, e.orderNo(a.owner, id)); err != nil || !d.Delivered {
				t.Fatalf("%s: the genuine notification: %v %+v", tamper, err, d)
			}
			if st := e.orderStatus(a.owner, id); st != "paid" {
				t.Fatalf("%s: after the genuine notification the order is %s", tamper, st)
			}
		}
	})
}

// TestPartnerCancelClosesTheWeChatOrder: cancelling closes the partner
// order at WeChat (sp_mchid and sub_mchid in the close), so it cannot be
// paid; a lost notification is found by the partner query.
func TestPartnerCancelClosesTheWeChatOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		op := e.operator()
		sp := e.newProvider(op)
		a := e.newShop(op, "甲", "enterprise")
		e.enablePartnerPay(op, a, sp)
		params := e.payParams(a.member, a.orderID)
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", a.orderID), nil)
		if _, err := e.pay.PayWithParams(ctx, a.appid, params); !errors.Is(err, paysandbox.ErrOrderClosed) {
			t.Fatalf("paying a cancelled order at WeChat: %v, want closed", err)
		}

		id := e.buyNow(a.member, a.skuID, 1)
		params = e.payParams(a.member, id)
		e.pay.DropNextNotification()
		if d, err := e.pay.PayWithParams(ctx, a.appid, params); err != nil || !d.Dropped {
			t.Fatalf("drop: %v %+v", err, d)
		}
		e.runDueJobs("payment.query")
		if st := e.orderStatus(a.owner, id); st != "paid" {
			t.Fatalf("the partner query left the order %s", st)
		}
	})
}

// TestPayProvidersAreForOperators: shop staff can neither read nor add a
// provider, and a shop cannot name a provider that does not exist.
func TestPayProvidersAreForOperators(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		sp := e.newProvider(op)
		a := e.newShop(op, "甲", "enterprise")
		for _, r := range []response{
			e.do(a.owner, "GET", "/admin/api/v1/pay-providers", nil),
			e.do(a.owner, "GET", "/admin/api/v1/pay-providers/"+itoa(sp.id), nil),
			e.do(a.owner, "POST", "/admin/api/v1/pay-providers", map[string]any{"name": "x", "sp_mch_id": "1234567890", "sp_appid": "wx0123456789abcdef"}),
		} {
			if r.status != 403 {
				t.Fatalf("shop staff on pay-providers: %d %s", r.status, r.body)
			}
		}
		if r := e.do(op, "PATCH", "/admin/api/v1/shops/"+itoa(a.id), map[string]any{"pay_mode": "partner", "pay_provider_id": sp.id + 100, "sub_mch_id": "1600000001"}); r.status != 400 {
			t.Fatalf("a shop named a missing provider: %d %s", r.status, r.body)
		}
		if r := e.do(op, "POST", "/admin/api/v1/pay-providers", map[string]any{"name": "again", "sp_mch_id": sp.cred.MchID, "sp_appid": sp.cred.AppID}); r.status != 409 || r.code() != "pay_provider_taken" {
			t.Fatalf("a second provider with the same merchant id: %d %s", r.status, r.body)
		}
		list := e.mustList(op, "/admin/api/v1/pay-providers")
		if len(list) != 1 || list[0]["sp_mch_id"] != sp.cred.MchID {
			t.Fatalf("providers: %v", list)
		}
		if _, leaked := list[0]["mch_private_key"]; leaked {
			t.Fatal("the provider list shows a secret")
		}
	})
}
