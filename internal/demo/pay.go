package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/server"
	"github.com/kaidian/kaidian/internal/shop"
)

// MchID is the demo shop's WeChat Pay merchant id at the pay sandbox.
const (
	MchID           = "1900000109"
	PaySandboxMount = "/wechatpay"
)

// ParcelSandboxMount is where the demo serves its 快递100 sandbox, and
// ParcelStep how long each step of a parcel's route takes there.
const (
	ParcelSandboxMount = "/kuaidi100"
	ParcelStep         = 20 * time.Second
)

// RefundDelay is how long the demo's WeChat Pay sandbox keeps a refund
// PROCESSING before it completes it by itself.
const RefundDelay = 2 * time.Second

// ConnectPay registers the demo shop as a merchant of this run's WeChat Pay
// sandbox (its keys are new on every start) and stores the credentials on
// the shop, as an operator would.
func ConnectPay(ctx context.Context, s *server.Server, pay *paysandbox.Sandbox) error {
	sh, err := s.Shops.ByAppID(ctx, AppID)
	if err != nil {
		return err
	}
	cred, err := pay.NewMerchant(MchID, AppID)
	if err != nil {
		return fmt.Errorf("pay sandbox merchant: %w", err)
	}
	mch, serial := cred.MchID, cred.CertSerial
	_, err = s.Shops.Update(ctx, sh.ID, shop.UpdateInput{MchID: &mch, MchCertSerial: &serial, Secrets: &shop.SecretsInput{
		MchPrivateKey: &cred.PrivateKeyPEM, APIv3Key: &cred.APIv3Key, PlatformCert: &cred.Platform.CertificatePEM}})
	return err
}
