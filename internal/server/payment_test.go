package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// enablePay gives shop a WeChat Pay merchant at the pay sandbox, through
// the operator API, in the given key mode.
func (e *env) enablePay(op caller, sh testShop, mode paysandbox.KeyMode) {
	e.t.Helper()
	e.pay.SetKeyMode(mode)
	cred, err := e.pay.NewMerchant("", sh.appid)
	if err != nil {
		e.t.Fatal(err)
	}
	secrets := map[string]string{"mch_private_key": cred.PrivateKeyPEM, "apiv3_key": cred.APIv3Key}
	body := map[string]any{"mch_id": cred.MchID, "mch_cert_serial": cred.CertSerial, "secrets": secrets}
	if mode == paysandbox.KeyModePublicKey {
		body["pay_public_key_id"] = cred.Platform.PublicKeyID
		secrets["pay_public_key"] = cred.Platform.PublicKeyPEM
	} else {
		secrets["platform_cert"] = cred.Platform.CertificatePEM
	}
	e.must(op, 200, "PATCH", "/admin/api/v1/shops/"+itoa(sh.id), body)
}

// payParams asks the server for the wx.requestPayment parameters.
func (e *env) payParams(buyer caller, orderID int64) paysandbox.PaymentParams {
	e.t.Helper()
	r := e.do(buyer, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", orderID), nil)
	var p paysandbox.PaymentParams
	if r.status != 200 || json.Unmarshal(r.body, &p) != nil {
		e.t.Fatalf("pay: %d %s", r.status, r.body)
	}
	return p
}

func (e *env) orderStatus(owner caller, orderID int64) string {
	e.t.Helper()
	return e.must(owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", orderID), nil)["status"].(string)
}

func TestWeChatPayEndToEnd(t *testing.T) {
	for _, mode := range []paysandbox.KeyMode{paysandbox.KeyModeCertificate, paysandbox.KeyModePublicKey} {
		t.Run(string(mode), func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, e *env) {
				op := e.operator()
				a := e.newShop(op, "甲", "enterprise")
				e.enablePay(op, a, mode)
				ctx := context.Background()
				params := e.payParams(a.member, a.orderID)
				if again := e.payParams(a.member, a.orderID); again.Package != params.Package {
					t.Fatalf("a second pay call made a new prepay: %s / %s", params.Package, again.Package)
				}
				d, err := e.pay.PayWithParams(ctx, a.appid, params)
				if err != nil || !d.Delivered {
					t.Fatalf("payment: %v %+v", err, d)
				}
				if st := e.orderStatus(a.owner, a.orderID); st != "paid" {
					t.Fatalf("after the notification the order is %s", st)
				}
				mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
				orderNo := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)["order_no"].(string)
				for i := 0; i < 2; i++ {
					if d, err := e.pay.Renotify(ctx, mchid, orderNo); err != nil || !d.Delivered {
						t.Fatalf("redelivery: %v %+v", err, d)
					}
				}
				o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", a.orderID), nil)
				if n := len(o["events"].([]any)); n != 2 || o["paid_amount"] != o["total_amount"] {
					t.Fatalf("a repeated notification changed the order: %d events, %v", n, o)
				}
				// WeChat shows the buyer the first line's title as what was bought.
				title := o["lines"].([]any)[0].(map[string]any)["title"]
				if p, ok := e.pay.PaidOrder("", mchid, orderNo); !ok || p.Description != title {
					t.Fatalf("the WeChat order's description is %q, want the first line's title %q", p.Description, title)
				}
				metrics := e.do(caller{}, "GET", "/metrics", nil).String()
				want := fmt.Sprintf(`kaidian_payment_success_ratio_today{shop="%d"} 1`, a.id)
				if !strings.Contains(metrics, want) {
					t.Fatalf("/metrics lacks %s", want)
				}
				stats := e.mustList(a.owner, "/admin/api/v1/payments/stats?days=1")
				if stats[0]["attempts"] != float64(1) || stats[0]["paid"] != float64(1) || stats[0]["rate"] != float64(1) {
					t.Fatalf("stats: %v", stats)
				}
			})
		})
	}
}

