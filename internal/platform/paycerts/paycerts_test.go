package paycerts_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/paycerts"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// fakeWeChat downloads from a pay sandbox and counts downloads.
type fakeWeChat struct {
	mu     sync.Mutex
	client *wechatpay.Client
	calls  int
	fail   error
}

func (f *fakeWeChat) DownloadCertificates(ctx context.Context) ([]wechatpay.PlatformCertificate, error) {
	f.mu.Lock()
	f.calls++
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	return f.client.DownloadCertificates(ctx)
}

func (f *fakeWeChat) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func newShop(t *testing.T, d *db.DB, appid string) int64 {
	t.Helper()
	var id int64
	err := d.QueryRow(context.Background(), `INSERT INTO shops (name, appid, subject_type, created_at, updated_at)
		VALUES ('s', ?, 'enterprise', 0, 0) RETURNING id`, appid).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func sandboxClient(t *testing.T) (*paysandbox.Sandbox, *wechatpay.Client) {
	t.Helper()
	sb, err := paysandbox.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	cred, err := sb.NewMerchant("", "wxcerts000000001")
	if err != nil {
		t.Fatal(err)
	}
	key, err := wechatpay.ParsePrivateKey(cred.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	m := wechatpay.Merchant{MchID: cred.MchID, AppID: cred.AppID, CertSerial: cred.CertSerial, PrivateKey: key, APIv3Key: []byte(cred.APIv3Key)}
	return sb, wechatpay.NewClient("", m, nil, &http.Client{Transport: handlerTransport{sb}})
}

func TestRefreshStoresAndLimitsOnDemandDownloads(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shopA, shopB := newShop(t, d, "wxa"), newShop(t, d, "wxb")
		sb, client := sandboxClient(t)
		wx := &fakeWeChat{client: client}
		now := time.Now()
		store := paycerts.New(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		store.SetClock(func() time.Time { return now })

		certs, err := store.RefreshLimited(ctx, shopA, wx)
		if err != nil || len(certs) != 1 || wechatpay.CertSerial(certs[0]) != sb.Platform().CertSerial {
			t.Fatalf("first download: %v %d", err, len(certs))
		}
		if _, err := sb.RotatePlatformCertificate(); err != nil {
			t.Fatal(err)
		}
		// Within the minute, on-demand refreshes read the database.
		certs, err = store.RefreshLimited(ctx, shopA, wx)
		if err != nil || len(certs) != 1 || wx.count() != 1 {
			t.Fatalf("second on-demand refresh within a minute: %v, %d certificates, %d downloads", err, len(certs), wx.count())
		}
		// Another shop has its own slot; another process shares this one.
		if _, err := store.RefreshLimited(ctx, shopB, wx); err != nil || wx.count() != 2 {
			t.Fatalf("shop B: %v, %d downloads", err, wx.count())
		}
		other := paycerts.New(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		other.SetClock(func() time.Time { return now.Add(30 * time.Second) })
		if _, err := other.RefreshLimited(ctx, shopA, wx); err != nil || wx.count() != 2 {
			t.Fatalf("another process within the minute downloaded: %v, %d downloads", err, wx.count())
		}
		now = now.Add(paycerts.DefaultMinInterval)
		certs, err = store.RefreshLimited(ctx, shopA, wx)
		if err != nil || len(certs) != 2 || !hasSerial(certs, sb.Platform().CertSerial) {
			t.Fatalf("after a minute: %v, %d certificates", err, len(certs))
		}
		// The periodic refresh is not limited; a failure keeps what is stored.
		wx.fail = errors.New("WeChat is down")
		if _, err := store.Refresh(ctx, shopA, wx); err == nil {
			t.Fatal("a failed download reported success")
		}
		if certs, err := store.Load(ctx, shopA); err != nil || len(certs) != 2 {
			t.Fatalf("after a failed download: %v, %d certificates", err, len(certs))
		}
		if shops, err := store.Shops(ctx); err != nil || len(shops) != 2 {
			t.Fatalf("shops: %v %v", shops, err)
		}
		// Expired certificates are not trusted.
		store.SetClock(func() time.Time { return now.Add(10 * 365 * 24 * time.Hour) })
		if certs, err := store.Load(ctx, shopA); err != nil || len(certs) != 0 {
			t.Fatalf("ten years later: %v, %d certificates", err, len(certs))
		}
	})
}

// handlerTransport sends requests straight to a handler.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	ht.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func hasSerial(certs []*x509.Certificate, serial string) bool {
	for _, c := range certs {
		if wechatpay.CertSerial(c) == serial {
			return true
		}
	}
	return false
}
