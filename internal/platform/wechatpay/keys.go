package wechatpay

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
)

const (
	apiV3KeySize = 32
	minKeyBits   = 2048
)

// Merchant holds a WeChat Pay merchant's credentials. String and GoString
// leave the keys out, so a Merchant is safe to log.
type Merchant struct {
	MchID, AppID string
	CertSerial   string          // serial of the merchant API certificate (see CertSerial)
	PrivateKey   *rsa.PrivateKey // merchant API private key (apiclient_key.pem)
	APIv3Key     []byte          // 32 bytes; decrypts notifications

	// Service-provider (服务商) mode: MchID and AppID are then the
	// provider's sp_mchid and sp_appid and every key is the provider's.
	// SubMchID is the sub-merchant the client acts for; SubAppID is the
	// sub-merchant's own mini program (bound to SubMchID at WeChat), empty
	// when buyers pay in the provider's mini program (sp_appid).
	SubMchID, SubAppID string
}

// Partner reports whether m acts for a sub-merchant (service-provider mode).
func (m Merchant) Partner() bool { return m.SubMchID != "" }

// PayingAppID is the mini program the buyer pays in: the sub-merchant's
// own (sub_appid) if set, else AppID.
func (m Merchant) PayingAppID() string {
	if m.SubAppID != "" {
		return m.SubAppID
	}
	return m.AppID
}

// Validate reports the first missing or malformed credential, naming the
// field but never its value.
func (m Merchant) Validate() error {
	switch {
	case m.MchID == "":
		return errors.New("wechatpay: merchant: mchid is empty")
	case m.AppID == "":
		return errors.New("wechatpay: merchant: appid is empty")
	case m.CertSerial == "":
		return errors.New("wechatpay: merchant: certificate serial is empty")
	case m.PrivateKey == nil:
		return errors.New("wechatpay: merchant: private key is missing")
	case m.PrivateKey.N.BitLen() < minKeyBits:
		return fmt.Errorf("wechatpay: merchant: private key has %d bits, want at least %d", m.PrivateKey.N.BitLen(), minKeyBits)
	case len(m.APIv3Key) != apiV3KeySize:
		return fmt.Errorf("wechatpay: merchant: APIv3 key has %d bytes, want %d", len(m.APIv3Key), apiV3KeySize)
	case m.SubAppID != "" && m.SubMchID == "":
		return errors.New("wechatpay: merchant: sub_appid without sub_mchid")
	}
	return nil
}

// String describes m without its keys.
func (m Merchant) String() string {
	return fmt.Sprintf("wechatpay.Merchant{MchID:%q AppID:%q SubMchID:%q SubAppID:%q CertSerial:%q PrivateKey:%s APIv3Key:%s}",
		m.MchID, m.AppID, m.SubMchID, m.SubAppID, m.CertSerial, present(m.PrivateKey != nil), present(len(m.APIv3Key) > 0))
}

// GoString is String, so %#v does not print the keys either.
func (m Merchant) GoString() string { return m.String() }

func present(ok bool) string {
	if ok {
		return "[set]"
	}
	return "[missing]"
}

// ParsePrivateKey parses an RSA private key in PEM, PKCS#8 ("PRIVATE KEY",
// as in apiclient_key.pem) or PKCS#1 ("RSA PRIVATE KEY"). Its errors never
// quote the input.
func ParsePrivateKey(pemText string) (*rsa.PrivateKey, error) {
	block, err := findPEM(pemText, "PRIVATE KEY", "RSA PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	if key, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("wechatpay: private key is not an RSA key")
		}
		return rsaKey, nil
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("wechatpay: private key is neither PKCS#8 nor PKCS#1 RSA")
	}
	return key, nil
}

// ParseCertificate parses a PEM certificate with an RSA key: a platform
// certificate, or the merchant's apiclient_cert.pem.
func ParseCertificate(pemText string) (*x509.Certificate, error) {
	block, err := findPEM(pemText, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: certificate: %w", err)
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, errors.New("wechatpay: certificate key is not RSA")
	}
	return cert, nil
}

// ParsePublicKey parses an RSA public key in PEM, PKIX ("PUBLIC KEY", as
// WeChat Pay public keys are issued) or PKCS#1 ("RSA PUBLIC KEY").
func ParsePublicKey(pemText string) (*rsa.PublicKey, error) {
	block, err := findPEM(pemText, "PUBLIC KEY", "RSA PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	if block.Type == "RSA PUBLIC KEY" {
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("wechatpay: public key: %w", err)
		}
		return key, nil
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: public key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("wechatpay: public key is not RSA")
	}
	return rsaKey, nil
}

// CertSerial returns a certificate's serial number the way WeChat writes
// it (upper-case hex, as in Wechatpay-Serial and serial_no).
func CertSerial(cert *x509.Certificate) string {
	return fmt.Sprintf("%X", cert.SerialNumber.Bytes())
}

// findPEM returns the first PEM block of one of the given types.
func findPEM(text string, types ...string) (*pem.Block, error) {
	rest := []byte(text)
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("wechatpay: no %q PEM block found", types[0])
		}
		if slices.Contains(types, block.Type) {
			return block, nil
		}
		rest = next
	}
}
