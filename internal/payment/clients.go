// Package payment takes WeChat Pay payments for orders: prepay and the
// wx.requestPayment parameters, signed notifications applied exactly once,
// active queries for payments whose notification was lost, and closing the
// WeChat order when an order is cancelled.
package payment

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/paycerts"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/shop"
)

// CertRefreshKind is the periodic job that downloads every shop's WeChat
// Pay platform certificates (every 12 hours, once per cluster).
const CertRefreshKind = "payment.certificates"

// Shops gives payments a shop and its merchant secrets.
type Shops interface {
	Enabled(ctx context.Context, id int64) (shop.Shop, error)
	Secrets(ctx context.Context, id int64) (shop.Secrets, error)
}

// clients builds one WeChat Pay client per shop from its settings, and
// rebuilds it when the shop changes. Each client trusts the platform
// certificate set by hand in the shop settings (if any), the certificates
// downloaded from WeChat (kept in the database by certs) and the WeChat Pay
// public key (if set); a message signed with an unknown certificate serial
// makes it download the certificates again (at most once a minute per
// shop).
type clients struct {
	shops   Shops
	certs   *paycerts.Store
	log     *slog.Logger
	baseURL string
	http    *http.Client
	mu      sync.Mutex
	byShop  map[int64]cachedClient
}

type cachedClient struct {
	client  *wechatpay.Client
	version time.Time
}

func (c *clients) get(ctx context.Context, shopID int64) (*wechatpay.Client, shop.Shop, error) {
	sh, err := c.shops.Enabled(ctx, shopID)
	if err != nil {
		return nil, shop.Shop{}, err
	}
	if err := sh.CanTakePayments(); err != nil {
		return nil, sh, err
	}
	c.mu.Lock()
	cached, ok := c.byShop[shopID]
	c.mu.Unlock()
	if ok && cached.version.Equal(sh.UpdatedAt) {
		return cached.client, sh, nil
	}
	client, err := c.build(ctx, sh)
	if err != nil {
		return nil, sh, err
	}
	c.mu.Lock()
	c.byShop[shopID] = cachedClient{client: client, version: sh.UpdatedAt}
	c.mu.Unlock()
	return client, sh, nil
}

var errNotConfigured = errs.E(errs.Conflict, "wechatpay_not_configured",
	"the shop's WeChat Pay settings are incomplete or malformed (merchant id, certificate serial, private key, APIv3 key; platform certificate or public key if set)")

func (c *clients) build(ctx context.Context, sh shop.Shop) (*wechatpay.Client, error) {
	sec, err := c.shops.Secrets(ctx, sh.ID)
	if err != nil {
		return nil, err
	}
	if sh.MchID == "" || sh.MchCertSerial == "" || sec.MchPrivateKey == "" || len(sec.APIv3Key) != 32 {
		return nil, errNotConfigured
	}
	key, err := wechatpay.ParsePrivateKey(sec.MchPrivateKey)
	if err != nil {
		return nil, errNotConfigured
	}
	keys, err := shopKeysOf(sh, sec)
	if err != nil {
		return nil, err
	}
	m := wechatpay.Merchant{MchID: sh.MchID, AppID: sh.AppID, CertSerial: sh.MchCertSerial, PrivateKey: key, APIv3Key: []byte(sec.APIv3Key)}
	client := wechatpay.NewClient(c.baseURL, m, nil, c.http)
	downloaded, err := c.downloaded(ctx, sh.ID, keys, client)
	if err != nil {
		return nil, err
	}
	client.SetVerifier(keys.verifier(downloaded))
	var refreshing sync.Mutex // concurrent messages with the new serial wait for one download
	client.OnUnknownSerial(func(ctx context.Context, serial string) (*wechatpay.Verifier, error) {
		refreshing.Lock()
		defer refreshing.Unlock()
		if v := client.Verifier(); v.Trusts(serial) {
			return v, nil // another message's refresh brought it
		}
		c.log.Info("WeChat Pay signed with an unknown certificate serial; refreshing certificates", "shop", sh.ID, "serial", serial)
		certs, err := c.certs.RefreshLimited(ctx, sh.ID, client)
		if err != nil {
			return nil, err
		}
		return keys.verifier(certs), nil
	})
	return client, nil
}

// downloaded returns the shop's stored platform certificates. A shop that
// has no key at all yet (no certificate set by hand, no public key)
// downloads them now; one with a certificate set by hand is only put on
// the 12-hourly refresh list.
func (c *clients) downloaded(ctx context.Context, shopID int64, keys shopKeys, client *wechatpay.Client) ([]*x509.Certificate, error) {
	stored, err := c.certs.Load(ctx, shopID)
	if err != nil || len(stored) > 0 || keys.pub != nil {
		return stored, errs.Wrap("platform certificates", err)
	}
	if len(keys.manual) > 0 {
		return nil, errs.Wrap("platform certificates", c.certs.Track(ctx, shopID))
	}
	stored, err = c.certs.RefreshLimited(ctx, shopID, client)
	if err != nil || len(stored) == 0 {
		return nil, &errs.Error{Kind: errs.Unavailable, Code: "wechatpay_certificates_unavailable",
			Message: "the WeChat Pay platform certificates could not be downloaded; try again in a minute", Err: err}
	}
	return stored, nil
}

// shopKeys are the keys a shop's settings give: a platform certificate set
// by hand and the WeChat Pay public key.
type shopKeys struct {
	manual []*x509.Certificate
	pubID  string
	pub    *rsa.PublicKey
}

func shopKeysOf(sh shop.Shop, sec shop.Secrets) (shopKeys, error) {
	var k shopKeys
	if sec.PlatformCert != "" {
		cert, err := wechatpay.ParseCertificate(sec.PlatformCert)
		if err != nil {
			return k, errNotConfigured
		}
		k.manual = append(k.manual, cert)
	}
	if sec.PayPublicKey != "" && sh.PayPublicKeyID != "" {
		pub, err := wechatpay.ParsePublicKey(sec.PayPublicKey)
		if err != nil {
			return k, errNotConfigured
		}
		k.pubID, k.pub = sh.PayPublicKeyID, pub
	}
	return k, nil
}

// verifier trusts the shop's own keys and the downloaded certificates.
func (k shopKeys) verifier(downloaded []*x509.Certificate) *wechatpay.Verifier {
	certs := append(append([]*x509.Certificate(nil), k.manual...), downloaded...)
	return wechatpay.NewVerifier(certs, k.pubID, k.pub)
}

// refreshCertificates is the periodic job: it downloads the platform
// certificates of every shop on the refresh list and gives this process's
// client the new keys (other processes pick them up from the database on
// the first unknown serial).
func (s *Service) refreshCertificates(ctx context.Context, _ jobs.Job) error {
	shops, err := s.clients.certs.Shops(ctx)
	if err != nil {
		return err
	}
	for _, shopID := range shops {
		if err := s.refreshShopCertificates(ctx, shopID); err != nil {
			s.log.Warn("WeChat Pay certificate refresh", "shop", shopID, "err", err)
		}
	}
	return nil
}

func (s *Service) refreshShopCertificates(ctx context.Context, shopID int64) error {
	client, sh, err := s.clients.get(ctx, shopID)
	if err != nil {
		return err // disabled, or no longer configured
	}
	certs, err := s.clients.certs.Refresh(ctx, shopID, client)
	if err != nil {
		return err
	}
	sec, err := s.clients.shops.Secrets(ctx, shopID)
	if err != nil {
		return err
	}
	keys, err := shopKeysOf(sh, sec)
	if err != nil {
		return err
	}
	client.SetVerifier(keys.verifier(certs))
	return nil
}
