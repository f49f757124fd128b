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
	"sync"
	"time"
)

const (
	keyBits      = 2048
	apiV3KeySize = 32
	certLifetime = 5 * 365 * 24 * time.Hour
)

// platformKeys are WeChat's side of the signatures. The public key is
// fixed for a Sandbox; the platform certificate can be rotated
// (RotatePlatformCertificate), and the certificates it replaced stay
// listed by GET /v3/certificates until they expire, as at WeChat.
type platformKeys struct {
	mu        sync.RWMutex
	cert      platformCert   // signs in KeyModeCertificate
	retired   []platformCert // older certificates, still valid
	pubKey    *rsa.PrivateKey
	pubKeyID  string
	pubKeyPEM string
}

// platformCert is one platform certificate and its private key.
type platformCert struct {
	key                 *rsa.PrivateKey
	serial, pem         string
	notBefore, notAfter time.Time
}

func newPlatformKeys(now time.Time) (*platformKeys, error) {
	cert, err := newPlatformCert(now)
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
		cert:   cert,
		pubKey: pubKey, pubKeyID: "PUB_KEY_ID_" + randomDigits(30),
		pubKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}, nil
}

func newPlatformCert(now time.Time) (platformCert, error) {
	key, certPEM, serial, err := newKeyAndCert("Tenpay.com Root CA sandbox platform", now)
	if err != nil {
		return platformCert{}, err
	}
	block, _ := pem.Decode([]byte(certPEM))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return platformCert{}, fmt.Errorf("paysandbox: parse platform certificate: %w", err)
	}
	return platformCert{key: key, serial: serial, pem: certPEM, notBefore: cert.NotBefore, notAfter: cert.NotAfter}, nil
}

// signer returns the key that signs in mode and its Wechatpay-Serial.
func (p *platformKeys) signer(mode KeyMode) (*rsa.PrivateKey, string) {
	if mode == KeyModePublicKey {
		return p.pubKey, p.pubKeyID
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cert.key, p.cert.serial
}

// current returns the certificate that signs in KeyModeCertificate.
func (p *platformKeys) current() platformCert {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cert
}

// listed returns the certificates GET /v3/certificates lists at now: the
// current one and the retired ones not yet expired, newest first.
func (p *platformKeys) listed(now time.Time) []platformCert {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := []platformCert{p.cert}
	for i := len(p.retired) - 1; i >= 0; i-- {
		if now.Before(p.retired[i].notAfter) {
			out = append(out, p.retired[i])
		}
	}
	return out
}

// rotate makes next the signing certificate and retires the current one.
func (p *platformKeys) rotate(next platformCert) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retired = append(p.retired, p.cert)
	p.cert = next
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
	cert := s.keys.current()
	return Platform{
		KeyMode:    s.keyMode(),
		CertSerial: cert.serial, CertificatePEM: cert.pem,
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
