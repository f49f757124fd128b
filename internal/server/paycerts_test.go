package server_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/payment"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// enablePayCertOnly gives shop a merchant in certificate mode without
// setting any platform certificate: kaidian must download them.
func (e *env) enablePayCertOnly(op caller, sh testShop) {
	e.t.Helper()
	e.pay.SetKeyMode(paysandbox.KeyModeCertificate)
	cred, err := e.pay.NewMerchant("", sh.appid)
	if err != nil {
		e.t.Fatal(err)
	}
	e.must(op, 200, "PATCH", "/admin/api/v1/shops/"+itoa(sh.id), map[string]any{"mch_id": cred.MchID,
		"mch_cert_serial": cred.CertSerial,
		"secrets":         map[string]string{"mch_private_key": cred.PrivateKeyPEM, "apiv3_key": cred.APIv3Key}})
}

func (e *env) storedCertSerials(shopID int64) []string {
	e.t.Helper()
	rows, err := e.srv.DB.Query(context.Background(), `SELECT serial FROM wechatpay_platform_certs WHERE shop_id = ? ORDER BY serial`, shopID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func (e *env) payWithCerts(buyer caller, appid string, orderID int64) paysandbox.Delivery {
	e.t.Helper()
	d, err := e.pay.PayWithParams(context.Background(), appid, e.payParams(buyer, orderID))
	if err != nil {
		e.t.Fatalf("pay order %d: %v", orderID, err)
	}
	return d
}

// TestRotatedPlatformCertificateIsPickedUp: the shop trusts the platform
// certificate set by hand; WeChat rotates it; the notification signed with
// the new serial makes kaidian download the certificates, verify it and
// mark the order paid, and the next answers verify too.
func TestRotatedPlatformCertificateIsPickedUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		params := e.payParams(a.member, a.orderID)
		rotated, err := e.pay.RotatePlatformCertificate()
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.pay.PayWithParams(context.Background(), a.appid, params)
		if err != nil || !d.Delivered || d.Attempts[0].Status >= 300 {
			t.Fatalf("notification signed by the new certificate: %v %+v", err, d)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "paid" {
			t.Fatalf("order is %s", st)
		}
		if got := e.storedCertSerials(a.id); !slices.Contains(got, rotated.CertSerial) || len(got) != 2 {
			t.Fatalf("stored certificates %v, want both, with %s", got, rotated.CertSerial)
		}
		second := e.buyNow(a.member, a.skuID, 1)
		if d := e.payWithCerts(a.member, a.appid, second); !d.Delivered {
			t.Fatalf("second payment: %+v", d)
		}
	})
}

// TestPlatformCertificatesAreDownloaded: a shop with no platform
// certificate and no public key takes payments with downloaded
// certificates; the periodic refresh stores a rotated certificate before
// any message needs it.
func TestPlatformCertificatesAreDownloaded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePayCertOnly(op, a)
		if d := e.payWithCerts(a.member, a.appid, a.orderID); !d.Delivered {
			t.Fatalf("payment with downloaded certificates: %+v", d)
		}
		if st := e.orderStatus(a.owner, a.orderID); st != "paid" {
			t.Fatalf("order is %s", st)
		}
		if got := e.storedCertSerials(a.id); len(got) != 1 || got[0] != e.pay.Platform().CertSerial {
			t.Fatalf("stored certificates %v", got)
		}
		rotated, err := e.pay.RotatePlatformCertificate()
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the periodic refresh job to be queued", func() bool {
			var n int
			_ = e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM jobs WHERE kind = ?`, payment.CertRefreshKind).Scan(&n)
			return n > 0
		})
		e.runDueJobs(payment.CertRefreshKind)
		if got := e.storedCertSerials(a.id); !slices.Contains(got, rotated.CertSerial) {
			t.Fatalf("after the periodic refresh: %v", got)
		}
		second := e.buyNow(a.member, a.skuID, 1)
		if d := e.payWithCerts(a.member, a.appid, second); !d.Delivered {
			t.Fatalf("payment after rotation: %+v", d)
		}
		if strings.Contains(e.logs.String(), "unknown certificate serial") {
			t.Fatal("the periodic refresh left the new serial unknown to this process")
		}
	})
}

// TestForgedSerialsDoNotFloodWeChat: notifications with made-up serials
// are refused, and download the certificates at most once a minute per
// shop. Two download failures are queued at the sandbox: if the three
// forgeries within a minute downloaded more than once, the download a
// minute later would not meet the second failure.
func TestForgedSerialsDoNotFloodWeChat(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		for range 2 {
			if err := e.pay.FailNext("/v3/certificates", paysandbox.FailSystemError); err != nil {
				t.Fatal(err)
			}
		}
		forge := func() {
			t.Helper()
			id := e.buyNow(a.member, a.skuID, 1)
			params := e.payParams(a.member, id)
			if err := e.pay.TamperNextNotification(paysandbox.TamperUnknownSerial); err != nil {
				t.Fatal(err)
			}
			d, err := e.pay.PayWithParams(context.Background(), a.appid, params)
			if err != nil || d.Delivered || d.Attempts[0].Status != 400 {
				t.Fatalf("forged serial: %v %+v", err, d)
			}
		}
		refreshedAt := func() (at int64, lastErr string) {
			t.Helper()
			err := e.srv.DB.QueryRow(context.Background(), `SELECT refreshed_at, last_error FROM wechatpay_cert_refreshes WHERE shop_id = ?`,
				a.id).Scan(&at, &lastErr)
			if err != nil {
				t.Fatal(err)
			}
			return at, lastErr
		}
		aMinuteLater := func() {
			t.Helper()
			if _, err := e.srv.DB.Exec(context.Background(), `UPDATE wechatpay_cert_refreshes SET tried_at = 0 WHERE shop_id = ?`, a.id); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			forge()
		}
		if at, lastErr := refreshedAt(); at != 0 || lastErr == "" {
			t.Fatalf("after the first forgeries: refreshed_at %d, last error %q", at, lastErr)
		}
		aMinuteLater()
		forge()
		if at, _ := refreshedAt(); at != 0 {
			t.Fatal("the second queued failure was already used: forgeries within a minute downloaded more than once")
		}
		aMinuteLater()
		forge()
		if at, lastErr := refreshedAt(); at == 0 || lastErr != "" {
			t.Fatalf("the third download: refreshed_at %d, last error %q", at, lastErr)
		}
	})
}

// TestConcurrentNotificationsShareOneRefresh: notifications signed with a
// new certificate arriving together wait for one download and are all
// accepted at their first delivery.
func TestConcurrentNotificationsShareOneRefresh(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.enablePay(op, a, paysandbox.KeyModeCertificate)
		var params []paysandbox.PaymentParams
		params = append(params, e.payParams(a.member, a.orderID))
		for range 5 {
			params = append(params, e.payParams(a.member, e.buyNow(a.member, a.skuID, 1)))
		}
		if _, err := e.pay.RotatePlatformCertificate(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]paysandbox.Delivery, len(params))
		errs := make([]error, len(params))
		for i, p := range params {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = e.pay.PayWithParams(context.Background(), a.appid, p)
			}()
		}
		wg.Wait()
		for i, d := range results {
			if errs[i] != nil || len(d.Attempts) != 1 || d.Attempts[0].Status != 204 {
				t.Fatalf("payment %d: %v %+v", i, errs[i], d)
			}
		}
	})
}
