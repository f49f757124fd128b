// Package payment takes WeChat Pay payments for orders: prepay and the
// wx.requestPayment parameters, signed notifications applied exactly once,
// active queries for payments whose notification was lost, and closing the
// WeChat order when an order is cancelled.
package payment

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"net/http"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/shop"
)

// Shops gives payments a shop and its merchant secrets.
type Shops interface {
	Enabled(ctx context.Context, id int64) (shop.Shop, error)
	Secrets(ctx context.Context, id int64) (shop.Secrets, error)
}

// clients builds one WeChat Pay client per shop from its settings, and
// rebuilds it when the shop changes.
type clients struct {
	shops   Shops
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
	"the shop's WeChat Pay settings are incomplete (merchant id, certificate serial, private key, APIv3 key, platform certificate or public key)")

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
	v, err := verifier(sh, sec)
	if err != nil {
		return nil, err
	}
	m := wechatpay.Merchant{MchID: sh.MchID, AppID: sh.AppID, CertSerial: sh.MchCertSerial, PrivateKey: key, APIv3Key: []byte(sec.APIv3Key)}
	return wechatpay.NewClient(c.baseURL, m, v, c.http), nil
}

// verifier trusts the shop's platform certificate and/or WeChat Pay public key.
func verifier(sh shop.Shop, sec shop.Secrets) (*wechatpay.Verifier, error) {
	var certs []*x509.Certificate
	if sec.PlatformCert != "" {
		cert, err := wechatpay.ParseCertificate(sec.PlatformCert)
		if err != nil {
			return nil, errNotConfigured
		}
		certs = append(certs, cert)
	}
	var pub *rsa.PublicKey
	if sec.PayPublicKey != "" && sh.PayPublicKeyID != "" {
		var err error
		if pub, err = wechatpay.ParsePublicKey(sec.PayPublicKey); err != nil {
			return nil, errNotConfigured
		}
	}
	if len(certs) == 0 && pub == nil {
		return nil, errNotConfigured
	}
	return wechatpay.NewVerifier(certs, sh.PayPublicKeyID, pub), nil
}
