package wechatpay

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// publicKeyIDPrefix starts the Wechatpay-Serial of WeChat Pay public keys.
const publicKeyIDPrefix = "PUB_KEY_ID_"

// PlatformCertificate is a WeChat Pay platform certificate as downloaded
// from GET /v3/certificates.
type PlatformCertificate struct {
	Serial        string // upper-case hex, as in Wechatpay-Serial
	EffectiveTime time.Time
	ExpireTime    time.Time
	PEM           string
	Cert          *x509.Certificate
}

type certificatesResponse struct {
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

// DownloadCertificates fetches the platform certificates (GET
// /v3/certificates). Each certificate is decrypted with the APIv3 key
// (AEAD_AES_256_GCM) and must carry the serial it is listed under. The
// response signature is checked with the keys the client trusts or, when
// it names a serial the client does not know yet (first download, or a
// rotation), with the downloaded certificate of that serial, as WeChat
// documents for bootstrapping: what authenticates the certificates then is
// the AES-GCM seal under the APIv3 key, which only WeChat and the merchant
// hold. The refresher is never called from here.
func (c *Client) DownloadCertificates(ctx context.Context) ([]PlatformCertificate, error) {
	cl := call{method: http.MethodGet, path: "/v3/certificates"}
	resp, body, err := c.send(ctx, cl, maxResponseBytes)
	if err != nil {
		return nil, err
	}
	var out certificatesResponse
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, cl.errorf("decode response: %w", err)
	}
	certs := make([]PlatformCertificate, 0, len(out.Data))
	for _, d := range out.Data {
		enc := d.EncryptCertificate
		plain, err := decryptResource(c.m.APIv3Key, resource{Algorithm: enc.Algorithm, Nonce: enc.Nonce,
			AssociatedData: enc.AssociatedData, Ciphertext: enc.Ciphertext})
		if err != nil {
			return nil, cl.errorf("certificate %.64q: %w", d.SerialNo, err)
		}
		pc, err := platformCertificate(d.SerialNo, string(plain))
		if err != nil {
			return nil, cl.errorf("%w", err)
		}
		certs = append(certs, pc)
	}
	if len(certs) == 0 {
		return nil, cl.errorf("%w: no certificate in the answer", ErrMalformed)
	}
	if err := c.verifyDownload(resp.Header, body, certs); err != nil {
		return nil, cl.errorf("response: %w", err)
	}
	return certs, nil
}

// verifyDownload checks the signature of a certificates answer.
func (c *Client) verifyDownload(h http.Header, body []byte, certs []PlatformCertificate) error {
	err := c.Verifier().Verify(h, body, c.now())
	if c.Verifier() != nil && !errors.Is(err, ErrUnknownSerial) {
		return err
	}
	return NewVerifier(x509Certs(certs), "", nil).Verify(h, body, c.now())
}

// platformCertificate parses a downloaded certificate and checks that it
// is the one listed under serial.
func platformCertificate(serial, pemText string) (PlatformCertificate, error) {
	cert, err := ParseCertificate(pemText)
	if err != nil {
		return PlatformCertificate{}, fmt.Errorf("certificate %.64q: %w", serial, err)
	}
	if got := CertSerial(cert); got != strings.ToUpper(serial) {
		return PlatformCertificate{}, fmt.Errorf("%w: certificate listed as %.64q has serial %s", ErrMalformed, serial, got)
	}
	return PlatformCertificate{Serial: CertSerial(cert), EffectiveTime: cert.NotBefore, ExpireTime: cert.NotAfter,
		PEM: pemText, Cert: cert}, nil
}

func x509Certs(pcs []PlatformCertificate) []*x509.Certificate {
	out := make([]*x509.Certificate, len(pcs))
	for i, pc := range pcs {
		out[i] = pc.Cert
	}
	return out
}
