package paysandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

const (
	keyBits      = 2048
	apiV3KeySize = 32
	certLifetime = 5 * 365 * 24 * time.Hour
)

// platformKeys are WeChat's side of the signatures; fixed for a Sandbox.
type platformKeys struct {
	certKey    *rsa.PrivateKey
	certSerial string
	certPEM    string
	pubKey     *rsa.PrivateKey
	pubKeyID   string
	pubKeyPEM  string
}

func newPlatformKeys(now time.Time) (*platformKeys, error) {
	certKey, certPEM, serial, err := newKeyAndCert("Tenpay.com Root CA sandbox platform", now)
	if err != nil {
		return nil, err
	}
	pubKey, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("paysandbox: generate public key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&pubKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("paysandbox: encode public key: %w", err)
	}
	return &platformKeys{
		certKey: certKey, certSerial: serial, certPEM: certPEM,
		pubKey: pubKey, pubKeyID: "PUB_KEY_ID_" + randomDigits(30),
		pubKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}, nil
}

// signer returns the key that signs in mode and its Wechatpay-Serial.
func (p *platformKeys) signer(mode KeyMode) (*rsa.PrivateKey, string) {
	if mode == KeyModePublicKey {
		return p.pubKey, p.pubKeyID
	}
	return p.certKey, p.certSerial
}

// newKeyAndCert makes an RSA key and a self-signed certificate for it,
// valid from an hour before now for five years; serial is upper-case hex
// as WeChat writes it.
func newKeyAndCert(commonName string, now time.Time) (key *rsa.PrivateKey, certPEM, serial string, err error) {
	key, err = rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, "", "", fmt.Errorf("paysandbox: generate key: %w", err)
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		return nil, "", "", fmt.Errorf("paysandbox: serial: %w", err)
	}
	sn.SetBit(sn, 156, 1) // 20 bytes, so always 40 hex digits
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"kaidian paysandbox"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", "", fmt.Errorf("paysandbox: create certificate: %w", err)
	}
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return key, certPEM, fmt.Sprintf("%X", sn.Bytes()), nil
}

// Platform is what a merchant needs to verify WeChat's signatures, in
// either key mode.
type Platform struct {
	KeyMode        KeyMode `json:"key_mode"` // the mode signing now
	CertSerial     string  `json:"cert_serial"`
	CertificatePEM string  `json:"certificate_pem"`
	PublicKeyID    string  `json:"public_key_id"`
	PublicKeyPEM   string  `json:"public_key_pem"`
}

// Platform returns the platform certificate and public key.
func (s *Sandbox) Platform() Platform {
	return Platform{
		KeyMode:    s.keyMode(),
		CertSerial: s.keys.certSerial, CertificatePEM: s.keys.certPEM,
		PublicKeyID: s.keys.pubKeyID, PublicKeyPEM: s.keys.pubKeyPEM,
	}
}

// merchant is a registered merchant account.
type merchant struct {
	mchid, appid string
	serial       string
	pub          *rsa.PublicKey
	apiV3Key     []byte
}

// MerchantConfig registers a merchant whose private key the caller holds.
type MerchantConfig struct {
	MchID, AppID string
	CertSerial   string         // serial_no the merchant signs with
	PublicKey    *rsa.PublicKey // the merchant certificate's key
	APIv3Key     []byte         // 32 bytes; seals notifications
}

// AddMerchant registers a merchant, replacing one with the same mchid.
func (s *Sandbox) AddMerchant(m MerchantConfig) error {
	switch {
	case m.MchID == "" || m.AppID == "" || m.CertSerial == "":
		return errors.New("paysandbox: merchant needs mchid, appid and certificate serial")
	case m.PublicKey == nil:
		return errors.New("paysandbox: merchant needs a public key")
	case len(m.APIv3Key) != apiV3KeySize:
		return fmt.Errorf("paysandbox: APIv3 key must have %d bytes", apiV3KeySize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.merchants[m.MchID] = &merchant{
		mchid: m.MchID, appid: m.AppID, serial: m.CertSerial, pub: m.PublicKey,
		apiV3Key: append([]byte(nil), m.APIv3Key...),
	}
	return nil
}

// Credentials is everything a shop needs to talk to the sandbox as a
// merchant: its own keys and the platform's.
type Credentials struct {
	MchID          string   `json:"mchid"`
	AppID          string   `json:"appid"`
	CertSerial     string   `json:"cert_serial"`
	PrivateKeyPEM  string   `json:"private_key_pem"` // PKCS#8, like apiclient_key.pem
	CertificatePEM string   `json:"certificate_pem"` // like apiclient_cert.pem
	APIv3Key       string   `json:"apiv3_key"`       // 32 ASCII characters
	Platform       Platform `json:"platform"`
}

// NewMerchant generates a merchant (RSA key, self-signed certificate,
// APIv3 key), registers it and returns its credentials. Empty mchid or
// appid are generated.
func (s *Sandbox) NewMerchant(mchid, appid string) (Credentials, error) {
	if mchid == "" {
		mchid = "19" + randomDigits(8)
	}
	if appid == "" {
		appid = "wx" + randomHex(8)
	}
	key, certPEM, serial, err := newKeyAndCert(mchid, s.now())
	if err != nil {
		return Credentials{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Credentials{}, fmt.Errorf("paysandbox: encode merchant key: %w", err)
	}
	apiV3Key := randomString(apiV3KeySize)
	cfg := MerchantConfig{MchID: mchid, AppID: appid, CertSerial: serial, PublicKey: &key.PublicKey, APIv3Key: []byte(apiV3Key)}
	if err := s.AddMerchant(cfg); err != nil {
		return Credentials{}, err
	}
	return Credentials{
		MchID: mchid, AppID: appid, CertSerial: serial,
		PrivateKeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		CertificatePEM: certPEM, APIv3Key: apiV3Key, Platform: s.Platform(),
	}, nil
}
