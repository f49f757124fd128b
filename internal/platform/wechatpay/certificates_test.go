package wechatpay_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

func TestDownloadCertificatesBootstraps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A client that trusts nothing yet: the first download verifies the
	// answer with the certificate it carries.
	bare := wechatpay.NewClient(e.base, e.merchant, nil, nil)
	certs, err := bare.DownloadCertificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 || certs[0].Serial != e.creds.Platform.CertSerial || certs[0].PEM != e.creds.Platform.CertificatePEM ||
		!certs[0].ExpireTime.After(certs[0].EffectiveTime) {
		t.Fatalf("certificates = %+v", certs)
	}
	// With the certificate trusted, the same call verifies as any other.
	if _, err := e.client.DownloadCertificates(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDownloadCertificatesRefusesTamperedAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tamper := range []paysandbox.Tamper{paysandbox.TamperBadSignature, paysandbox.TamperStaleTimestamp,
		paysandbox.TamperUnknownSerial, paysandbox.TamperProbeSignature} {
		if err := e.sb.TamperNextResponse(tamper); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DownloadCertificates(context.Background()); !wechatpay.IsRejected(err) {
			t.Fatalf("%s: %v, want a rejected answer", tamper, err)
		}
	}
	wrongKey := e.merchant
	wrongKey.APIv3Key = []byte("0123456789abcdef0123456789abcdef")
	c := wechatpay.NewClient(e.base, wrongKey, e.verifier, nil)
	if _, err := c.DownloadCertificates(context.Background()); !errors.Is(err, wechatpay.ErrBadCiphertext) {
		t.Fatalf("with the wrong APIv3 key: %v", err)
	}
}

// TestRotatedCertificateIsPickedUp: after WeChat rotates its platform
// certificate, a notification and a response signed with the new serial
// verify once the client's refresher has downloaded the certificates; the
// refresher is not called for known serials.
func TestRotatedCertificateIsPickedUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := verifierFor(t, e.creds.Platform, true, false)
	client := wechatpay.NewClient(e.base, e.merchant, old, nil)
	var refreshes atomic.Int32
	client.OnUnknownSerial(func(ctx context.Context, serial string) (*wechatpay.Verifier, error) {
		refreshes.Add(1)
		certs, err := client.DownloadCertificates(ctx)
		if err != nil {
			return nil, err
		}
		var pcs []*x509.Certificate
		for _, c := range certs {
			pcs = append(pcs, c.Cert)
		}
		return wechatpay.NewVerifier(pcs, "", nil), nil
	})
	var parsed atomic.Int32
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := client.ParseNotification(r)
		if err == nil {
			parsed.Add(1)
		}
		wechatpay.WriteNotificationReply(w, err)
	}))
	t.Cleanup(shop.Close)
	prepay := func(no string) {
		if _, err := client.Prepay(context.Background(), wechatpay.PrepayRequest{Description: "x", OutTradeNo: no,
			NotifyURL: shop.URL, Total: 100, OpenID: testOpenID}); err != nil {
			t.Fatal(err)
		}
	}
	prepay("ROTATE-1")
	if refreshes.Load() != 0 {
		t.Fatal("a known serial triggered a refresh")
	}
	rotated, err := e.sb.RotatePlatformCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := e.sb.Pay(context.Background(), testMchID, "ROTATE-1"); err != nil || !d.Delivered || parsed.Load() != 1 {
		t.Fatalf("notification signed by the new certificate %s: %v %+v", rotated.CertSerial, err, d)
	}
	prepay("ROTATE-2") // the response is signed by the new certificate, now trusted
	if n := refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	// Without a refresher, the new serial stays unknown.
	plain := wechatpay.NewClient(e.base, e.merchant, old, nil)
	if _, err := plain.QueryOrder(context.Background(), "ROTATE-1"); !errors.Is(err, wechatpay.ErrUnknownSerial) {
		t.Fatalf("a client without a refresher: %v", err)
	}
}

// TestPublicKeySerialNeverRefreshes: an unknown PUB_KEY_ID_ cannot come
// from a certificate download, so it is refused without one.
func TestPublicKeySerialNeverRefreshes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paysandbox.WithKeyMode(paysandbox.KeyModePublicKey))
	client := wechatpay.NewClient(e.base, e.merchant, verifierFor(t, e.creds.Platform, true, false), nil)
	var refreshes atomic.Int32
	client.OnUnknownSerial(func(context.Context, string) (*wechatpay.Verifier, error) {
		refreshes.Add(1)
		return nil, errors.New("should not be called")
	})
	_, err := client.Prepay(context.Background(), wechatpay.PrepayRequest{Description: "x", OutTradeNo: "PUBKEY-1",
		NotifyURL: "https://shop.example/notify", Total: 100, OpenID: testOpenID})
	if !errors.Is(err, wechatpay.ErrUnknownSerial) {
		t.Fatalf("prepay answered with an untrusted public key: %v", err)
	}
	if refreshes.Load() != 0 {
		t.Fatal("a public key id triggered a certificate refresh")
	}
}
