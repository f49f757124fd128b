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

	"github.com/kaidian/kaidian/internal/payprovider"
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

// Providers gives payments a WeChat Pay service provider and its keys, for
// shops in partner mode.
type Providers interface {
	Cached(ctx context.Context, id int64) (payprovider.Provider, error)
	Secrets(ctx context.Context, id int64) (payprovider.Secrets, error)
}

// clients builds one WeChat Pay client per shop from its settings, and
// rebuilds it when the shop (or, in partner mode, its service provider)
// changes. A partner-mode shop's client signs with the provider's keys and
// acts for the shop's sub_mchid; its platform certificates are kept under
// the shop like a direct merchant's. Each client trusts the platform
// certificate set by hand in the shop settings (if any), the certificates
// downloaded from WeChat (kept in the database by certs) and the WeChat Pay
// public key (if set); a message signed with an unknown certificate serial
// makes it download the certificates again (at most once a minute per
// shop).
type clients struct {
	shops     Shops
	providers Providers
	certs     *paycerts.Store
	log       *slog.Logger
	baseURL   string
	http      *http.Client
	mu        sync.Mutex
	byShop    map[int64]cachedClient
}

type cachedClient struct {
	client  *wechatpay.Client
	version version
}

// version is what a client was built from: the shop's and (partner mode)
// its provider's last change.
type version struct {
	shop, provider time.Time
	providerID     int64
}

func (c *clients) get(ctx context.Context, shopID int64) (*wechatpay.Client, shop.Shop, error) {
	sh, err := c.shops.Enabled(ctx, shopID)
	if err != nil {
		return nil, shop.Shop{}, err
	}
	if err := sh.CanTakePayments(); err != nil {
		return nil, sh, err
	}
	ver := version{shop: sh.UpdatedAt}
	var sp payprovider.Provider
	if sh.Partner() {
		if sp, err = c.providers.Cached(ctx, sh.PayProviderID); errs.Is(err, "pay_provider_not_found") {
			return nil, sh, errNotConfigured
		} else if err != nil {
			return nil, sh, err
		}
		ver.provider, ver.providerID = sp.UpdatedAt, sp.ID
	}
	c.mu.Lock()
	cached, ok := c.byShop[shopID]
	c.mu.Unlock()
	if ok && cached.version == ver {
		return cached.client, sh, nil
	}
	client, err := c.build(ctx, sh, sp)
	if err != nil {
		return nil, sh, err
	}
	c.mu.Lock()
	c.byShop[shopID] = cachedClient{client: client, version: ver}
	c.mu.Unlock()
	return client, sh, nil
}

var errNotConfigured = errs.E(errs.Conflict, "wechatpay_not_configured",
	"the shop's WeChat Pay settings are incomplete or malformed (merchant id, certificate serial, private key, APIv3 key; platform certificate or public key if set)")

// payKeys are the keys a client signs and verifies with: the shop's own
// (direct mode) or its service provider's (partner mode).
type payKeys struct {
	merchant wechatpay.Merchant
	trust    shopKeys
}

// keysOf reads the keys of sh (sp is its provider in partner mode).
func (c *clients) keysOf(ctx context.Context, sh shop.Shop, sp payprovider.Provider) (payKeys, error) {
	if sh.Partner() {
		return c.partnerKeys(ctx, sh, sp)
	}
	sec, err := c.shops.Secrets(ctx, sh.ID)
	if err != nil {
		return payKeys{}, err
	}
	if sh.MchID == "" || sh.MchCertSerial == "" || sec.MchPrivateKey == "" || len(sec.APIv3Key) != 32 {
		return payKeys{}, errNotConfigured
	}
	key, err := wechatpay.ParsePrivateKey(sec.MchPrivateKey)
	if err != nil {
		return payKeys{}, errNotConfigured
	}
	trust, err := shopKeysOf(sec.PlatformCert, sec.PayPublicKey, sh.PayPublicKeyID)
	m := wechatpay.Merchant{MchID: sh.MchID, AppID: sh.AppID, CertSerial: sh.MchCertSerial, PrivateKey: key, APIv3Key: []byte(sec.APIv3Key)}
	return payKeys{merchant: m, trust: trust}, err
}

// partnerKeys are the provider's keys acting for the shop's sub_mchid.
// Buyers pay in the shop's own mini program: its appid is the sub_appid,
// unless it is the provider's own (sp_appid), when they pay as sp_openid.
func (c *clients) partnerKeys(ctx context.Context, sh shop.Shop, sp payprovider.Provider) (payKeys, error) {
	sec, err := c.providers.Secrets(ctx, sp.ID)
	if err != nil {
		return payKeys{}, err
	}
	if sh.SubMchID == "" || sp.MchCertSerial == "" || sec.MchPrivateKey == "" || len(sec.APIv3Key) != 32 {
		return payKeys{}, errNotConfigured
	}
	key, err := wechatpay.ParsePrivateKey(sec.MchPrivateKey)
	if err != nil {
		return payKeys{}, errNotConfigured
	}
	trust, err := shopKeysOf(sec.PlatformCert, sec.PayPublicKey, sp.PayPublicKeyID)
	m := wechatpay.Merchant{MchID: sp.SpMchID, AppID: sp.SpAppID, CertSerial: sp.MchCertSerial, PrivateKey: key,
		APIv3Key: []byte(sec.APIv3Key), SubMchID: sh.SubMchID}
	if sh.AppID != sp.SpAppID {
		m.SubAppID = sh.AppID
	}
	return payKeys{merchant: m, trust: trust}, err
}

func (c *clients) build(ctx context.Context, sh shop.Shop, sp payprovider.Provider) (*wechatpay.Client, error) {
	pk, err := c.keysOf(ctx, sh, sp)
	if err != nil {
		return nil, err
	}
	keys := pk.trust
	client := wechatpay.NewClient(c.baseURL, pk.merchant, nil, c.http)
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

func shopKeysOf(platformCert, payPublicKey, payPublicKeyID string) (shopKeys, error) {
	var k shopKeys
	if platformCert != "" {
		cert, err := wechatpay.ParseCertificate(platformCert)
		if err != nil {
			return k, errNotConfigured
		}
		k.manual = append(k.manual, cert)
	}
	if payPublicKey != "" && payPublicKeyID != "" {
		pub, err := wechatpay.ParsePublicKey(payPublicKey)
		if err != nil {
			return k, errNotConfigured
		}
		k.pubID, k.pub = payPublicKeyID, pub
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
	var sp payprovider.Provider
	if sh.Partner() {
		if sp, err = s.clients.providers.Cached(ctx, sh.PayProviderID); err != nil {
			return err
		}
	}
	pk, err := s.clients.keysOf(ctx, sh, sp)
	if err != nil {
		return err
	}
	client.SetVerifier(pk.trust.verifier(certs))
	return nil
}
