// Package shop manages the shops of a deployment: each is one mini program
// (its appid) with its own WeChat Pay merchant, and a subject type that sets
// what WeChat lets it sell.
package shop

import (
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// SubjectType is the legal subject behind the mini program, which decides
// WeChat's gates.
type SubjectType string

const (
	Personal   SubjectType = "personal"   // 个人: no goods, no payments
	Individual SubjectType = "individual" // 个体工商户: goods and payments, minus brand-gated categories
	Enterprise SubjectType = "enterprise" // 企业: everything
)

// EnumValues lists the subject types for the API document.
func (SubjectType) EnumValues() []string {
	return []string{string(Personal), string(Individual), string(Enterprise)}
}

// Shop is a shop as the API shows it: secrets appear only as "is set".
type Shop struct {
	ID              int64       `json:"id"`
	Name            string      `json:"name"`
	AppID           string      `json:"appid"`
	SubjectType     SubjectType `json:"subject_type"`
	BrandAuthorized bool        `json:"brand_authorized" doc:"the operator verified a brand authorization, which unlocks brand-gated categories for individual businesses"`
	Disabled        bool        `json:"disabled"`
	MchID           string      `json:"mch_id"`
	MchCertSerial   string      `json:"mch_cert_serial"`
	PayPublicKeyID  string      `json:"pay_public_key_id"`
	PayMode         PayMode     `json:"pay_mode" doc:"direct: the shop's own WeChat Pay merchant (mch_id and its keys); partner: a sub-merchant (sub_mch_id) of the WeChat Pay service provider pay_provider_id, whose keys are used"`
	PayProviderID   int64       `json:"pay_provider_id" doc:"partner mode: the service provider (0 in direct mode)"`
	SubMchID        string      `json:"sub_mch_id" doc:"partner mode: the shop's sub-merchant id (特约商户号) at the provider"`
	SecretsSet      SecretsSet  `json:"secrets_set"`
	OrderSettings
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PayMode is how a shop takes WeChat Pay payments.
type PayMode string

const (
	PayDirect  PayMode = "direct"  // its own merchant account and keys
	PayPartner PayMode = "partner" // a sub-merchant of a service provider (服务商), with the provider's keys
)

// EnumValues lists the pay modes for the API document.
func (PayMode) EnumValues() []string { return []string{string(PayDirect), string(PayPartner)} }

// Partner reports whether the shop takes payments as a service provider's
// sub-merchant.
func (s Shop) Partner() bool { return s.PayMode == PayPartner }

// OrderSettings are a shop's rules for orders.
type OrderSettings struct {
	UnpaidCancelMinutes int64 `json:"unpaid_cancel_minutes" doc:"an unpaid order is cancelled after this many minutes (1 to 1440, default 15)"`
	ShippingFee         int64 `json:"shipping_fee" doc:"fen per order"`
	FreeShippingOver    int64 `json:"free_shipping_over" doc:"fen; goods worth at least this ship free (0 = never)"`
}

func validateOrderSettings(v *errs.Validator, o OrderSettings) {
	v.Check(o.UnpaidCancelMinutes >= 1 && o.UnpaidCancelMinutes <= 1440, "unpaid_cancel_minutes", "must be 1 to 1440")
	v.Check(o.ShippingFee >= 0 && o.ShippingFee <= 1_000_000, "shipping_fee", "must be 0 to 1,000,000 fen")
	v.Check(o.FreeShippingOver >= 0 && o.FreeShippingOver <= 100_000_000, "free_shipping_over", "must be 0 to 100,000,000 fen")
}

// SecretsSet says which secrets are configured, without showing them.
type SecretsSet struct {
	AppSecret     bool `json:"app_secret"`
	MchPrivateKey bool `json:"mch_private_key"`
	APIv3Key      bool `json:"apiv3_key"`
	PlatformCert  bool `json:"platform_cert"`
	PayPublicKey  bool `json:"pay_public_key"`
	PushToken     bool `json:"push_token"`
	PushAESKey    bool `json:"push_aes_key"`
}

// Secrets are a shop's credentials, in clear, for server-side use only.
// They have no JSON tags on purpose and a String method that hides them.
type Secrets struct {
	AppSecret     string
	MchPrivateKey string
	APIv3Key      string
	PlatformCert  string
	PayPublicKey  string
	PushToken     string
	PushAESKey    string
}

// String keeps secrets out of logs and error messages.
func (Secrets) String() string { return "[secrets hidden]" }

// GoString keeps secrets out of %#v.
func (Secrets) GoString() string { return "[secrets hidden]" }

// CanSellGoods is WeChat's gate on publishing goods.
func (s Shop) CanSellGoods() error {
	if s.SubjectType == Personal {
		return errs.E(errs.Forbidden, "subject_cannot_sell", "a personal mini program cannot publish goods; the shop needs an individual-business or enterprise subject")
	}
	return nil
}

// CanTakePayments is WeChat's gate on WeChat Pay.
func (s Shop) CanTakePayments() error {
	if s.SubjectType == Personal {
		return errs.E(errs.Forbidden, "subject_cannot_pay", "a personal mini program cannot take payments")
	}
	return nil
}

// CanPublishInCategory adds the brand gate: individual businesses need a
// verified brand authorization for categories that demand one.
func (s Shop) CanPublishInCategory(needsBrandAuth bool) error {
	if err := s.CanSellGoods(); err != nil {
		return err
	}
	if needsBrandAuth && s.SubjectType == Individual && !s.BrandAuthorized {
		return errs.E(errs.Forbidden, "brand_authorization_required", "this category needs a brand authorization, which an individual business must have verified first")
	}
	return nil
}

var (
	appIDPattern  = regexp.MustCompile(`^wx[0-9a-f]{16}$`)
	mchIDPattern  = regexp.MustCompile(`^[0-9]{8,12}$`)
	serialPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8,64}$`)

	pushTokenPattern  = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)
	pushAESKeyPattern = regexp.MustCompile(`^[A-Za-z0-9]{43}$`)
)

// ValidSubject reports whether t is a known subject type.
func ValidSubject(t SubjectType) bool {
	return t == Personal || t == Individual || t == Enterprise
}

func validName(v *errs.Validator, name string) {
	n := len([]rune(strings.TrimSpace(name)))
	v.Check(n >= 1 && n <= 60, "name", "must be 1 to 60 characters")
}

func validateSecrets(v *errs.Validator, s *SecretsInput) {
	if s == nil {
		return
	}
	if s.AppSecret != nil && *s.AppSecret != "" {
		v.Check(len(*s.AppSecret) >= 16 && len(*s.AppSecret) <= 64, "app_secret", "must be 16 to 64 characters")
	}
	if s.APIv3Key != nil && *s.APIv3Key != "" {
		v.Check(len(*s.APIv3Key) == 32, "apiv3_key", "must be exactly 32 bytes")
	}
	if s.MchPrivateKey != nil && *s.MchPrivateKey != "" {
		v.Check(parsesAs(*s.MchPrivateKey, "PRIVATE KEY"), "mch_private_key", "must be a PEM RSA private key")
	}
	if s.PlatformCert != nil && *s.PlatformCert != "" {
		v.Check(parsesAs(*s.PlatformCert, "CERTIFICATE"), "platform_cert", "must be a PEM certificate")
	}
	if s.PushToken != nil && *s.PushToken != "" {
		v.Check(pushTokenPattern.MatchString(*s.PushToken), "push_token", "must be 3 to 32 letters or digits, as in the mini program's message-push settings")
	}
	if s.PushAESKey != nil && *s.PushAESKey != "" {
		v.Check(pushAESKeyPattern.MatchString(*s.PushAESKey), "push_aes_key", "must be the 43 letters and digits of the EncodingAESKey")
	}
	if s.PayPublicKey != nil && *s.PayPublicKey != "" {
		v.Check(parsesAs(*s.PayPublicKey, "PUBLIC KEY"), "pay_public_key", "must be a PEM public key")
	}
}

// parsesAs reports whether text is PEM of the given kind that Go can parse.
func parsesAs(text, kind string) bool {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return false
	}
	var err error
	switch kind {
	case "PRIVATE KEY":
		if _, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
			_, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		}
	case "CERTIFICATE":
		_, err = x509.ParseCertificate(block.Bytes)
	case "PUBLIC KEY":
		_, err = x509.ParsePKIXPublicKey(block.Bytes)
	}
	return err == nil
}
