package paysandbox_test

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// downloadedCert is one certificate of GET /v3/certificates as an
// independent client reads it.
type downloadedCert struct {
	serial           string
	effective, until time.Time
	cert             *x509.Certificate
}

// downloadCertificates calls GET /v3/certificates with a hand-rolled
// signature and reads the answer the way WeChat documents it: each entry
// decrypted with the APIv3 key (AES-256-GCM, nonce and associated data as
// given), its serial_no and validity checked against the certificate
// inside, and the response signature verified with the listed certificate
// that Wechatpay-Serial names.
func (e *env) downloadCertificates(t *testing.T) (signer string, certs []downloadedCert) {
	t.Helper()
	resp, body := e.call(t, "GET", "/v3/certificates", "", signing{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v3/certificates: HTTP %d %s", resp.StatusCode, body)
	}
	var out struct {
		Data []struct {
			SerialNo           string `json:"serial_no"`
			EffectiveTime      string `json:"effective_time"`
			ExpireTime         string `json:"expire_time"`
			EncryptCertificate struct {
				Algorithm      string `json:"algorithm"`
				Nonce          string `json:"nonce"`
				AssociatedData string `json:"associated_data"`
				Ciphertext     string `json:"ciphertext"`
			} `json:"encrypt_certificate"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("body: %v: %s", err, body)
	}
	block, _ := aes.NewCipher([]byte(e.creds.APIv3Key))
	gcm, _ := cipher.NewGCM(block)
	for _, d := range out.Data {
		enc := d.EncryptCertificate
		if enc.Algorithm != "AEAD_AES_256_GCM" || enc.AssociatedData != "certificate" || len(enc.Nonce) != 12 {
			t.Fatalf("encrypt_certificate = %+v", enc)
		}
		sealed, err := base64.StdEncoding.DecodeString(enc.Ciphertext)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := gcm.Open(nil, []byte(enc.Nonce), sealed, []byte(enc.AssociatedData))
		if err != nil {
			t.Fatalf("decrypt with the APIv3 key: %v", err)
		}
		pb, _ := pem.Decode(plain)
		if pb == nil || pb.Type != "CERTIFICATE" {
			t.Fatalf("decrypted certificate is not a PEM certificate: %q", plain)
		}
		cert, err := x509.ParseCertificate(pb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%X", cert.SerialNumber.Bytes()); got != d.SerialNo {
			t.Fatalf("serial_no %s, certificate serial %s", d.SerialNo, got)
		}
		eff, err1 := time.Parse(time.RFC3339, d.EffectiveTime)
		exp, err2 := time.Parse(time.RFC3339, d.ExpireTime)
		if err1 != nil || err2 != nil || !eff.Equal(cert.NotBefore) || !exp.Equal(cert.NotAfter) {
			t.Fatalf("effective %s / expire %s, certificate %s … %s", d.EffectiveTime, d.ExpireTime, cert.NotBefore, cert.NotAfter)
		}
		if _, offset := eff.Zone(); offset != 8*3600 {
			t.Fatalf("effective_time %s is not in China time", d.EffectiveTime)
		}
		certs = append(certs, downloadedCert{serial: d.SerialNo, effective: eff, until: exp, cert: cert})
	}
	signer = resp.Header.Get("Wechatpay-Serial")
	ts, _ := strconv.ParseInt(resp.Header.Get("Wechatpay-Timestamp"), 10, 64)
	if d := e.clock.Now().Sub(time.Unix(ts, 0)).Abs(); d > time.Minute || resp.Header.Get("Wechatpay-Nonce") == "" ||
		resp.Header.Get("Wechatpay-Signature-Type") != "WECHATPAY2-SHA256-RSA2048" {
		t.Fatalf("signature headers: %v", resp.Header)
	}
	msg := resp.Header.Get("Wechatpay-Timestamp") + "\n" + resp.Header.Get("Wechatpay-Nonce") + "\n" + string(body) + "\n"
	digest := sha256.Sum256([]byte(msg))
	sig, _ := base64.StdEncoding.DecodeString(resp.Header.Get("Wechatpay-Signature"))
	for _, c := range certs {
		if c.serial == signer {
			if err := rsa.VerifyPKCS1v15(c.cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
				t.Fatalf("response signature by %s: %v", signer, err)
			}
			return signer, certs
		}
	}
	t.Fatalf("Wechatpay-Serial %s names none of the listed certificates", signer)
	return "", nil
}

func TestCertificatesAsAnIndependentClientReadsThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	signer, certs := e.downloadCertificates(t)
	if len(certs) != 1 || signer != e.creds.Platform.CertSerial || certs[0].serial != signer {
		t.Fatalf("signer %s, certificates %+v; want the one platform certificate %s", signer, certs, e.creds.Platform.CertSerial)
	}
	if pemOf(certs[0].cert) != e.creds.Platform.CertificatePEM {
		t.Fatal("the downloaded certificate differs from the platform certificate")
	}

	var rotated paysandbox.Platform
	if st := e.control(t, "rotate-platform-cert", struct{}{}, &rotated); st != 200 || rotated.CertSerial == signer {
		t.Fatalf("rotate: HTTP %d, %+v", st, rotated)
	}
	signer, certs = e.downloadCertificates(t)
	if signer != rotated.CertSerial || len(certs) != 2 || certs[0].serial != rotated.CertSerial ||
		certs[1].serial != e.creds.Platform.CertSerial {
		t.Fatalf("after rotation: signer %s, certificates %v %v", signer, certs[0].serial, certs[len(certs)-1].serial)
	}
	// Other responses are signed with the new certificate too.
	resp, body := e.call(t, "GET", "/v3/pay/transactions/out-trade-no/NONE?mchid="+e.creds.MchID, "", signing{})
	if resp.Header.Get("Wechatpay-Serial") != rotated.CertSerial {
		t.Fatalf("after rotation a response is signed by %s (%s)", resp.Header.Get("Wechatpay-Serial"), body)
	}
}

func TestCertificatesInPublicKeyModeAreStillListed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, paysandbox.WithKeyMode(paysandbox.KeyModePublicKey))
	resp, body := e.call(t, "GET", "/v3/certificates", "", signing{})
	if resp.StatusCode != 200 || resp.Header.Get("Wechatpay-Serial") != e.creds.Platform.PublicKeyID {
		t.Fatalf("HTTP %d signed by %s: %s", resp.StatusCode, resp.Header.Get("Wechatpay-Serial"), body)
	}
}

func TestCertificatesNeedASignedRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := e.call(t, "GET", "/v3/certificates", "", signing{omit: true})
	wantCode(t, resp, body, http.StatusUnauthorized, "SIGN_ERROR")
}

func pemOf(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
