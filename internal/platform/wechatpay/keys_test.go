package wechatpay_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechatpay"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

func sandboxCreds(t *testing.T) paysandbox.Credentials {
	t.Helper()
	sb, err := paysandbox.New()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := sb.NewMerchant("", "")
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	creds := sandboxCreds(t)
	pkcs8, err := wechatpay.ParsePrivateKey(creds.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1PEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(pkcs8)}))
	pkcs1, err := wechatpay.ParsePrivateKey("junk before\n" + pkcs1PEM)
	if err != nil || !pkcs1.Equal(pkcs8) {
		t.Fatalf("PKCS#1: %v", err)
	}

	cert, err := wechatpay.ParseCertificate(creds.CertificatePEM)
	if err != nil {
		t.Fatal(err)
	}
	if got := wechatpay.CertSerial(cert); got != creds.CertSerial || len(got) != 40 {
		t.Fatalf("CertSerial = %s, want %s", got, creds.CertSerial)
	}
	if !pkcs8.PublicKey.Equal(cert.PublicKey) {
		t.Fatal("certificate does not hold the merchant key")
	}

	pkix, err := wechatpay.ParsePublicKey(creds.Platform.PublicKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pkix)}))
	if pub, err := wechatpay.ParsePublicKey(rsaPubPEM); err != nil || !pub.Equal(pkix) {
		t.Fatalf("PKCS#1 public key: %v", err)
	}
}

func TestParseKeysRejects(t *testing.T) {
	t.Parallel()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	ecPubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPubDER}))
	garbage := "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	for name, fn := range map[string]func() error{
		"EC private key":      func() error { _, err := wechatpay.ParsePrivateKey(ecPEM); return err },
		"EC public key":       func() error { _, err := wechatpay.ParsePublicKey(ecPubPEM); return err },
		"garbage private key": func() error { _, err := wechatpay.ParsePrivateKey(garbage); return err },
		"no PEM":              func() error { _, err := wechatpay.ParsePrivateKey("not a key"); return err },
		"certificate as key":  func() error { _, err := wechatpay.ParsePublicKey(ecPEM); return err },
		"key as certificate":  func() error { _, err := wechatpay.ParseCertificate(ecPubPEM); return err },
		"truncated public key": func() error {
			_, err := wechatpay.ParsePublicKey(strings.Replace(ecPubPEM, "PUBLIC KEY", "RSA PUBLIC KEY", 2))
			return err
		},
	} {
		if err := fn(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMerchantValidate(t *testing.T) {
	t.Parallel()
	creds := sandboxCreds(t)
	key, _ := wechatpay.ParsePrivateKey(creds.PrivateKeyPEM)
	good := wechatpay.Merchant{MchID: creds.MchID, AppID: creds.AppID, CertSerial: creds.CertSerial, PrivateKey: key, APIv3Key: []byte(creds.APIv3Key)}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*wechatpay.Merchant){
		"no mchid":      func(m *wechatpay.Merchant) { m.MchID = "" },
		"no appid":      func(m *wechatpay.Merchant) { m.AppID = "" },
		"no serial":     func(m *wechatpay.Merchant) { m.CertSerial = "" },
		"no key":        func(m *wechatpay.Merchant) { m.PrivateKey = nil },
		"short APIv3":   func(m *wechatpay.Merchant) { m.APIv3Key = m.APIv3Key[:31] },
		"missing APIv3": func(m *wechatpay.Merchant) { m.APIv3Key = nil },
	} {
		m := good
		mutate(&m)
		if err := m.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %v", name, m)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v %s", good, good, good, good); !strings.Contains(s, creds.MchID) {
		t.Fatalf("Merchant prints as %s", s)
	}
}