// TestTamperedNotificationsChangeNothing sends each kind of forged or
// broken notification; each gets a 4xx and the order stays unpaid until the
// genuine notification comes.
func TestTamperedNotificationsChangeNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		ctx := context.Background()
		mchid := e.must(a.owner, 200, "GET", "/admin/api/v1/shop", nil)["mch_id"].(string)
		for i, tamper := range []paysandbox.Tamper{paysandbox.TamperBadSignature, paysandbox.TamperProbeSignature,
			paysandbox.TamperStaleTimestamp, paysandbox.TamperUnknownSerial, paysandbox.TamperCorruptCiphertext,
			paysandbox.TamperWrongAlgorithm} {
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
			orderNo := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", id), nil)["order_no"].(string)
			if d, err := e.pay.Renotify(ctx, mchid, orderNo); err != nil || !d.Delivered {
				t.Fatalf("case %d: the genuine notification: %v %+v", i, err, d)
			}
			if st := e.orderStatus(a.owner, id); st != "paid" {
				t.Fatalf("%s: after the genuine notification the order is %s", tamper, st)
			}
		}
	})
}

// TestLostNotificationIsFoundByQuerying drops the notification: the
// payment-query job finds the payment at WeChat.
func TestLostNotificationIsFoundByQuerying(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		params := e.payParams(a.member, a.orderID)
		e.pay.DropNextNotification()
		if d, err := e.pay.PayWithParams(context.Background(), a.appid, params); err != nil || !d.Dropped {
			t.Fatalf("drop: %v %+v", err, d)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "pending_payment" {
			t.Fatalf("status %s before the query", st)
		}
		e.runDueJobs("payment.query")
		if st := e.orderStatus(a.owner, a.orderID); st != "paid" {
			t.Fatalf("the query job left the order %s", st)
		}
	})
}

// TestCancelClosesTheWeChatOrder: a cancelled order cannot be paid.
func TestCancelClosesTheWeChatOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		params := e.payParams(a.member, a.orderID)
		e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", a.orderID), nil)
		if _, err := e.pay.PayWithParams(context.Background(), a.appid, params); !errors.Is(err, paysandbox.ErrOrderClosed) {
			t.Fatalf("paying a cancelled order at WeChat: %v, want closed", err)
		}
		if r := e.do(a.member, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", a.orderID), nil); r.status != 409 || r.code() != "order_not_payable" {
			t.Fatalf("pay after cancel: %d %s", r.status, r.body)
		}
	})
}

// runDueJobs makes every queued job of kind due now and runs the queue dry.
// The server's own job loop may have taken one of them first: it waits for
// those to finish too, so the caller sees their effects.
func (e *env) runDueJobs(kind string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.srv.DB.Exec(ctx, `UPDATE jobs SET run_at = 0 WHERE kind = ? AND state = 'queued'`, kind); err != nil {
		e.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		ran, err := e.srv.Jobs.WorkOne(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if ran {
			continue
		}
		var running int
		if err := e.srv.DB.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = 'running'`, kind).Scan(&running); err != nil {
			e.t.Fatal(err)
		}
		if running == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d %s jobs still running after 30 s", running, kind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNotificationWithWrongAmountIsRefused: a correctly signed notification
// whose amount differs from the order total is refused and changes nothing.
func TestNotificationWithWrongAmountIsRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		params := e.payParams(a.member, a.orderID) // WeChat now holds 9900
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE orders SET total_amount = 9800 WHERE id = ?`, a.orderID); err != nil {
			t.Fatal(err)
		}
		d, err := e.pay.PayWithParams(context.Background(), a.appid, params)
		if err != nil || d.Delivered || d.Attempts[0].Status != 400 {
			t.Fatalf("a notification for 9900 on an order of 9800: %v %+v", err, d)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "pending_payment" {
			t.Fatalf("the order became %s", st)
		}
	})
}
